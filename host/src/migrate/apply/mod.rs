//! The one applier: runs an ordered list of migration units (up or down) on a connection, each
//! in its own transaction with its tracking-row change, or outside one when the file must;
//! `migrate up`, `migrate down`, `--dry-run-execute`, the wizard and `run-scheduled` all call
//! it. What differs between them is plugged in: a [`Flow`] (a gate asked before each unit —
//! the wizard's questions, a schedule's approvals — and an observer told about each unit), the
//! hooks, and the audit trail. Each unit ends in a typed [`Outcome`].
//!
//! What the applier guarantees, whatever a file or a hook does:
//! - files are checked before anything runs ([`Unit`] holds a checked [`Script`]): transaction
//!   control that would break the unit's transaction, psql meta-commands and unterminated
//!   quotes are refused, naming file:line;
//! - every unit starts from the connection's own session state (see [`SessionReset`]),
//!   and the applier's writes run as the connection's own role;
//! - the transaction is checked after every hook call and every statement that could end it
//!   ([`guard`]); a transactional unit ends committed with its tracking row (confirmed by the
//!   server) or rolled back with nothing left (confirmed too), else the failure says what the
//!   server reports;
//! - a dry run ([`Applier::rehearse`]) runs everything in one transaction that it rolls back,
//!   refuses transaction control in files and in hooks, and says "nothing was changed" only
//!   when the server confirms the rollback.

mod guard;
pub mod indexes;
mod orphans;
mod run;
mod unit;
mod words;

use std::time::Duration;

use serde::Serialize;
use tokio_postgres::Client;

pub use guard::{Ended, SessionReset};
pub use indexes::InvalidIndex;
pub use unit::{Bookkeeping, Unit};
pub use words::in_words;

use super::audit::{AuditEvent, AuditLog, EventKind};
use super::ledger::Ledger;
use crate::db::lock::{LockLost, MigrationLock};
use crate::db::script::ScriptError;
use crate::hooks::HookRun;
use crate::output::Output;
use crate::project::Environment;

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

    /// `lock_timeout` and `statement_timeout` as `set_config` calls for a `SELECT` list,
    /// for the current transaction only when `local`.
    fn set_configs(&self, local: bool) -> String {
        format!(
            "pg_catalog.set_config('lock_timeout', '{}ms', {local}), \
             pg_catalog.set_config('statement_timeout', '{}ms', {local})",
            self.lock_timeout_ms, self.statement_timeout_ms
        )
    }
}

/// What a unit's failure left in the database, as verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "left", rename_all = "snake_case")]
pub enum Left {
    /// Its transaction was rolled back (the server confirmed it): the database and the tracking
    /// table are as they were before it.
    Nothing,
    /// It ran outside a transaction and stopped at a failing statement: the statements before
    /// it ran and stay, and these INVALID indexes appeared.
    Partial {
        /// Lines of the statements that ran.
        ran: Vec<usize>,
        /// Line of the statement that failed.
        failed: usize,
        /// Lines of the statements that did not run.
        not_run: Vec<usize>,
        /// INVALID indexes that appeared while it ran, with the SQL that drops them.
        invalid_indexes: Vec<InvalidIndex>,
    },
    /// It ran outside a transaction to the end, then a later step failed: its changes stay,
    /// and it is not recorded as applied.
    Unrecorded,
    /// Its change is committed with its tracking row; a hook then stopped the run.
    Committed,
    /// Its transaction was ended by something else (named in `by`): what the server says
    /// about it.
    Lost {
        /// What ended it: a statement (file:line) or a hook.
        by: String,
        /// How the server says it ended.
        ended: EndedAs,
    },
    /// The outcome could not be verified (the connection failed).
    Unknown,
    /// It did not start: the run stopped before it (the migration lock was lost).
    NotStarted,
    /// Its connection was lost while it ran, before its COMMIT was sent: PostgreSQL rolls back
    /// the open transaction of a session that ends, so nothing of it is committed.
    Disconnected {
        /// True when the server confirmed the rollback (asked on the lock's connection).
        confirmed: bool,
        /// Its transaction id, for that check.
        #[serde(skip)]
        txid: i64,
    },
}

/// [`Ended`] for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndedAs {
    /// Committed: what ran before is in the database, without its tracking row.
    Committed,
    /// Rolled back: nothing is left.
    RolledBack,
    /// Unknown.
    Unknown,
}

impl From<Ended> for EndedAs {
    fn from(ended: Ended) -> Self {
        match ended {
            Ended::Committed => EndedAs::Committed,
            Ended::RolledBack => EndedAs::RolledBack,
            Ended::Unknown => EndedAs::Unknown,
        }
    }
}

