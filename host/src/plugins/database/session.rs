//! The database side of one hook call: every statement a plugin sends runs here, under the
//! plugin's role, inside a savepoint the host checks, bounded by the call's time limit; and
//! after every statement the host verifies that its transaction and its session are as they
//! were.
//!
//! For each `query`/`execute` ([`HookSession::serve`]):
//!
//! 1. the [`gate`](super::gate) checks the statement and gives the text to run;
//! 2. on the call's first statement, the host reads the connection's session state (the
//!    baseline) and the powers of the session user and of the configured role: a grant on a
//!    connection that can reach the server (superuser, `pg_execute_server_program`, ...) is
//!    refused unless a least-privilege role is configured, and a configured role must be one;
//! 3. `SAVEPOINT confiture_plugin` (inside `BEGIN` when the connection has no transaction),
//!    `SET LOCAL ROLE <role>`, `SET LOCAL statement_timeout = <time left>`, and for `db-read`
//!    `SET LOCAL transaction_read_only = on`;
//! 4. the statement; at the deadline the host also cancels it on the server;
//! 5. `ROLLBACK TO` (read, or failed write) or `RELEASE` (write) the savepoint, the role and
//!    `statement_timeout` restored, then the session state read again and compared with the
//!    baseline: the transaction (its start time), the role, advisory locks, prepared
//!    statements, `LISTEN` channels, temporary tables and every setting.
//!
//! A refused statement (or a role that cannot be used) gets an error, runs nothing, and makes
//! the hook call fail ([`SessionStop::Refused`]) whatever the plugin does with the error; its
//! later statements are still checked one by one. Anything the host cannot verify — its
//! savepoint gone, a changed session, a statement it could not stop — is an
//! [`IntegrityBreach`]: the hook call fails with it whatever the hook's policy, and the session
//! refuses every later statement of the call.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::gate::{self, Refusal};
use super::{DbError, DbReply, DbRequest, HookDatabase, Mode};

/// The savepoint every plugin statement runs in.
const SAVEPOINT: &str = "confiture_plugin";
/// How long the host's own bookkeeping statements (and a cancelled statement's end) may take
/// before the host gives up verifying the session.
const HOST_GRACE: Duration = Duration::from_secs(5);
/// How long after the deadline a statement `statement_timeout` did not stop is cancelled.
const CANCEL_MARGIN: Duration = Duration::from_millis(500);
/// SQLSTATE `query_canceled`.
const QUERY_CANCELED: &str = "57014";
/// Predefined roles whose members reach the server's files, programs or other sessions.
const SERVER_ROLES: [&str; 4] = [
    "pg_execute_server_program",
    "pg_read_server_files",
    "pg_write_server_files",
    "pg_signal_backend",
];

/// The host could not verify its transaction or session after a plugin's database call: the
/// migration must fail, whatever the hook's policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error(
    "host integrity failure: after a database call of plugin {plugin}, {what}; the run stops \
     whatever the hook's policy"
)]
pub struct IntegrityBreach {
    /// The plugin whose call it was.
    pub plugin: String,
    /// What the host found.
    pub what: String,
    /// True when the host's transaction itself was ended or replaced (then nothing the
    /// migration did can be assumed rolled back).
    pub transaction_lost: bool,
}

/// Why the session stopped serving a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionStop {
    /// A statement or the configuration was refused; nothing ran.
    Refused(String),
    /// The host's transaction or session changed.
    Breach(IntegrityBreach),
}

/// The session state the host compares before and after every plugin statement.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SessionState {
    /// `now()`: the start of the current transaction.
    transaction_start: String,
    current_user: String,
    role: String,
    advisory_locks: String,
    prepared_statements: String,
    listening: String,
    temporary_tables: String,
    /// md5 of every setting's name and value.
    settings: String,
    /// The setting the host changes for each statement (restored after a write).
    statement_timeout: String,
}

/// The query reading [`SessionState`]; its columns in the struct's order.
const STATE_SQL: &str = "SELECT now()::text, current_user::text, current_setting('role'), \
    (SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' \
        AND pid = pg_catalog.pg_backend_pid())::text, \
    (SELECT count(*) FROM pg_catalog.pg_prepared_statements WHERE from_sql)::text, \
    (SELECT count(*) FROM pg_catalog.pg_listening_channels())::text, \
    (SELECT count(*) FROM pg_catalog.pg_class \
        WHERE relnamespace = pg_catalog.pg_my_temp_schema())::text, \
    (SELECT md5(string_agg(name || '=' || setting, ',' ORDER BY name)) \
        FROM pg_catalog.pg_settings), \
    current_setting('statement_timeout')";

