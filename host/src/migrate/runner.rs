//! Runs one migration step (up or down) with its tracking-table change: in a transaction with
//! `SET LOCAL` timeouts and retries on lock timeouts, or outside one for no-transaction files.

use std::time::{Duration, Instant};

use tokio_postgres::{Client, GenericClient};

use super::files::Migration;
use super::ledger::Ledger;
use crate::db::script::{ScriptError, run_script};
use crate::hooks::{HookRun, MigrationRef, Status};
use crate::output::Output;
use crate::plugins::{HookEvent, PgDatabase};
use crate::project::Environment;
use crate::wizard::audit::{AuditEvent, AuditLog};

/// Timeouts and retries from the environment.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// `lock_timeout` in ms (0 = off).
    pub lock_timeout_ms: u64,
    /// `statement_timeout` in ms (0 = off).
    pub statement_timeout_ms: u64,
    /// Retries after SQLSTATE 55P03.
    pub lock_retries: u32,
}

impl Settings {
    /// The environment's settings.
    pub fn from_env(env: &Environment) -> Self {
        Settings {
            lock_timeout_ms: env.lock_timeout_ms,
            statement_timeout_ms: env.statement_timeout_ms,
            lock_retries: env.lock_retries,
        }
    }

    /// `SET [LOCAL] lock_timeout ...; SET [LOCAL] statement_timeout ...`.
    pub fn set_sql(&self, local: bool) -> String {
        let scope = if local { "LOCAL " } else { "" };
        format!(
            "SET {scope}lock_timeout = '{}ms'; SET {scope}statement_timeout = '{}ms'",
            self.lock_timeout_ms, self.statement_timeout_ms
        )
    }
}

/// What a step does to the tracking table once its SQL ran.
#[derive(Debug, Clone, Copy)]
pub enum Bookkeeping<'a> {
    /// Insert the migration's row (up).
    Record(&'a Migration),
    /// Delete the row of this version (down).
    Remove(&'a str),
}

/// One SQL file to run and its bookkeeping.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    /// The file, as shown to people.
    pub file: String,
    /// Its SQL.
    pub sql: &'a str,
    /// Runs outside a transaction.
    pub no_transaction: bool,
    /// The tracking-table change.
    pub bookkeeping: Bookkeeping<'a>,
    /// The migration as hooks see it (`pre-execute` / `post-execute`).
    pub hook: &'a MigrationRef,
    /// An audit-trail entry written with the bookkeeping (in the step's transaction).
    pub audit: Option<StepAudit<'a>>,
}

/// An audit-trail entry and the trail to append it to.
#[derive(Debug, Clone, Copy)]
pub struct StepAudit<'a> {
    /// The trail.
    pub log: &'a AuditLog,
    /// The entry.
    pub event: &'a AuditEvent,
}

