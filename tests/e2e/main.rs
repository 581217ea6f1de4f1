//! End-to-end tests: the real `confiture` binary against a real PostgreSQL cluster that the
//! suite starts itself (see `harness`).

mod harness;

mod build;
mod cli_basics;
mod config;
mod db_cluster;
mod init;
mod lint_config;
mod lint_output;
mod lint_pg_dump;
mod migrate_concurrency;
mod migrate_down;
mod migrate_failures;
mod migrate_status;
mod migrate_up;
mod sql_pg_dump;
mod tls;