impl SessionState {
    fn from_row(row: &[Option<String>]) -> Option<Self> {
        let text = |i: usize| row.get(i).cloned().flatten();
        Some(SessionState {
            transaction_start: text(0)?,
            current_user: text(1)?,
            role: text(2)?,
            advisory_locks: text(3)?,
            prepared_statements: text(4)?,
            listening: text(5)?,
            temporary_tables: text(6)?,
            settings: text(7)?,
            statement_timeout: text(8)?,
        })
    }

    /// What differs from `before`, in words; `in_transaction` compares the transaction too.
    fn changes(&self, before: &SessionState, in_transaction: bool) -> Vec<String> {
        let mut changes = Vec::new();
        let mut differ = |changed: bool, what: &str| {
            if changed {
                changes.push(what.to_string());
            }
        };
        differ(
            in_transaction && self.transaction_start != before.transaction_start,
            "the host's transaction was ended and another one started",
        );
        differ(
            self.current_user != before.current_user || self.role != before.role,
            "the session's role changed",
        );
        differ(
            self.advisory_locks != before.advisory_locks,
            "advisory locks are held that were not before",
        );
        differ(
            self.prepared_statements != before.prepared_statements,
            "prepared statements were left behind",
        );
        differ(
            self.listening != before.listening,
            "the session listens on new channels",
        );
        differ(
            self.temporary_tables != before.temporary_tables,
            "temporary tables were left behind",
        );
        differ(
            self.settings != before.settings || self.statement_timeout != before.statement_timeout,
            "session settings changed",
        );
        changes
    }
}

/// One hook call's access to the database.
pub struct HookSession<'d> {
    db: &'d mut dyn HookDatabase,
    plugin: String,
    role: Option<String>,
    baseline: Option<SessionState>,
    /// The first refusal: the call fails with it.
    refusal: Option<String>,
    /// A breach: the call fails with it and nothing more runs.
    breach: Option<IntegrityBreach>,
}

impl std::fmt::Debug for HookSession<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookSession")
            .field("plugin", &self.plugin)
            .field("role", &self.role)
            .field("refusal", &self.refusal)
            .field("breach", &self.breach)
            .finish_non_exhaustive()
    }
}

/// What a request asks for, once its grant was checked.
struct Work<'r> {
    sql: &'r str,
    params: &'r [Option<String>],
    mode: Mode,
    rows: bool,
}

impl<'d> HookSession<'d> {
    /// The session of plugin `plugin` on `db`; its statements run as `role` when one is
    /// configured.
    pub fn new(db: &'d mut dyn HookDatabase, plugin: &str, role: Option<&str>) -> Self {
        HookSession {
            db,
            plugin: plugin.to_string(),
            role: role.map(str::to_string),
            baseline: None,
            refusal: None,
            breach: None,
        }
    }

    /// Why the call must fail, if it must: a breach, else the first refusal.
    pub fn stopped(&self) -> Option<SessionStop> {
        match (&self.breach, &self.refusal) {
            (Some(breach), _) => Some(SessionStop::Breach(breach.clone())),
            (None, Some(why)) => Some(SessionStop::Refused(why.clone())),
            (None, None) => None,
        }
    }

    /// Runs one request as the plugin's grant allows, by `deadline`. Errors are for the
    /// plugin; a refusal or a breach also decides the call's outcome
    /// ([`HookSession::stopped`]).
    pub async fn serve(
        &mut self,
        request: DbRequest,
        deadline: Instant,
    ) -> Result<DbReply, DbError> {
        if let Some(breach) = &self.breach {
            return Err(DbError::host(format!(
                "the host stopped this call's database access: {}",
                breach.what
            )));
        }
        let work = match &request {
            DbRequest::Query { sql, params, mode } => Work {
                sql,
                params,
                mode: *mode,
                rows: true,
            },
            DbRequest::Execute { sql, params } => Work {
                sql,
                params,
                mode: Mode::Write,
                rows: false,
            },
        };
        let text = match gate::check(work.sql, work.mode) {
            Ok(text) => text,
            Err(Refusal(why)) => return Err(self.refuse(why)),
        };
        match self.run(&text, &work, deadline).await {
            Ok(answer) => answer,
            Err(SessionStop::Refused(why)) => Err(self.refuse(why)),
            Err(SessionStop::Breach(breach)) => {
                let error = DbError::host(breach.to_string());
                self.breach = Some(breach);
                Err(error)
            }
        }
    }

