//! The database a hook runs against, through the host: bound parameters, text values.

use std::fmt;

use crate::Error;

/// A query's result: column names and rows of values in PostgreSQL's text form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rows {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// One vector per row, one value per column; `None` is SQL NULL.
    pub values: Vec<Vec<Option<String>>>,
}

impl Rows {
    /// Rows with these columns and values (for test doubles).
    pub fn new<C: Into<String>>(
        columns: impl IntoIterator<Item = C>,
        values: Vec<Vec<Option<String>>>,
    ) -> Self {
        Self {
            columns: columns.into_iter().map(Into::into).collect(),
            values,
        }
    }

    /// One row of one column (for test doubles): `Rows::single("count", Some("3"))`.
    pub fn single(column: &str, value: Option<&str>) -> Self {
        Self::new([column], vec![vec![value.map(str::to_string)]])
    }

    /// The first column of the first row: `None` when there is no row or it is NULL.
    pub fn scalar(&self) -> Option<&str> {
        self.values.first()?.first()?.as_deref()
    }

    /// Value of column `name` in row `row`; `None` when NULL, absent or out of range.
    pub fn get(&self, row: usize, name: &str) -> Option<&str> {
        let column = self.columns.iter().position(|c| c == name)?;
        self.values.get(row)?.get(column)?.as_deref()
    }
}

/// Why a database call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbError {
    /// PostgreSQL's SQLSTATE (e.g. `42P01`), `not-granted` when the plugin lacks the
    /// capability, or `host` for a failure outside PostgreSQL.
    pub code: String,
    /// The message.
    pub message: String,
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for DbError {}

impl From<DbError> for Error {
    fn from(error: DbError) -> Self {
        Error::new(format!("database: {error}"))
    }
}

/// A query parameter in text form; `None` binds NULL. `&str`, `String`, integers and options
/// of them convert into it.
pub type Param = Option<String>;

/// The database of the migration being run, handed to [`crate::Hook::handle`]. Needs the
/// `db-read` grant for [`Database::query`] and `db-write` for [`Database::execute`].
#[derive(Debug)]
pub struct Database {
    _private: (),
}

impl Database {
    pub(crate) fn new() -> Self {
        Self { _private: () }
    }

    /// Runs a query with bound parameters (`$1`, `$2`, …) and returns its rows.
    pub fn query(&self, sql: &str, params: &[Param]) -> Result<Rows, DbError> {
        backend::query(sql, params)
    }

    /// Runs a statement with bound parameters and returns the number of rows it affected.
    pub fn execute(&self, sql: &str, params: &[Param]) -> Result<u64, DbError> {
        backend::execute(sql, params)
    }
}

/// Converts a value into a query [`Param`]: `param(42)`, `param("x")`, `param(None::<&str>)`.
pub fn param<T: ToString>(value: impl Into<Option<T>>) -> Param {
    value.into().map(|value| value.to_string())
}

#[cfg(target_arch = "wasm32")]
mod backend {
    use super::{DbError, Param, Rows};
    use crate::bindings::confiture::plugin::database;

    fn convert(error: database::DbError) -> DbError {
        DbError {
            code: error.code,
            message: error.message,
        }
    }

    pub fn query(sql: &str, params: &[Param]) -> Result<Rows, DbError> {
        database::query(sql, params)
            .map(|rows| Rows {
                columns: rows.columns,
                values: rows.values,
            })
            .map_err(convert)
    }

    pub fn execute(sql: &str, params: &[Param]) -> Result<u64, DbError> {
        database::execute(sql, params).map_err(convert)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod backend {
    pub use crate::testing::double::{execute, query};
}
