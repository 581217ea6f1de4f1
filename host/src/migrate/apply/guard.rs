//! The transaction guard: the applier's transaction is known by its id, taken when it opens,
//! and checked after every hook call and every statement that could end it — pipelined with
//! them, so the check adds no round trip. A `COMMIT`, `ROLLBACK` or new `BEGIN` from anywhere
//! on the connection changes the id the check sees. The other statements cannot end it, and
//! need no check: their first keyword is one PostgreSQL never lets end a transaction block
//! (see [`crate::sql::transaction::cannot_end_transaction`]), and each travels in a protocol
//! message of its own, which holds exactly one statement. Its end is verified with the server:
//! `txid_status` says whether it committed or rolled back, so a `COMMIT` answered with
//! `ROLLBACK` is a failure and "rolled back" is only said when the server confirms it.
//!
//! Also the session reset that starts every migration from the connection's own state.

use anyhow::Context;
use tokio_postgres::Client;

use crate::db::connect::own_session_settings_for;
use crate::db::first_value;

/// Brings the session back to the state the connection opened with: settings (`SET`,
/// `set_config`), role and session user, prepared statements, cursors, `LISTEN`s, session
/// advisory locks, cached plans, sequence caches and temporary objects. `RESET ALL` brings back
/// the server's, database's and role's idle timeouts, so the tool's own session settings are
/// set again after it ([`own_session_settings_for`]). Between transactions that is `DISCARD
/// ALL` and one `SELECT`, two statements; inside the dry run's one transaction, where `DISCARD
/// ALL` cannot run, the statements it stands for one by one. Every statement costs the server
/// its own parse and command cycle (measured with pgbench: 0.04 ms for the two, 0.16 ms for the
/// eight of the in-transaction reset).
#[derive(Debug, Clone)]
pub struct SessionReset {
    /// What the reset's `SELECT` evaluates after the settings are reset: the tool's own session
    /// settings (empty when the server has neither).
    own_settings: String,
}

/// What the reset runs inside a transaction block, where `DISCARD ALL` cannot: the statements
/// it stands for, but for `DEALLOCATE ALL` (the `SELECT` after them counts and deallocates the
/// SQL-level prepared statements only) and `DISCARD PLANS` (which only saves a replan).
const IN_TRANSACTION: &str = "RESET SESSION AUTHORIZATION; RESET ROLE; RESET ALL; CLOSE ALL; \
                              UNLISTEN *; DISCARD SEQUENCES; DISCARD TEMP; ";

/// Counts the SQL-level prepared statements (`PREPARE`) of the session.
const COUNT_FROM_SQL: &str =
    "SELECT pg_catalog.count(*) FROM pg_catalog.pg_prepared_statements WHERE from_sql";

impl SessionReset {
    /// The reset for the server `client` is connected to (asked once: one round trip).
    pub async fn for_server(client: &Client) -> anyhow::Result<SessionReset> {
        let rows = client
            .simple_query("SHOW server_version_num")
            .await
            .context("reading the server's version")?;
        let version: i32 = first_value(&rows)
            .and_then(|v| v.parse().ok())
            .context("the server gave no server_version_num")?;
        Ok(SessionReset::for_version(version))
    }

    /// The reset for a server whose `server_version_num` is `version`.
    fn for_version(version: i32) -> SessionReset {
        SessionReset {
            own_settings: own_session_settings_for(version).join(", "),
        }
    }

    /// Resets the session between transactions: `DISCARD ALL`, which fails inside a
    /// transaction block (a transaction left open is an error, not carried into the next
    /// unit), then the tool's own settings. Both messages are sent at the first poll, so joined
    /// with other queries they run before them. `DISCARD ALL` also deallocates the client's
    /// protocol-level prepared statements: none lives across units on this connection (the
    /// applier's own statements are unnamed, a hook's last for one call).
    pub async fn run(&self, client: &Client) -> Result<(), tokio_postgres::Error> {
        let own = async {
            match self.own_settings.as_str() {
                "" => Ok(()),
                own => client.batch_execute(&format!("SELECT {own}")).await,
            }
        };
        let (discarded, set) = tokio::join!(biased; client.batch_execute("DISCARD ALL"), own);
        discarded.and(set)
    }

    /// Resets the session inside a transaction block (the dry run's): the statements `DISCARD
    /// ALL` stands for, in one message with a `SELECT` that releases the session advisory
    /// locks, sets the tool's own settings and counts the SQL-level prepared statements, which
    /// are then deallocated when there are some (the client's own protocol-level statements
    /// stay). Its first message is sent at the first poll, as [`SessionReset::run`]'s.
    pub async fn run_in_transaction(&self, client: &Client) -> Result<(), tokio_postgres::Error> {
        let mut select = vec![
            format!("({COUNT_FROM_SQL})"),
            "pg_catalog.pg_advisory_unlock_all()".to_string(),
        ];
        if !self.own_settings.is_empty() {
            select.push(self.own_settings.clone());
        }
        let sql = format!("{IN_TRANSACTION}SELECT {}", select.join(", "));
        let answer = client.simple_query(&sql).await?;
        if first_value(&answer).is_some_and(|count| count != "0") {
            client.batch_execute(DEALLOCATE_FROM_SQL).await?;
        }
        Ok(())
    }
}

