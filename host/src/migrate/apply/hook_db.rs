//! The database hooks get during a migration: the applier's connection, with transaction
//! control refused. A hook's `COMMIT` (or `ROLLBACK`, `SAVEPOINT`, …) would end or undo part of
//! the migration's transaction — or, in a dry run, persist what should be rolled back — so it
//! never reaches the server. (The transaction guard still checks after every hook call.)

use tokio_postgres::Client;

use crate::plugins::database::DbFuture;
use crate::plugins::{DbError, HookDatabase, PgDatabase, Rows};
use crate::sql::transaction::{TransactionRole, classify};

/// SQLSTATE `invalid_transaction_state`, given to the plugin with the refusal.
const INVALID_TRANSACTION_STATE: &str = "25000";

/// [`HookDatabase`] on the applier's connection.
pub(super) struct HookDb<'c> {
    inner: PgDatabase<'c, Client>,
    in_transaction: bool,
}

impl<'c> HookDb<'c> {
    /// The connection, inside the migration's transaction when `in_transaction`.
    pub fn new(client: &'c Client, in_transaction: bool) -> Self {
        HookDb {
            inner: PgDatabase::autocommit(client),
            in_transaction,
        }
    }
}

/// The refusal of a plugin statement that controls the transaction.
fn refusal(sql: &str) -> Option<DbError> {
    match classify(sql) {
        TransactionRole::Control(control) => Some(DbError {
            code: INVALID_TRANSACTION_STATE.to_string(),
            message: format!(
                "{} is not allowed in a hook: the migration's transaction belongs to Confiture",
                control.keyword()
            ),
        }),
        _ => None,
    }
}

impl HookDatabase for HookDb<'_> {
    fn query<'a>(&'a mut self, sql: &'a str, params: &'a [Option<String>]) -> DbFuture<'a, Rows> {
        match refusal(sql) {
            Some(err) => Box::pin(async move { Err(err) }),
            None => self.inner.query(sql, params),
        }
    }

    fn execute<'a>(&'a mut self, sql: &'a str, params: &'a [Option<String>]) -> DbFuture<'a, u64> {
        match refusal(sql) {
            Some(err) => Box::pin(async move { Err(err) }),
            None => self.inner.execute(sql, params),
        }
    }

    /// The host's own statements (the savepoints that enforce a plugin's grants).
    fn batch<'a>(&'a mut self, sql: &'a str) -> DbFuture<'a, ()> {
        self.inner.batch(sql)
    }

    /// The host's own statements (reading and restoring the session around a plugin call).
    fn simple<'a>(&'a mut self, sql: &'a str) -> DbFuture<'a, Vec<Vec<Option<String>>>> {
        self.inner.simple(sql)
    }

    fn in_transaction(&self) -> bool {
        self.in_transaction
    }

    fn cancel_token(&self) -> Option<tokio_postgres::CancelToken> {
        self.inner.cancel_token()
    }
}
