//! Confiture: a PostgreSQL schema tool — build from DDL, versioned migrations that never
//! half-apply, and (in later modules) sync, lint and a migration wizard, extended by sandboxed
//! WebAssembly plugins.
//!
//! Imports point one way, down the layers of docs/architecture.md: [`cli`] → feature modules
//! ([`migrate`], [`lint`], [`sync`], …) → [`plugins`] → [`context`] → [`project`] → [`db`] →
//! [`risk`] → [`sql`] and the foundation ([`error`], [`strings`], [`text`], …); `cargo xtask
//! layers` checks it.

pub mod anonymize;
pub mod bridge;
pub mod cli;
pub mod context;
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