/// Runs `step` and returns its duration, firing `pre-execute` and `post-execute` around it
/// (inside its transaction, with the transaction as the hooks' database). On failure the error
/// is (or wraps) a [`ScriptError`] when a statement failed, or a [`crate::hooks::HookAbort`]
/// when a hook under policy `abort` failed; a transactional step has then been rolled back.
pub async fn run_step(
    client: &mut Client,
    ledger: &Ledger,
    step: &Step<'_>,
    settings: Settings,
    out: &Output,
    hooks: &mut HookRun,
) -> anyhow::Result<Duration> {
    if step.no_transaction {
        return run_outside_transaction(client, ledger, step, settings, hooks).await;
    }
    let mut attempt = 0;
    let mut backoff = Duration::from_millis(200);
    loop {
        match run_in_transaction(client, ledger, step, settings, hooks).await {
            Err(err) if attempt < settings.lock_retries && is_lock_timeout(&err) => {
                attempt += 1;
                out.warn(format!(
                    "{}: lock timeout (SQLSTATE 55P03); rolled back, retry {attempt}/{} in {} ms",
                    step.file,
                    settings.lock_retries,
                    backoff.as_millis()
                ));
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
            result => return result,
        }
    }
}

/// True when `err` is a statement that failed on `lock_timeout`.
fn is_lock_timeout(err: &anyhow::Error) -> bool {
    err.downcast_ref::<ScriptError>()
        .is_some_and(ScriptError::is_lock_timeout)
}

async fn run_in_transaction(
    client: &mut Client,
    ledger: &Ledger,
    step: &Step<'_>,
    settings: Settings,
    hooks: &mut HookRun,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let tx = client.transaction().await?;
    let result = async {
        tx.batch_execute(&settings.set_sql(true)).await?;
        let mut db = PgDatabase::transaction(&tx);
        fire_step(
            hooks,
            HookEvent::PreExecute,
            step,
            Status::Running,
            None,
            &mut db,
        )
        .await?;
        run_script(&tx, &step.file, step.sql).await?;
        let elapsed = started.elapsed();
        book(&tx, ledger, step, elapsed).await?;
        let mut db = PgDatabase::transaction(&tx);
        let done = Some(elapsed);
        fire_step(
            hooks,
            HookEvent::PostExecute,
            step,
            Status::Applied,
            done,
            &mut db,
        )
        .await?;
        anyhow::Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            tx.commit().await?;
            Ok(started.elapsed())
        }
        Err(err) => {
            // Dropping would roll back too; doing it here keeps the session clean for a retry.
            let _ = tx.rollback().await;
            Err(err)
        }
    }
}

async fn run_outside_transaction(
    client: &mut Client,
    ledger: &Ledger,
    step: &Step<'_>,
    settings: Settings,
    hooks: &mut HookRun,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    // No transaction to share: the hooks' database calls run in autocommit mode, each in its
    // own transaction (read-only and rolled back under `db-read`).
    let mut db = PgDatabase::autocommit(&*client);
    fire_step(
        hooks,
        HookEvent::PreExecute,
        step,
        Status::Running,
        None,
        &mut db,
    )
    .await?;
    client.batch_execute(&settings.set_sql(false)).await?;
    let result = run_script(&*client, &step.file, step.sql).await;
    client
        .batch_execute("RESET lock_timeout; RESET statement_timeout")
        .await?;
    result?;
    let elapsed = started.elapsed();
    // Fired before the tracking row is written: a hook under `abort` leaves the migration
    // unrecorded (its statements ran and cannot be undone; the failure report says so).
    let mut db = PgDatabase::autocommit(&*client);
    let done = Some(elapsed);
    fire_step(
        hooks,
        HookEvent::PostExecute,
        step,
        Status::Applied,
        done,
        &mut db,
    )
    .await?;
    book(&*client, ledger, step, elapsed).await?;
    Ok(elapsed)
}

/// Fires a per-migration event for `step`; the hooks' database calls run on `db`.
async fn fire_step(
    hooks: &mut HookRun,
    event: HookEvent,
    step: &Step<'_>,
    status: Status,
    elapsed: Option<Duration>,
    db: &mut dyn crate::plugins::HookDatabase,
) -> anyhow::Result<()> {
    let duration_ms = elapsed.map(|e| e.as_millis() as u64);
    hooks
        .fire(event, Some(step.hook), status, duration_ms, None, Some(db))
        .await?;
    Ok(())
}

async fn book(
    c: &impl GenericClient,
    ledger: &Ledger,
    step: &Step<'_>,
    elapsed: Duration,
) -> anyhow::Result<()> {
    match step.bookkeeping {
        Bookkeeping::Record(m) => ledger.record(c, m, elapsed.as_millis() as i64).await?,
        Bookkeeping::Remove(version) => ledger.remove(c, version).await?,
    }
    if let Some(audit) = step.audit {
        let mut event = audit.event.clone();
        let ms = format!("{} ms", elapsed.as_millis());
        event.detail = Some(match event.detail {
            Some(detail) => format!("{detail}; {ms}"),
            None => ms,
        });
        audit.log.append(c, &event).await?;
    }
    Ok(())
}
