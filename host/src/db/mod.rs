//! PostgreSQL access: connection settings and TLS, the project's throwaway local cluster, the
//! migration advisory lock, and what other sessions on the server are doing.

pub mod activity;
pub mod cluster;
pub mod commands;
pub mod connect;
pub mod lock;
pub mod run;
pub mod script;
pub mod session;

pub use connect::{ConnectionSpec, TlsMode, cancel};
