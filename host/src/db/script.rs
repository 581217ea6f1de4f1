//! Runs a SQL file statement by statement and locates a failure in the file.

use std::fmt;

use serde::Serialize;
use tokio_postgres::GenericClient;
use tokio_postgres::error::ErrorPosition;

use crate::sql::split_statements;

/// SQLSTATE of `lock_not_available`, raised when `lock_timeout` expires.
pub const LOCK_NOT_AVAILABLE: &str = "55P03";

/// A statement of a SQL file failed: where, PostgreSQL's diagnostics, and what ran before.
#[derive(Debug, Clone, Serialize)]
pub struct ScriptError {
    /// The file, as shown to people (relative to the project root).
    pub file: String,
    /// 1-based line of the error in the file (PostgreSQL's error position when it gave one,
    /// else the failing statement's first line).
    pub line: usize,
    /// 1-based line where the failing statement starts.
    pub statement_line: usize,
    /// PostgreSQL's SQLSTATE (`None` when the failure did not come from the server).
    pub sqlstate: Option<String>,
    /// The error message.
    pub message: String,
    /// PostgreSQL's DETAIL, if any.
    pub detail: Option<String>,
    /// PostgreSQL's HINT, if any.
    pub hint: Option<String>,
    /// Lines of the statements that completed before the failure.
    pub ran: Vec<usize>,
    /// Lines of the statements after the failing one, which did not run.
    pub not_run: Vec<usize>,
}

impl ScriptError {
    /// True when the statement failed because `lock_timeout` expired (SQLSTATE 55P03).
    pub fn is_lock_timeout(&self) -> bool {
        self.sqlstate.as_deref() == Some(LOCK_NOT_AVAILABLE)
    }

    /// The error for a failure of the statement `text` that starts at `line` of `file`.
    pub fn from_postgres(file: &str, text: &str, line: usize, err: &tokio_postgres::Error) -> Self {
        let (sqlstate, message, detail, hint, error_line) = match err.as_db_error() {
            Some(db) => {
                let error_line = match db.position() {
                    Some(ErrorPosition::Original(position)) => {
                        line + lines_before_char(text, *position as usize)
                    }
                    _ => line,
                };
                (
                    Some(db.code().code().to_string()),
                    db.message().to_string(),
                    db.detail().map(str::to_string),
                    db.hint().map(str::to_string),
                    error_line,
                )
            }
            None => (None, err.to_string(), None, None, line),
        };
        ScriptError {
            file: file.to_string(),
            line: error_line,
            statement_line: line,
            sqlstate,
            message,
            detail,
            hint,
            ran: Vec::new(),
            not_run: Vec::new(),
        }
    }
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ERROR", self.file, self.line)?;
        if let Some(code) = &self.sqlstate {
            write!(f, " {code}")?;
        }
        write!(f, " {}", self.message)?;
        if let Some(detail) = &self.detail {
            write!(f, "\n  DETAIL: {detail}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  HINT: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScriptError {}

/// Newlines in `text` before its 1-based character `position` (PostgreSQL counts characters).
fn lines_before_char(text: &str, position: usize) -> usize {
    text.chars()
        .take(position.saturating_sub(1))
        .filter(|&c| c == '\n')
        .count()
}

/// Runs every statement of `sql` (the contents of `file`, as shown to people) in order on
/// `client`, each as its own simple query. Returns how many statements ran.
///
/// Runs inside whatever transaction `client` is (a `Transaction` or autocommit `Client`); on
/// the first failure it stops and returns the located error with the lines that did and did
/// not run.
pub async fn run_script(
    client: &impl GenericClient,
    file: &str,
    sql: &str,
) -> Result<usize, ScriptError> {
    let statements = split_statements(sql);
    for (index, statement) in statements.iter().enumerate() {
        if let Err(err) = client.batch_execute(statement.text).await {
            let mut error = ScriptError::from_postgres(file, statement.text, statement.line, &err);
            error.ran = statements[..index].iter().map(|s| s.line).collect();
            error.not_run = statements[index + 1..].iter().map(|s| s.line).collect();
            return Err(error);
        }
    }
    Ok(statements.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_counts_characters_not_bytes() {
        let text = "SELECT 'é'\n  FROM nope";
        let position = text.chars().position(|c| c == 'n').unwrap() + 1;
        assert_eq!(lines_before_char(text, position), 1);
        assert_eq!(lines_before_char(text, 1), 0);
    }

    #[test]
    fn display_reads_like_a_compiler_error() {
        let error = ScriptError {
            file: "db/migrations/002_x.up.sql".into(),
            line: 7,
            statement_line: 6,
            sqlstate: Some("42P01".into()),
            message: "relation \"nope\" does not exist".into(),
            detail: Some("d".into()),
            hint: Some("h".into()),
            ran: vec![1],
            not_run: vec![],
        };
        assert_eq!(
            error.to_string(),
            "db/migrations/002_x.up.sql:7: ERROR 42P01 relation \"nope\" does not exist\n  DETAIL: d\n  HINT: h"
        );
        assert!(!error.is_lock_timeout());
    }
}
