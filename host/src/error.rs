//! Exit codes and the typed failure that carries one through `anyhow` chains.
//!
//! Any error may be wrapped in `anyhow::Context`; `main` finds the innermost [`Failure`] in the
//! chain to choose the process exit code (1 when there is none).
//!
//! Errors from PostgreSQL are shown through one formatter, [`describe_db`]:
//! `tokio_postgres::Error` prints itself as a bare "db error" and keeps the server's message,
//! SQLSTATE, detail and hint in its source, so everything that shows an error to people walks
//! the chain with [`messages`] (or [`one_line`]) and gets `ERROR 42P01: relation "x" does not
//! exist` with its DETAIL and HINT lines.

use serde::Serialize;
use tokio_postgres::error::DbError;

/// The process exit codes, compatible with the upstream Python Confiture's contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitCode {
    /// Everything went as asked.
    Ok = 0,
    /// A generic failure (a migration failed, drift was found, ...).
    Failure = 1,
    /// The migrations tracking table does not exist yet.
    NoTrackingTable = 2,
    /// The database could not be reached.
    Connection = 3,
    /// The schema could not be built.
    Build = 4,
    /// Bad configuration or usage.
    Config = 5,
    /// Another run holds the migration lock.
    LockContention = 6,
    /// A preflight check or a confirmation refused the operation.
    Refused = 7,
    /// A rollback was asked for a migration that has no `.down.sql`.
    Irreversible = 8,
}

impl ExitCode {
    /// The numeric code the process exits with.
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// An error the user must act on: what happened, the exit code it maps to, and what to do.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// Exit code for the process.
    pub code: ExitCode,
    /// What went wrong, and where.
    pub message: String,
    /// What to do about it, when there is something to say.
    pub hint: Option<String>,
}

impl Failure {
    /// A failure with an exit code and a message.
    pub fn new(code: ExitCode, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds the "what to do" line.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Shorthand for a configuration or usage failure (exit code 5).
    pub fn config(message: impl Into<String>) -> Self {
        Failure::new(ExitCode::Config, message)
    }
}

/// The exit code an error maps to: the first [`Failure`] found in its chain, else 1.
pub fn exit_code_of(err: &anyhow::Error) -> ExitCode {
    failure_of(err).map_or(ExitCode::Failure, |f| f.code)
}

/// The first [`Failure`] in an error's chain, if any.
pub fn failure_of(err: &anyhow::Error) -> Option<&Failure> {
    err.chain().find_map(|e| e.downcast_ref::<Failure>())
}

/// A server error as one text: `<SEVERITY> <SQLSTATE>: <message>`, then `DETAIL:` and `HINT:`
/// lines when the server sent them. An error that is not the server's is shown as it is.
pub fn describe(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => describe_db(db),
        None => match std::error::Error::source(err) {
            Some(source) => format!("{err}: {source}"),
            None => err.to_string(),
        },
    }
}

/// [`describe`] for the server's error itself.
pub fn describe_db(db: &DbError) -> String {
    let mut text = format!("{} {}: {}", db.severity(), db.code().code(), db.message());
    if let Some(detail) = db.detail() {
        text.push_str(&format!("\n  DETAIL: {detail}"));
    }
    if let Some(hint) = db.hint() {
        text.push_str(&format!("\n  HINT: {hint}"));
    }
    text
}

/// The messages of an error chain, outermost first, with every PostgreSQL error rendered by
/// [`describe_db`] (its "db error" wrapper and the server error it carries become one message).
pub fn messages(err: &anyhow::Error) -> Vec<String> {
    let mut messages = Vec::new();
    let mut described = false;
    for cause in err.chain() {
        let wrapped = cause
            .downcast_ref::<tokio_postgres::Error>()
            .and_then(tokio_postgres::Error::as_db_error);
        let db = cause.downcast_ref::<DbError>();
        match (wrapped, db) {
            (Some(db), _) => messages.push(describe_db(db)),
            // The wrapper's source, already described.
            (None, Some(_)) if described => {}
            (None, Some(db)) => messages.push(describe_db(db)),
            (None, None) => messages.push(cause.to_string()),
        }
        described = wrapped.is_some();
    }
    messages
}

/// [`messages`] joined with `: `, the way `{:#}` joins an anyhow chain.
pub fn one_line(err: &anyhow::Error) -> String {
    messages(err).join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_errors_keep_their_messages() {
        let err = anyhow::anyhow!("inner").context("outer");
        assert_eq!(messages(&err), vec!["outer", "inner"]);
        assert_eq!(one_line(&err), "outer: inner");
    }
}