    fn refuse(&mut self, why: String) -> DbError {
        self.refusal.get_or_insert_with(|| why.clone());
        DbError {
            code: "refused".into(),
            message: why,
        }
    }

    fn breach(&self, what: impl Into<String>, transaction_lost: bool) -> SessionStop {
        SessionStop::Breach(IntegrityBreach {
            plugin: self.plugin.clone(),
            what: what.into(),
            transaction_lost,
        })
    }

    /// Steps 2–5 of the module documentation. The outer error stops the session.
    async fn run(
        &mut self,
        text: &str,
        work: &Work<'_>,
        deadline: Instant,
    ) -> Result<Result<DbReply, DbError>, SessionStop> {
        if self.baseline.is_none() {
            self.baseline = Some(self.admit().await?);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Err(DbError::host(
                "the hook's time limit was reached before the statement could start",
            )));
        }
        let in_transaction = self.db.in_transaction();
        let mut open = String::new();
        if !in_transaction {
            open.push_str("BEGIN; ");
        }
        open.push_str(&format!("SAVEPOINT {SAVEPOINT}; "));
        if work.mode == Mode::ReadOnly {
            open.push_str("SET LOCAL transaction_read_only = on; ");
        }
        if let Some(role) = &self.role {
            open.push_str(&format!("SET LOCAL ROLE {}; ", identifier(role)));
        }
        open.push_str(&format!(
            "SET LOCAL statement_timeout = '{}ms'",
            left.as_millis().max(1)
        ));
        if let Err(err) = self.bounded(|db| db.batch(&open)).await {
            // Nothing of the plugin's ran; undo what did run of the opening.
            let undo = if in_transaction {
                format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}; RELEASE SAVEPOINT {SAVEPOINT}")
            } else {
                "ROLLBACK".into()
            };
            return match self.bounded(|db| db.batch(&undo)).await {
                Ok(()) => Err(SessionStop::Refused(format!(
                    "the host could not prepare the plugin's statement ({}: {})",
                    err.code, err.message
                ))),
                Err(undo) => Err(self.breach(
                    format!(
                        "the host could not open its savepoint ({}) nor undo it ({})",
                        err.message, undo.message
                    ),
                    false,
                )),
            };
        }
        let result = self.statement(text, work, deadline).await?;
        let keep = work.mode == Mode::Write && result.is_ok();
        self.close(keep, in_transaction).await?;
        Ok(result)
    }

    /// Reads the baseline and checks who the statements would run as (step 2).
    async fn admit(&mut self) -> Result<SessionState, SessionStop> {
        let role = self.role.clone();
        let sql = format!(
            "{STATE_SQL}, {}, {}, {}",
            powers("session_user"),
            role.as_deref()
                .map_or("NULL".into(), |r| powers(&literal(r))),
            role.as_deref().map_or("NULL".into(), |r| format!(
                "(SELECT pg_catalog.pg_has_role(session_user, oid, 'MEMBER') \
                 FROM pg_catalog.pg_roles WHERE rolname = {})::text",
                literal(r)
            )),
        );
        let rows = self.bounded(|db| db.simple(&sql)).await.map_err(|e| {
            self.breach(format!("the host could not read its session ({e})"), false)
        })?;
        let row = rows.first().cloned().unwrap_or_default();
        let state = SessionState::from_row(&row)
            .ok_or_else(|| self.breach("the host could not read its session state", false))?;
        let session_powers = row.get(9).cloned().flatten().unwrap_or_default();
        match (
            &self.role,
            row.get(10).cloned().flatten(),
            row.get(11).cloned().flatten(),
        ) {
            (None, ..) if !session_powers.is_empty() => Err(SessionStop::Refused(format!(
                "the connection's user `{}` has {session_powers}, which reaches the server \
                 beyond the database; a plugin's grant on such a connection needs a \
                 least-privilege role: set `plugins.{}.role` (or `plugin_role` for every \
                 plugin) in the environment file, e.g. one made by \
                 `confiture plugins create-role`",
                state.current_user, self.plugin
            ))),
            (None, ..) => Ok(state),
            (Some(role), None, _) => Err(SessionStop::Refused(format!(
                "the role `{role}` configured for plugin {} does not exist; create it with \
                 `confiture plugins create-role {role}`",
                self.plugin
            ))),
            (Some(role), Some(powers), _) if !powers.is_empty() => {
                Err(SessionStop::Refused(format!(
                    "the role `{role}` configured for plugin {} has {powers}; a plugin role must \
                     not (create one with `confiture plugins create-role`)",
                    self.plugin
                )))
            }
            (Some(role), Some(_), member) if member.as_deref() != Some("true") => {
                Err(SessionStop::Refused(format!(
                    "the connection's user cannot switch to the role `{role}` configured for \
                     plugin {}; run `GRANT {} TO {}`",
                    self.plugin,
                    identifier(role),
                    identifier(&state.current_user)
                )))
            }
            _ => Ok(state),
        }
    }

    /// Runs the plugin's statement (step 4). `statement_timeout` ends it on the server at the
    /// deadline; should it still run [`CANCEL_MARGIN`] later, the host cancels it, waits for
    /// its end, and absorbs the cancel (which may reach the server late) before going on.
    async fn statement(
        &mut self,
        text: &str,
        work: &Work<'_>,
        deadline: Instant,
    ) -> Result<Result<DbReply, DbError>, SessionStop> {
        /// How the plugin's statement ended.
        enum Ended {
            InTime(Result<DbReply, DbError>),
            Cancelled,
            Stuck,
        }
        let token = self.db.cancel_token();
        let ended = {
            let db = &mut *self.db;
            let running = async {
                if work.rows {
                    db.query(text, work.params).await.map(DbReply::Rows)
                } else {
                    db.execute(text, work.params).await.map(DbReply::Count)
                }
            };
            tokio::pin!(running);
            tokio::select! {
                biased;
                result = &mut running => Ended::InTime(result),
                () = tokio::time::sleep_until((deadline + CANCEL_MARGIN).into()) => {
                    if let Some(token) = &token {
                        // If this fails, HOST_GRACE below decides.
                        let _ = crate::db::cancel(token).await;
                    }
                    match tokio::time::timeout(HOST_GRACE, &mut running).await {
                        Ok(_) => Ended::Cancelled,
                        Err(_) => Ended::Stuck,
                    }
                }
            }
        };
        match ended {
            Ended::InTime(result) => return Ok(result),
            Ended::Stuck => {
                return Err(self.breach(
                    format!(
                        "its statement was still running {} s after the time limit and a cancel",
                        HOST_GRACE.as_secs()
                    ),
                    false,
                ));
            }
            Ended::Cancelled => {}
        }
        // The cancel may arrive after the statement ended: let it hit a statement that is
        // harmless to repeat, never the host's own bookkeeping.
        let rollback = format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}");
        let mut absorbed = false;
        for _ in 0..3 {
            match self.bounded(|db| db.batch(&rollback)).await {
                Ok(()) => {
                    absorbed = true;
                    break;
                }
                Err(e) if e.code == QUERY_CANCELED => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => {
                    return Err(self.breach(
                        format!("the host could not roll back its savepoint ({})", e.message),
                        true,
                    ));
                }
            }
        }
        if !absorbed {
            return Err(self.breach("the host's statements kept being cancelled", false));
        }
        Ok(Err(DbError::host(
            "the statement ran past the hook's time limit and was cancelled",
        )))
    }

    /// Ends the savepoint (and the host's transaction outside one), restores what the opening
    /// changed, and compares the session with the baseline (step 5).
    async fn close(&mut self, keep: bool, in_transaction: bool) -> Result<(), SessionStop> {
        let baseline = self
            .baseline
            .clone()
            .expect("admitted before any statement");
        let mut sql = if keep {
            format!("RELEASE SAVEPOINT {SAVEPOINT}; ")
        } else {
            format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}; RELEASE SAVEPOINT {SAVEPOINT}; ")
        };
        match (in_transaction, keep) {
            (false, true) => sql.push_str("COMMIT; "),
            (false, false) => sql.push_str("ROLLBACK; "),
            (true, true) => sql.push_str(&format!(
                "SELECT pg_catalog.set_config('role', {}, true), \
                 pg_catalog.set_config('statement_timeout', {}, true); ",
                literal(&baseline.role),
                literal(&baseline.statement_timeout)
            )),
            (true, false) => {}
        }
        sql.push_str(STATE_SQL);
        let rows = match self.bounded(|db| db.simple(&sql)).await {
            Ok(rows) => rows,
            Err(e) => {
                return Err(self.breach(
                    format!(
                        "the host's savepoint `{SAVEPOINT}` could not be closed ({}): the \
                         statement ended or aborted the host's transaction",
                        e.message
                    ),
                    true,
                ));
            }
        };
        let after = rows
            .last()
            .and_then(|row| SessionState::from_row(row))
            .ok_or_else(|| self.breach("the host could not read its session state", false))?;
        let changes = after.changes(&baseline, in_transaction);
        if changes.is_empty() {
            Ok(())
        } else {
            let lost = in_transaction && after.transaction_start != baseline.transaction_start;
            Err(self.breach(changes.join("; "), lost))
        }
    }

    /// Runs a host statement, bounded by [`HOST_GRACE`].
    async fn bounded<'s, T>(
        &'s mut self,
        work: impl FnOnce(&'s mut dyn HookDatabase) -> super::DbFuture<'s, T>,
    ) -> Result<T, DbError> {
        let db: &'s mut dyn HookDatabase = &mut *self.db;
        tokio::time::timeout(HOST_GRACE, work(db))
            .await
            .unwrap_or_else(|_| {
                Err(DbError::host(format!(
                    "no answer within {} s",
                    HOST_GRACE.as_secs()
                )))
            })
    }
}