/// A unit that failed: why, and what it left.
#[derive(Debug)]
pub struct UnitFailure {
    /// Why: a [`ScriptError`] when a statement failed, a [`HookAbort`] when a hook stopped
    /// it, or what else went wrong.
    pub error: anyhow::Error,
    /// What the database holds because of it.
    pub left: Left,
}

impl UnitFailure {
    /// The failing statement's error, when a statement failed.
    pub fn script_error(&self) -> Option<&ScriptError> {
        self.error.downcast_ref::<ScriptError>()
    }

    /// True when the run's migration lock was lost before the unit started.
    pub fn lock_lost(&self) -> bool {
        self.error.downcast_ref::<LockLost>().is_some()
    }

    /// True when a statement failed on `lock_timeout`.
    fn is_lock_timeout(&self) -> bool {
        self.script_error()
            .is_some_and(ScriptError::is_lock_timeout)
    }
}

/// How one unit ended.
#[derive(Debug)]
pub enum Outcome {
    /// Ran, and its change is committed with its tracking row (outside a transaction: every
    /// statement ran, then it was recorded).
    Applied {
        /// How long it took.
        elapsed: Duration,
    },
    /// Ran inside a dry run's transaction, which was rolled back at the end.
    Rehearsed {
        /// How long it took.
        elapsed: Duration,
    },
    /// Not run by a dry run: it must run outside a transaction.
    Skipped {
        /// Why it runs outside a transaction.
        why: String,
    },
    /// Failed.
    Failed(Box<UnitFailure>),
    /// A gate stopped the run before it.
    Stopped,
    /// Not run: an earlier unit failed or a gate stopped the run.
    NotRun,
}

impl Outcome {
    /// The duration of a unit that ran.
    pub fn elapsed(&self) -> Option<Duration> {
        match self {
            Outcome::Applied { elapsed } | Outcome::Rehearsed { elapsed } => Some(*elapsed),
            _ => None,
        }
    }

    /// The failure, when it failed.
    pub fn failure(&self) -> Option<&UnitFailure> {
        match self {
            Outcome::Failed(f) => Some(f),
            _ => None,
        }
    }
}

/// A gate's answer before a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Run it.
    Apply,
    /// Stop the run here: neither it nor any later unit runs.
    Stop,
}

/// What a command plugs into the applier: a gate asked before each unit (the wizard's
/// questions, a schedule's approvals) and an observer told about each unit (progress lines).
/// Every method has a default: admit everything, observe nothing.
// Called with static dispatch on the command's own task: the futures need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait Flow {
    /// Whether to run `unit` (a dry run asks no gate).
    async fn admit(&mut self, _unit: &Unit<'_>) -> anyhow::Result<Admission> {
        Ok(Admission::Apply)
    }

    /// `unit` is about to run.
    async fn starting(&mut self, _unit: &Unit<'_>) -> anyhow::Result<()> {
        Ok(())
    }

    /// `unit` ended with `outcome`.
    async fn finished(&mut self, _unit: &Unit<'_>, _outcome: &Outcome) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Admits every unit and observes nothing (the run-level gates — lock, approvals,
/// confirmation — were passed before).
pub struct Plain;

impl Flow for Plain {}

/// Where the applier records applications and failures, and as whom.
#[derive(Debug, Clone, Copy)]
pub struct AuditTrail<'a> {
    /// The trail.
    pub log: &'a AuditLog,
    /// Who runs the command.
    pub actor: &'a str,
    /// The environment's name.
    pub environment: &'a str,
}

impl AuditTrail<'_> {
    /// The entry for `unit`.
    fn event(&self, kind: EventKind, unit: &Unit<'_>, outcome: &str) -> AuditEvent {
        AuditEvent {
            kind,
            actor: self.actor.to_string(),
            environment: self.environment.to_string(),
            version: unit.version.clone(),
            name: unit.name.clone(),
            checksum: unit.checksum.clone(),
            risk: unit.risk,
            outcome: outcome.to_string(),
            detail: unit.audit_detail.clone(),
        }
    }
}

/// The applier and what it works with.
pub struct Applier<'a> {
    /// The connection migrations run on (not the lock's).
    pub client: &'a Client,
    /// The tracking table, schema-qualified.
    pub ledger: &'a Ledger,
    /// Timeouts and retries.
    pub settings: Settings,
    /// The run's hooks.
    pub hooks: &'a mut HookRun,
    /// The audit trail, when the run records there.
    pub audit: Option<AuditTrail<'a>>,
    /// Where retries are warned about.
    pub out: &'a Output,
    /// How each unit's session is brought back to the connection's own state.
    pub reset: SessionReset,
}