/// Deallocates every SQL-level prepared statement. A `DO` block is compiled at each run, so
/// it is sent only when [`SessionReset::run_in_transaction`] counted some.
const DEALLOCATE_FROM_SQL: &str = "DO $confiture_reset$ DECLARE s text; BEGIN \
       FOR s IN SELECT name FROM pg_catalog.pg_prepared_statements WHERE from_sql LOOP \
         EXECUTE pg_catalog.format('DEALLOCATE %I', s); \
       END LOOP; \
     END $confiture_reset$";

/// Before the applier's own writes inside a migration's transaction (tracking row, audit
/// entry): the identity the connection opened with, whatever `SET ROLE` the file ran.
pub(super) const OWN_IDENTITY: &str = "RESET SESSION AUTHORIZATION; RESET ROLE";

/// How a transaction ended, as the server reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Committed.
    Committed,
    /// Rolled back (or aborted).
    RolledBack,
    /// The server could not tell (the connection is gone, or the id is too old).
    Unknown,
}

/// The transaction the applier opened, known by its id (a copy can check it while the
/// original commits, in the same round trip).
#[derive(Debug, Clone, Copy)]
pub(super) struct Txn {
    txid: i64,
}

impl Txn {
    /// The transaction's id (`txid_current()`), which any session can ask `txid_status` about.
    pub fn id(&self) -> i64 {
        self.txid
    }

    /// Resets the session, then opens a transaction with the `BEGIN` modes `modes` (e.g.
    /// `ISOLATION LEVEL SERIALIZABLE`, usually empty) and takes its id, evaluating `setup`
    /// (the transaction's `set_config` calls: its lock and statement timeouts) in the same
    /// `SELECT` — one round trip. `BEGIN` goes in a message of its own, so that nothing else in
    /// the messages can keep it from running.
    pub async fn begin(
        client: &Client,
        reset: &SessionReset,
        modes: &str,
        setup: &str,
    ) -> anyhow::Result<Txn> {
        let begin = format!("BEGIN {modes}");
        let id = format!("SELECT pg_catalog.txid_current(), {setup}");
        let (reset, begun, opened) = tokio::join!(biased;
            reset.run(client),
            client.batch_execute(&begin),
            client.simple_query(&id)
        );
        begun.context("opening the migration's transaction")?;
        let opened = opened.context("opening the migration's transaction")?;
        reset.context("resetting the session before the migration")?;
        let txid = first_value(&opened)
            .and_then(|v| v.parse().ok())
            .context("txid_current() gave no transaction id")?;
        Ok(Txn { txid })
    }

    /// The id of the transaction the session is in now. Send it right after a statement (join
    /// the two futures): its answer comes after the statement's.
    pub async fn current_id(client: &Client) -> Result<Option<i64>, tokio_postgres::Error> {
        let rows = client
            .simple_query("SELECT pg_catalog.txid_current()")
            .await?;
        Ok(first_value(&rows).and_then(|v| v.parse().ok()))
    }

    /// True when `id` (from [`Txn::current_id`]) is this transaction's.
    pub fn is(&self, id: Option<i64>) -> bool {
        id == Some(self.txid)
    }

    /// True while the transaction is still this one (see [`Txn::current_id`]).
    pub async fn is_ours(&self, client: &Client) -> Result<bool, tokio_postgres::Error> {
        Ok(self.is(Txn::current_id(client).await?))
    }

    /// Commits, and asks the server how the transaction ended (a `COMMIT` of a failed
    /// transaction is answered with `ROLLBACK`, not an error). Returns the commit's error, if
    /// any, and how it ended.
    pub async fn commit(self, client: &Client) -> (Option<tokio_postgres::Error>, Ended) {
        let (committed, ended) = tokio::join!(client.batch_execute("COMMIT"), self.status(client));
        (committed.err(), ended)
    }

    /// Rolls back whatever transaction the session is in, and asks the server how this one
    /// ended.
    pub async fn rollback(self, client: &Client) -> Ended {
        let (_, ended) = tokio::join!(client.batch_execute("ROLLBACK"), self.status(client));
        ended
    }

    /// How the transaction ended (or whether it still runs), from `txid_status`.
    async fn status(&self, client: &Client) -> Ended {
        let sql = format!("SELECT pg_catalog.txid_status({})", self.txid);
        match client.simple_query(&sql).await {
            Ok(rows) => match first_value(&rows).as_deref() {
                Some("committed") => Ended::Committed,
                Some("aborted") => Ended::RolledBack,
                _ => Ended::Unknown,
            },
            Err(_) => Ended::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SessionReset;

    #[test]
    fn the_reset_sets_only_the_idle_timeouts_the_server_has() {
        let own = |version| SessionReset::for_version(version).own_settings;
        assert!(own(150_000).contains("set_config('idle_session_timeout', '0', false)"));
        assert!(
            own(150_000).contains("set_config('idle_in_transaction_session_timeout', '0', false)")
        );
        assert!(!own(130_000).contains("idle_session_timeout"));
        assert!(
            own(130_000).contains("set_config('idle_in_transaction_session_timeout', '0', false)")
        );
        assert_eq!(own(90_500), "");
    }
}