/// An SQL expression listing the powers of the role named by `name` (an SQL expression) that
/// reach beyond the database: `''` when it has none, NULL when there is no such role.
fn powers(name: &str) -> String {
    let mut checks = vec![
        "CASE WHEN r.rolsuper THEN 'SUPERUSER' END".to_string(),
        "CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END".to_string(),
        "CASE WHEN r.rolreplication THEN 'REPLICATION' END".to_string(),
    ];
    for role in SERVER_ROLES {
        checks.push(format!(
            "CASE WHEN pg_catalog.pg_has_role(r.oid, '{role}', 'MEMBER') THEN '{role}' END"
        ));
    }
    format!(
        "(SELECT concat_ws(', ', {}) FROM pg_catalog.pg_roles r WHERE r.rolname = {name})",
        checks.join(", ")
    )
}

/// `text` as an SQL string literal, whatever `standard_conforming_strings` says.
pub(crate) fn literal(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('\'', "''");
    if escaped.len() == text.len() {
        format!("'{text}'")
    } else {
        format!("E'{escaped}'")
    }
}

/// `name` as a quoted SQL identifier.
pub(crate) fn identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Rows of a simple-protocol answer, for [`HookDatabase::simple`] implementations.
pub(crate) fn simple_rows(
    messages: Vec<tokio_postgres::SimpleQueryMessage>,
) -> Vec<Vec<Option<String>>> {
    messages
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_identifiers_are_quoted() {
        assert_eq!(literal("none"), "'none'");
        assert_eq!(literal("it's"), "E'it''s'");
        assert_eq!(literal("a\\b'"), "E'a\\\\b'''");
        assert_eq!(identifier("plugin \"x\""), "\"plugin \"\"x\"\"\"");
    }

    #[test]
    fn state_changes_are_named() {
        let base = SessionState {
            transaction_start: "t0".into(),
            current_user: "postgres".into(),
            role: "none".into(),
            advisory_locks: "0".into(),
            prepared_statements: "0".into(),
            listening: "0".into(),
            temporary_tables: "0".into(),
            settings: "abc".into(),
            statement_timeout: "0".into(),
        };
        assert!(base.changes(&base, true).is_empty());
        let after = SessionState {
            transaction_start: "t1".into(),
            advisory_locks: "1".into(),
            ..base.clone()
        };
        assert_eq!(
            after.changes(&base, true),
            [
                "the host's transaction was ended and another one started",
                "advisory locks are held that were not before"
            ]
        );
        assert_eq!(after.changes(&base, false).len(), 1);
    }
}
