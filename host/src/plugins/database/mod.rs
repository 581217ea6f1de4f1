//! The `database` import for hooks.
//!
//! Hooks run synchronously on a blocking thread (see [`super::hooks`]); the database belongs to
//! the async caller, who may hold it only as a borrow (the migration's `Transaction<'_>`). So
//! the store holds a [`DbProxy`]: each `query`/`execute` the plugin makes is sent over a
//! channel to the caller's task, which runs it through the call's [`HookSession`] on its
//! [`HookDatabase`] and sends the answer back while the plugin waits.
//!
//! - [`gate`]: which statements a grant allows (one parsed statement, never transaction
//!   control, `COPY`, `SET`, ...), and the text the host runs;
//! - [`session`]: the plugin's role, the savepoint, the time limit on the server, and the
//!   check after every statement that the host's transaction and session are intact.

mod gate;
mod session;

pub use session::{HookSession, IntegrityBreach, SessionStop};
pub(crate) use session::{identifier, literal};

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc as std_mpsc;

use bytes::BytesMut;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_postgres::GenericClient;
use tokio_postgres::types::{Format, IsNull, ToSql, Type, to_sql_checked};

/// A future a [`HookDatabase`] returns.
pub type DbFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, DbError>> + Send + 'a>>;

/// Rows in PostgreSQL's text form (`None` is NULL).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Rows {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// One list per row, one value per column.
    pub values: Vec<Vec<Option<String>>>,
}

/// A failed database call, as the plugin sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct DbError {
    /// SQLSTATE, or `not-granted`, or `host`.
    pub code: String,
    /// What went wrong.
    pub message: String,
}

impl DbError {
    /// A failure outside PostgreSQL.
    pub fn host(message: impl Into<String>) -> Self {
        DbError {
            code: "host".into(),
            message: message.into(),
        }
    }
}

impl From<tokio_postgres::Error> for DbError {
    fn from(err: tokio_postgres::Error) -> Self {
        match err.as_db_error() {
            Some(db) => DbError {
                code: db.code().code().to_string(),
                message: db.message().to_string(),
            },
            None => DbError::host(err.to_string()),
        }
    }
}

/// The database a hook runs against, supplied by the caller for the duration of one call.
///
/// Parameters and values are in PostgreSQL's text form. Implementations run statements as
/// given; the plugin runtime ([`HookSession`]) adds the checks, role and savepoints that
/// enforce the grants.
pub trait HookDatabase: Send {
    /// Runs a query with bound parameters and returns its rows.
    fn query<'a>(&'a mut self, sql: &'a str, params: &'a [Option<String>]) -> DbFuture<'a, Rows>;
    /// Runs a statement with bound parameters; returns the number of rows it affected.
    fn execute<'a>(&'a mut self, sql: &'a str, params: &'a [Option<String>]) -> DbFuture<'a, u64>;
    /// Runs utility statements without parameters (`SAVEPOINT`, `ROLLBACK TO`, ...).
    fn batch<'a>(&'a mut self, sql: &'a str) -> DbFuture<'a, ()>;
    /// Runs statements without parameters through the simple protocol and returns the rows
    /// of all of them, in text form.
    fn simple<'a>(&'a mut self, sql: &'a str) -> DbFuture<'a, Vec<Vec<Option<String>>>>;
    /// True when a transaction is open on the connection (savepoints are then available).
    fn in_transaction(&self) -> bool;
    /// What cancels the statement running on the connection, if it can be cancelled.
    fn cancel_token(&self) -> Option<tokio_postgres::CancelToken>;
}

/// [`HookDatabase`] over a tokio-postgres client or transaction.
pub struct PgDatabase<'c, C> {
    client: &'c C,
    in_transaction: bool,
}

impl<'c> PgDatabase<'c, tokio_postgres::Transaction<'c>> {
    /// The migration's transaction: writes stay part of it.
    pub fn transaction(tx: &'c tokio_postgres::Transaction<'c>) -> Self {
        PgDatabase {
            client: tx,
            in_transaction: true,
        }
    }
}

impl<'c> PgDatabase<'c, tokio_postgres::Client> {
    /// A connection with no open transaction (run-level events): each call runs in its own.
    pub fn autocommit(client: &'c tokio_postgres::Client) -> Self {
        PgDatabase::on_connection(client, false)
    }

    /// A connection whose transaction, when `in_transaction`, was opened by the caller (the
    /// migration applier's): plugin statements run inside it, under the session's gate.
    pub fn on_connection(client: &'c tokio_postgres::Client, in_transaction: bool) -> Self {
        PgDatabase {
            client,
            in_transaction,
        }
    }
}

/// A parameter sent in text form, whatever type PostgreSQL inferred for it.
#[derive(Debug)]
struct TextParam<'a>(Option<&'a str>);

