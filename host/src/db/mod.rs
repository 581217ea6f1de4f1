//! PostgreSQL access: connection settings and TLS, the project's throwaway local cluster, the
//! migration advisory lock, and what other sessions on the server are doing.

pub mod activity;
pub mod cluster;
pub mod connect;
pub mod lock;
pub mod run;
pub mod script;
pub mod session;

pub use connect::{ConnectionSpec, TlsMode, cancel};

/// The first column of the first row of a simple query's answer.
pub fn first_value(messages: &[tokio_postgres::SimpleQueryMessage]) -> Option<String> {
    messages.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
        _ => None,
    })
}