/// What a dry run did.
#[derive(Debug)]
pub struct Rehearsal {
    /// Each unit's outcome.
    pub outcomes: Vec<Outcome>,
    /// How the dry run's transaction ended, as the server says: only [`Ended::RolledBack`]
    /// means nothing was changed.
    pub ended: Ended,
    /// What ended the transaction before the applier rolled it back, if something did.
    pub lost_by: Option<String>,
}

impl Applier<'_> {
    /// Runs `units` in order while `lock` is held, each admitted and observed by `flow`,
    /// stopping at the first failure or refusal. Refuses (before anything runs) a unit that
    /// would create an index that exists as INVALID. Returns one outcome per unit.
    ///
    /// No unit starts without the lock: it is verified with the server before each one's
    /// first statement is sent (while its transaction opens), and a lost lock fails that unit
    /// as [`Left::NotStarted`] with a [`LockLost`]. A statement another run left running that
    /// holds a lock on a table the units name refuses the run before anything runs (see
    /// [`orphans`]).
    pub async fn apply(
        &mut self,
        lock: &MigrationLock,
        units: &[Unit<'_>],
        flow: &mut impl Flow,
    ) -> anyhow::Result<Vec<Outcome>> {
        orphans::check(self.client, units, self.out).await?;
        indexes::refuse_invalid_targets(self.client, units).await?;
        self.ledger.ensure(self.client).await?;
        let mut outcomes = Vec::with_capacity(units.len());
        let mut go_on = true;
        for unit in units {
            if !go_on {
                outcomes.push(Outcome::NotRun);
                continue;
            }
            if flow.admit(unit).await? == Admission::Stop {
                outcomes.push(Outcome::Stopped);
                go_on = false;
                continue;
            }
            flow.starting(unit).await?;
            let mut outcome = self.run_unit(lock, unit).await?;
            if let Outcome::Failed(failure) = &mut outcome
                && let Left::Disconnected { confirmed, txid } = &mut failure.left
            {
                *confirmed = lock.rolled_back(*txid).await;
            }
            flow.finished(unit, &outcome).await?;
            go_on = matches!(outcome, Outcome::Applied { .. });
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// The dry run: runs `units` in one transaction while `lock` is held, then rolls it back
    /// and asks the server how it ended. Units that must run outside a transaction are
    /// skipped; `flow` observes (a dry run asks no gate).
    pub async fn rehearse(
        &mut self,
        lock: &MigrationLock,
        units: &[Unit<'_>],
        flow: &mut impl Flow,
    ) -> anyhow::Result<Rehearsal> {
        orphans::check(self.client, units, self.out).await?;
        run::rehearse(self, units, flow, lock).await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Left, Outcome, Settings, UnitFailure};
    use crate::db::lock::LockLost;

    #[test]
    fn the_timeouts_are_set_for_the_session_or_the_transaction() {
        let settings = Settings {
            lock_timeout_ms: 1500,
            statement_timeout_ms: 0,
            lock_retries: 3,
        };
        assert_eq!(
            settings.set_configs(true),
            "pg_catalog.set_config('lock_timeout', '1500ms', true), \
             pg_catalog.set_config('statement_timeout', '0ms', true)"
        );
        assert_eq!(
            settings.set_configs(false),
            "pg_catalog.set_config('lock_timeout', '1500ms', false), \
             pg_catalog.set_config('statement_timeout', '0ms', false)"
        );
    }

    #[test]
    fn an_outcome_tells_its_time_and_its_failure() {
        let second = Duration::from_secs(1);
        assert_eq!(Outcome::Applied { elapsed: second }.elapsed(), Some(second));
        assert_eq!(
            Outcome::Rehearsed { elapsed: second }.elapsed(),
            Some(second)
        );
        let failed = Outcome::Failed(Box::new(UnitFailure {
            error: anyhow::anyhow!("boom"),
            left: Left::Unknown,
        }));
        assert_eq!(failed.elapsed(), None);
        assert_eq!(failed.failure().map(|f| &f.left), Some(&Left::Unknown));
        assert!(Outcome::Applied { elapsed: second }.failure().is_none());
        assert!(Outcome::NotRun.failure().is_none());
    }

    #[test]
    fn a_failure_says_whether_the_lock_was_lost() {
        let lost = UnitFailure {
            error: LockLost {
                table: "tb_confiture".into(),
                why: "its connection closed".into(),
            }
            .into(),
            left: Left::NotStarted,
        };
        assert!(lost.lock_lost());
        assert!(lost.script_error().is_none());
        assert!(!lost.is_lock_timeout());
        let other = UnitFailure {
            error: anyhow::anyhow!("a hook stopped it"),
            left: Left::Nothing,
        };
        assert!(!other.lock_lost());
    }
}
