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

use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};

use serde::Serialize;
use tokio_postgres::error::DbError;

/// The process exit codes: the upstream Python Confiture's numbers (0–8) for the same
/// situations, except where Confiture tells two situations apart that upstream merges; the
/// `upstream` [`Convention`] gives upstream's number there too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitCode {
    /// Everything went as asked.
    Ok,
    /// A generic failure (drift was found, a check failed, ...).
    Failure,
    /// A migration failed and was rolled back (upstream: 3, like a connection failure).
    MigrationFailed,
    /// `migrate status`: migrations are pending (upstream's signal, 1).
    Pending,
    /// The migrations tracking table does not exist yet.
    NoTrackingTable,
    /// The database could not be reached.
    Connection,
    /// The schema could not be built.
    Build,
    /// Bad configuration.
    Config,
    /// A command line that does not parse (upstream, through click: 2).
    Usage,
    /// Another run holds the migration lock.
    LockContention,
    /// A preflight check or a confirmation refused the operation.
    Refused,
    /// A rollback was asked for a migration that has no `.down.sql` (upstream: 3).
    Irreversible,
}

/// Which numbers the process exits with (`--exit-codes`, `CONFITURE_EXIT_CODES`; the help is
/// in `cli/values.rs`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Convention {
    /// Confiture's: a failed migration is 1, a missing .down.sql 8, a usage error 5.
    #[default]
    Confiture,
    /// The upstream Python Confiture 1.29's: a failed migration and a missing .down.sql are
    /// 3, a usage error 2; every other situation has the same number in both.
    Upstream,
}

static UPSTREAM_CONVENTION: AtomicBool = AtomicBool::new(false);

/// Chooses the convention for the rest of the process (set once, when the command line is
/// read).
pub fn set_convention(convention: Convention) {
    UPSTREAM_CONVENTION.store(convention == Convention::Upstream, AtomicOrdering::Relaxed);
}

impl ExitCode {
    /// The numeric code the process exits with, in the chosen [`Convention`].
    pub fn code(self) -> i32 {
        self.number(UPSTREAM_CONVENTION.load(AtomicOrdering::Relaxed))
    }

    /// The number in Confiture's convention, or in upstream's.
    fn number(self, upstream: bool) -> i32 {
        match self {
            ExitCode::Ok => 0,
            ExitCode::Failure | ExitCode::Pending => 1,
            ExitCode::MigrationFailed => {
                if upstream {
                    3
                } else {
                    1
                }
            }
            ExitCode::NoTrackingTable => 2,
            ExitCode::Connection => 3,
            ExitCode::Build => 4,
            ExitCode::Config => 5,
            ExitCode::Usage => {
                if upstream {
                    2
                } else {
                    5
                }
            }
            ExitCode::LockContention => 6,
            ExitCode::Refused => 7,
            ExitCode::Irreversible => {
                if upstream {
                    3
                } else {
                    8
                }
            }
        }
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

/// [`describe`] for the server's error itself, with the object it names (`OBJECT:`) when the
/// server sent one.
pub fn describe_db(db: &DbError) -> String {
    let mut text = format!("{} {}: {}", db.severity(), db.code().code(), db.message());
    if let Some(detail) = db.detail() {
        text.push_str(&format!("\n  DETAIL: {detail}"));
    }
    if let Some(hint) = db.hint() {
        text.push_str(&format!("\n  HINT: {hint}"));
    }
    if let Some(object) = object_of(db) {
        text.push_str(&format!("\n  OBJECT: {object}"));
    }
    text
}

/// The object a server error names, from its schema, table, column, data type and constraint
/// fields: `table public.users, column email, constraint users_email_key`.
pub fn object_of(db: &DbError) -> Option<String> {
    let relation = match (db.schema(), db.table()) {
        (Some(schema), Some(table)) => Some(format!("table {schema}.{table}")),
        (None, Some(table)) => Some(format!("table {table}")),
        (Some(schema), None) if db.datatype().is_none() => Some(format!("schema {schema}")),
        _ => None,
    };
    let datatype = db.datatype().map(|t| match db.schema() {
        Some(schema) => format!("type {schema}.{t}"),
        None => format!("type {t}"),
    });
    let parts: Vec<String> = [
        relation,
        db.column().map(|c| format!("column {c}")),
        datatype,
        db.constraint().map(|c| format!("constraint {c}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
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

    #[test]
    fn the_two_conventions_differ_only_where_documented() {
        let all = [
            ExitCode::Ok,
            ExitCode::Failure,
            ExitCode::MigrationFailed,
            ExitCode::Pending,
            ExitCode::NoTrackingTable,
            ExitCode::Connection,
            ExitCode::Build,
            ExitCode::Config,
            ExitCode::Usage,
            ExitCode::LockContention,
            ExitCode::Refused,
            ExitCode::Irreversible,
        ];
        let ours: Vec<i32> = all.iter().map(|c| c.number(false)).collect();
        let upstream: Vec<i32> = all.iter().map(|c| c.number(true)).collect();
        assert_eq!(ours, [0, 1, 1, 1, 2, 3, 4, 5, 5, 6, 7, 8]);
        assert_eq!(upstream, [0, 1, 3, 1, 2, 3, 4, 5, 2, 6, 7, 3]);
    }
}
