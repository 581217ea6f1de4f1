//! End-to-end tests: the real `confiture` binary against a real PostgreSQL cluster that the
//! suite starts itself (see `harness`).

// Test helpers unwrap: a panic in a test is a failed test with its message.
#![allow(clippy::unwrap_used)]

mod harness;

mod build;
mod cli_basics;
mod config;
mod db_cluster;
mod docs_commands;
mod docs_recipes;
mod docs_workflows;
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
mod lint_safety;
mod migrate_concurrency;
mod migrate_down;
mod migrate_failures;
mod migrate_integrity;
mod migrate_status;
mod migrate_tracking;
mod migrate_up;
mod ops_connections;
mod plugins_cache;
mod plugins_db;
mod plugins_injection;
mod plugins_keys;
mod plugins_languages;
mod plugins_limits;
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
mod sync_integrity;
mod sync_support;
mod tls;
mod tls_url_values;
mod upstream;
mod wizard_lines;
mod wizard_team;
mod wizard_terminal;
mod wizard_tty;