impl ToSql for TextParam<'_> {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self.0 {
            None => Ok(IsNull::Yes),
            Some(text) => {
                out.extend_from_slice(text.as_bytes());
                Ok(IsNull::No)
            }
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        Format::Text
    }

    to_sql_checked!();
}

fn text_params(params: &[Option<String>]) -> Vec<TextParam<'_>> {
    params.iter().map(|p| TextParam(p.as_deref())).collect()
}

fn param_refs<'a>(params: &'a [TextParam<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// The statement without trailing semicolons and blanks, so it can be wrapped.
fn trimmed(sql: &str) -> &str {
    sql.trim_end_matches(|c: char| c == ';' || c.is_whitespace())
}

impl<C: GenericClient + Sync> HookDatabase for PgDatabase<'_, C> {
    fn query<'a>(&'a mut self, sql: &'a str, params: &'a [Option<String>]) -> DbFuture<'a, Rows> {
        Box::pin(async move {
            let client = self.client;
            let statement = client.prepare(sql).await?;
            let texts = text_params(params);
            let refs = param_refs(&texts);
            let columns: Vec<String> = statement
                .columns()
                .iter()
                .map(|c| c.name().to_string())
                .collect();
            if columns.is_empty() {
                client.execute(&statement, &refs).await?;
                return Ok(Rows::default());
            }
            // Results come back in binary form; casting every column to text in a wrapping
            // CTE (which also accepts `INSERT ... RETURNING`) gives PostgreSQL's text form.
            let aliases: Vec<String> = (1..=columns.len()).map(|i| format!("c{i}")).collect();
            let wrapped = format!(
                "WITH confiture_plugin_query({}) AS (\n{}\n) SELECT {} FROM confiture_plugin_query",
                aliases.join(", "),
                trimmed(sql),
                aliases
                    .iter()
                    .map(|a| format!("{a}::text"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let rows = client.query(wrapped.as_str(), &refs).await?;
            let values = rows
                .iter()
                .map(|row| {
                    (0..columns.len())
                        .map(|i| row.try_get::<_, Option<String>>(i))
                        .collect::<Result<Vec<_>, _>>()
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Rows { columns, values })
        })
    }

    fn execute<'a>(&'a mut self, sql: &'a str, params: &'a [Option<String>]) -> DbFuture<'a, u64> {
        Box::pin(async move {
            let texts = text_params(params);
            let refs = param_refs(&texts);
            Ok(self.client.execute(sql, &refs).await?)
        })
    }

    fn batch<'a>(&'a mut self, sql: &'a str) -> DbFuture<'a, ()> {
        Box::pin(async move { Ok(self.client.batch_execute(sql).await?) })
    }

    fn simple<'a>(&'a mut self, sql: &'a str) -> DbFuture<'a, Vec<Vec<Option<String>>>> {
        Box::pin(async move { Ok(session::simple_rows(self.client.simple_query(sql).await?)) })
    }

    fn in_transaction(&self) -> bool {
        self.in_transaction
    }

    fn cancel_token(&self) -> Option<tokio_postgres::CancelToken> {
        Some(self.client.client().cancel_token())
    }
}

/// How a database call may touch the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `db-read` only: nothing written survives.
    ReadOnly,
    /// `db-write`: writes stay in the caller's transaction.
    Write,
}

/// One call from the plugin to the database.
#[derive(Debug)]
pub enum DbRequest {
    /// `query`.
    Query {
        /// The statement.
        sql: String,
        /// Its parameters in text form.
        params: Vec<Option<String>>,
        /// Read-only (rolled back) or write.
        mode: Mode,
    },
    /// `execute` (always [`Mode::Write`]).
    Execute {
        /// The statement.
        sql: String,
        /// Its parameters in text form.
        params: Vec<Option<String>>,
    },
}

/// The answer to a [`DbRequest`].
#[derive(Debug, PartialEq, Eq)]
pub enum DbReply {
    /// Rows of a query.
    Rows(Rows),
    /// Rows affected by a statement.
    Count(u64),
}

/// A request and where to send its answer.
pub(crate) struct DbCall {
    pub request: DbRequest,
    pub reply: std_mpsc::SyncSender<Result<DbReply, DbError>>,
}

/// The plugin side of the channel: blocks the plugin's thread until the caller answered.
pub(crate) struct DbProxy {
    sender: mpsc::UnboundedSender<DbCall>,
}

impl DbProxy {
    /// A proxy and the receiver the caller serves.
    pub fn channel() -> (DbProxy, mpsc::UnboundedReceiver<DbCall>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (DbProxy { sender }, receiver)
    }

    /// Sends `request` and waits for the answer.
    pub fn call(&self, request: DbRequest) -> Result<DbReply, DbError> {
        let (reply, answer) = std_mpsc::sync_channel(1);
        self.sender
            .send(DbCall { request, reply })
            .map_err(|_| DbError::host("the database is no longer available to this call"))?;
        answer
            .recv()
            .map_err(|_| DbError::host("the database call was abandoned"))?
    }
}
