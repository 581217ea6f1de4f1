//! Confiture: a PostgreSQL schema tool — build from DDL, versioned migrations that never
//! half-apply, and (in later modules) sync, lint and a migration wizard, extended by sandboxed
//! WebAssembly plugins.
//!
//! Data flows one way: [`cli`] → [`project`] → a command's module → PostgreSQL ([`db`]).

pub mod anonymize;
pub mod cli;
pub mod db;
pub mod error;
pub mod hooks;
pub mod identity;
pub mod init;
pub mod lint;
pub mod migrate;
pub mod output;
pub mod parallel;
pub mod plugins;
pub mod project;
pub mod risk;
pub mod schema;
pub mod sql;
pub mod strings;
pub mod sync;
pub mod text;
pub mod wizard;
