//! The `database` import for hooks.
//!
//! Hooks run synchronously on a blocking thread (see [`super::hooks`]); the database belongs to
//! the async caller, who may hold it only as a borrow (the migration's `Transaction<'_>`). So
//! the store holds a [`DbProxy`]: each `query`/`execute` the plugin makes is sent over a
//! channel to the caller's task, which runs it on its [`HookDatabase`] and sends the answer
//! back while the plugin waits. The epoch deadline keeps running during the wait, and the
//! caller bounds each statement by the call's remaining time.
//!
//! Grants decide the mode: with `db-write`, statements run inside a savepoint that is released
//! on success (rolled back on error, so a failing statement does not poison the migration's
//! transaction); with `db-read` only, each call runs inside a savepoint, read-only, that is
//! always rolled back, so no write survives.

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc as std_mpsc;
use std::time::Instant;

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
/// given; the plugin runtime adds the savepoints that enforce the grants.
pub trait HookDatabase: Send {
    /// Runs a query with bound parameters and returns its rows.
    fn query<'a>(&'a mut self, sql: &'a str, params: &'a [Option<String>]) -> DbFuture<'a, Rows>;
    /// Runs a statement with bound parameters; returns the number of rows it affected.
    fn execute<'a>(&'a mut self, sql: &'a str, params: &'a [Option<String>]) -> DbFuture<'a, u64>;
    /// Runs a utility statement without parameters (`SAVEPOINT`, `ROLLBACK TO`, ...).
    fn batch<'a>(&'a mut self, sql: &'a str) -> DbFuture<'a, ()>;
    /// True when a transaction is open on the connection (savepoints are then available).
    fn in_transaction(&self) -> bool;
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
        PgDatabase {
            client,
            in_transaction: false,
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

    fn in_transaction(&self) -> bool {
        self.in_transaction
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

const READ_SAVEPOINT: &str = "confiture_plugin_read";
const WRITE_SAVEPOINT: &str = "confiture_plugin_write";

/// Runs one request on `db` with the savepoints its mode needs, bounded by `deadline`: what
/// the host does for every `query`/`execute` a hook makes once its grants were checked.
pub async fn serve(
    db: &mut dyn HookDatabase,
    request: DbRequest,
    deadline: Instant,
) -> Result<DbReply, DbError> {
    let work = async {
        match request {
            DbRequest::Query {
                sql,
                params,
                mode: Mode::ReadOnly,
            } => read_only(db, &sql, &params).await.map(DbReply::Rows),
            DbRequest::Query {
                sql,
                params,
                mode: Mode::Write,
            } => {
                guarded_write(db, async |db: &mut dyn HookDatabase| {
                    db.query(&sql, &params).await.map(DbReply::Rows)
                })
                .await
            }
            DbRequest::Execute { sql, params } => {
                guarded_write(db, async |db: &mut dyn HookDatabase| {
                    db.execute(&sql, &params).await.map(DbReply::Count)
                })
                .await
            }
        }
    };
    tokio::time::timeout_at(deadline.into(), work)
        .await
        .unwrap_or_else(|_| {
            Err(DbError::host(
                "the statement ran past the hook's time limit and was abandoned",
            ))
        })
}

/// A query inside a read-only savepoint (or transaction) that is always rolled back.
async fn read_only(
    db: &mut dyn HookDatabase,
    sql: &str,
    params: &[Option<String>],
) -> Result<Rows, DbError> {
    let (open, close) = if db.in_transaction() {
        (
            format!("SAVEPOINT {READ_SAVEPOINT}; SET LOCAL transaction_read_only = on"),
            format!("ROLLBACK TO SAVEPOINT {READ_SAVEPOINT}; RELEASE SAVEPOINT {READ_SAVEPOINT}"),
        )
    } else {
        ("BEGIN READ ONLY".to_string(), "ROLLBACK".to_string())
    };
    db.batch(&open).await?;
    let result = db.query(sql, params).await;
    db.batch(&close).await?;
    result
}

/// A write inside a savepoint released on success and rolled back on error, so a failed
/// statement leaves the caller's transaction usable.
async fn guarded_write(
    db: &mut dyn HookDatabase,
    work: impl AsyncFnOnce(&mut dyn HookDatabase) -> Result<DbReply, DbError>,
) -> Result<DbReply, DbError> {
    if !db.in_transaction() {
        return work(db).await;
    }
    db.batch(&format!("SAVEPOINT {WRITE_SAVEPOINT}")).await?;
    let result = work(db).await;
    let close = match result {
        Ok(_) => format!("RELEASE SAVEPOINT {WRITE_SAVEPOINT}"),
        Err(_) => {
            format!("ROLLBACK TO SAVEPOINT {WRITE_SAVEPOINT}; RELEASE SAVEPOINT {WRITE_SAVEPOINT}")
        }
    };
    db.batch(&close).await?;
    result
}
