//! End-to-end tests: the real `confiture` binary against a real PostgreSQL cluster that the
//! suite starts itself (see `harness`).

mod harness;

mod build;
mod cli_basics;
mod config;
mod db_cluster;
mod docs_commands;
mod docs_recipes;
mod examples;
mod hooks_db;
mod hooks_hostile;
mod hooks_lifecycle;
mod hooks_policies;
mod hooks_support;
mod init;
mod lint_config;
mod lint_output;
mod lint_pg_dump;
mod lint_plugins;
mod migrate_concurrency;
mod migrate_down;
mod migrate_failures;
mod migrate_status;
mod migrate_up;
mod plugins_db;
mod plugins_keys;
mod plugins_languages;
mod plugins_load;
mod plugins_new;
mod plugins_sandbox;
mod plugins_support;
mod plugins_versions;
mod pty;
mod risk_sizes;
mod sql_pg_dump;
mod sync_cli;
mod sync_engine;
mod sync_support;
mod tls;
mod wizard_lines;
mod wizard_team;
mod wizard_tty;
