//! Exit codes and the typed failure that carries one through `anyhow` chains.
//!
//! Any error may be wrapped in `anyhow::Context`; `main` finds the innermost [`Failure`] in the
//! chain to choose the process exit code (1 when there is none).

use serde::Serialize;

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
