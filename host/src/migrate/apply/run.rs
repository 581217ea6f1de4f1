//! Running units: one in its own transaction (retried on lock timeouts), its statements sent
//! in batches once the transaction is open; one statement by statement outside a transaction;
//! or every unit in the one transaction of a dry run.

use std::future::Future;
use std::task::Poll;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::future::Either;
use tokio_postgres::Client;

use super::guard::{Ended, OWN_IDENTITY, Txn};
use super::indexes::invalid_indexes;
use super::{Applier, Bookkeeping, Flow, Left, Outcome, Rehearsal, Unit, UnitFailure};
use crate::db::lock::{LockLost, MigrationLock};
use crate::db::script::{ScriptError, execute};
use crate::hooks::{MigrationRef, Status};
use crate::plugins::hooks::Direction;
use crate::plugins::{HookEvent, PgDatabase};
use crate::sql::SqlStatement;
use crate::sql::transaction::cannot_end_transaction;

/// A step of a unit failed.
struct StepFailure {
    error: anyhow::Error,
    /// What ended the transaction, when the guard found it gone.
    lost_by: Option<String>,
}

impl StepFailure {
    fn new(error: impl Into<anyhow::Error>) -> Self {
        StepFailure {
            error: error.into(),
            lost_by: None,
        }
    }

    fn lost(by: String) -> Self {
        StepFailure {
            error: anyhow::anyhow!(
                "the migration's transaction was ended by {by}, not by Confiture"
            ),
            lost_by: Some(by),
        }
    }
}

impl<T: Into<anyhow::Error>> From<T> for StepFailure {
    fn from(error: T) -> Self {
        StepFailure::new(error)
    }
}

/// The error of `statements[failed]`, with the lines that ran before it and did not after, and
/// the sessions seen blocking it when it failed on `lock_timeout`.
fn located(
    file: &str,
    statements: &[&SqlStatement<'_>],
    failed: usize,
    err: &tokio_postgres::Error,
    blockers: Vec<String>,
) -> ScriptError {
    let statement = statements[failed];
    let mut error = ScriptError::from_postgres(file, statement.text, statement.line, err);
    error.ran = statements[..failed].iter().map(|s| s.line).collect();
    error.not_run = statements[failed + 1..].iter().map(|s| s.line).collect();
    if error.is_lock_timeout() {
        error.blocked_by = blockers;
    }
    error
}

/// Runs `work` (statements on the work connection) while watching, on the lock's
/// connection, who blocks this run: every three quarters of `lock_timeout` while it runs, the
/// sessions holding the locks it waits for are noted, so that a failure on `lock_timeout` can
/// name them. Returns its result and the sessions last seen blocking it, described (for a
/// batch, seen while any of its statements waited).
async fn watched<T>(
    work: impl Future<Output = T>,
    lock: &MigrationLock,
    lock_timeout_ms: u64,
) -> (T, Vec<String>) {
    if lock_timeout_ms == 0 {
        return (work.await, Vec::new());
    }
    let every = watch_every(lock_timeout_ms);
    tokio::pin!(work);
    let mut seen = Vec::new();
    loop {
        let watcher = async {
            tokio::time::sleep(every).await;
            lock.blocking_this_run().await
        };
        tokio::select! {
            result = &mut work => return (result, seen),
            blockers = watcher => {
                if !blockers.is_empty() {
                    seen = blockers.iter().map(ToString::to_string).collect();
                }
            }
        }
    }
}

/// How often [`watched`] looks for blockers: at three quarters of `lock_timeout`, so that a
/// statement waiting on a lock is seen blocked before the timeout ends it; not more often than
/// every 50 ms, whatever the timeout.
fn watch_every(lock_timeout_ms: u64) -> Duration {
    Duration::from_millis((lock_timeout_ms * 3 / 4).max(50))
}

/// Most statements sent in one round trip: bounds what waits in memory for its answer (a data
/// migration can hold hundreds of thousands of statements).
const MOST_IN_FLIGHT: usize = 256;

/// The statements, from the first, that go out together in one round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Batch {
    /// How many.
    len: usize,
    /// True when the last one could end the transaction, so the guard's check follows it.
    check_last: bool,
}

/// The batch at the start of `statements`: those that [`cannot_end_transaction`], then one
/// more (only the guard's check travels behind it), never a `COPY` (its data waits for the
/// server's go-ahead); at most [`MOST_IN_FLIGHT`]. Each statement is classified once.
fn batch(statements: &[&SqlStatement<'_>]) -> Batch {
    let sendable = |s: &&&SqlStatement<'_>| s.copy_data.is_none();
    let lead = statements
        .iter()
        .take(MOST_IN_FLIGHT)
        .take_while(|s| sendable(s) && cannot_end_transaction(s.text))
        .count();
    let check_last = statements
        .get(lead)
        .is_some_and(|s| lead < MOST_IN_FLIGHT && sendable(&s));
    Batch {
        len: lead + usize::from(check_last),
        check_last,
    }
}

/// What a statement sent in a batch came back with: its own result, then the id of the
/// transaction the session was in right after it (the guard's check), for the one statement
/// of the batch that could end the transaction.
type Sent = (
    Result<u64, tokio_postgres::Error>,
    Option<Result<Option<i64>, tokio_postgres::Error>>,
);

/// Sends `statements` one behind the other, the last followed by the guard's check when
/// `check_last`, without waiting for answers, and returns what each came back with, in order.
/// Every request goes out when its future is first polled (tokio-postgres), so each is polled
/// once, in file order, before any answer is awaited.
async fn send_batch(
    client: &Client,
    statements: &[&SqlStatement<'_>],
    check_last: bool,
) -> Vec<Sent> {
    let mut in_flight = Vec::with_capacity(statements.len());
    for (k, &statement) in statements.iter().enumerate() {
        let checked = check_last && k + 1 == statements.len();
        let mut sent = Box::pin(async move {
            let check = async {
                if checked {
                    Some(Txn::current_id(client).await)
                } else {
                    None
                }
            };
            tokio::join!(biased; execute(client, statement), check)
        });
        // Sends it now, behind the ones before (it is ready at once only when it could not be
        // sent at all).
        let first = std::future::poll_fn(|cx| Poll::Ready(sent.as_mut().poll(cx))).await;
        in_flight.push(match first {
            Poll::Ready(answer) => Either::Right(std::future::ready(answer)),
            Poll::Pending => Either::Left(sent),
        });
    }
    let mut answers = Vec::with_capacity(in_flight.len());
    for sent in in_flight {
        answers.push(sent.await);
    }
    answers
}

/// Checks what a batch of `statements`, from the `from`-th, came back with ([`send_batch`]):
/// the first that failed is the unit's failure (those after it found the transaction aborted),
/// and the transaction must still be `txn` after each that was checked.
fn check_sent(
    txn: &Txn,
    file: &str,
    statements: &[&SqlStatement<'_>],
    from: usize,
    sent: Vec<Sent>,
    blockers: Vec<String>,
) -> Result<(), StepFailure> {
    for (k, (ran, id)) in (from..).zip(sent) {
        if let Err(err) = ran {
            return Err(StepFailure::new(located(
                file, statements, k, &err, blockers,
            )));
        }
        if let Some(id) = id
            && !txn.is(id?)
        {
            return Err(StepFailure::lost(at(file, statements[k])));
        }
    }
    Ok(())
}

/// A unit that did not start: the run's migration lock is lost.
fn not_started(lost: LockLost) -> UnitFailure {
    UnitFailure {
        error: lost.into(),
        left: Left::NotStarted,
    }
}

/// What a step's failure left, once the server said how the transaction `ended`.
fn left_by(lost_by: Option<String>, ended: Ended) -> Left {
    match (lost_by, ended) {
        (Some(by), ended) => Left::Lost {
            by,
            ended: ended.into(),
        },
        (None, Ended::RolledBack) => Left::Nothing,
        (None, Ended::Committed) => Left::Lost {
            by: "an unknown statement".to_string(),
            ended: Ended::Committed.into(),
        },
        (None, Ended::Unknown) => Left::Unknown,
    }
}

/// The unit's `COMMIT`, as the server answered it and reports the transaction ended.
fn committed(error: Option<tokio_postgres::Error>, ended: Ended) -> Result<(), UnitFailure> {
    match (error, ended) {
        (None, Ended::Committed) => Ok(()),
        (error, ended) => Err(UnitFailure {
            error: match error {
                Some(error) => anyhow::Error::new(error).context("COMMIT failed"),
                None => {
                    anyhow::anyhow!("COMMIT was answered with ROLLBACK: the transaction had failed")
                }
            },
            left: match ended {
                Ended::RolledBack => Left::Nothing,
                _ => Left::Unknown,
            },
        }),
    }
}

/// Where a statement is, for people.
fn at(file: &str, statement: &SqlStatement<'_>) -> String {
    format!("the statement at {file}:{}", statement.line)
}

impl Applier<'_> {
    /// The unit as hooks see it, when any hook is registered (its SQL is copied only then).
    fn hook_ref(&self, unit: &Unit<'_>) -> Option<MigrationRef> {
        let idle = HookEvent::ALL.iter().all(|event| self.hooks.idle(*event));
        (!idle).then(|| unit.hook_ref())
    }

    /// Runs one unit with its hooks, retries and audit entries. A unit's failure is its
    /// outcome; an error is the run's own (the audit trail could not be written).
    pub(super) async fn run_unit(
        &mut self,
        lock: &MigrationLock,
        unit: &Unit<'_>,
    ) -> anyhow::Result<Outcome> {
        let hook = self.hook_ref(unit);
        let result = if unit.script.outside_transaction() {
            self.outside(lock, unit, hook.as_ref()).await
        } else {
            self.with_retries(lock, unit, hook.as_ref()).await
        };
        let failure = match result {
            Ok(elapsed) => match (&hook, unit.direction) {
                (Some(hook), Direction::Down) => {
                    let ms = elapsed.as_millis() as u64;
                    match self
                        .hooks
                        .rolled_back(hook, Some(ms), None, self.client)
                        .await
                    {
                        Ok(()) => return Ok(Outcome::Applied { elapsed }),
                        Err(abort) => UnitFailure {
                            error: abort.into(),
                            left: Left::Committed,
                        },
                    }
                }
                _ => return Ok(Outcome::Applied { elapsed }),
            },
            Err(failure) => failure,
        };
        // A unit that did not start (the lock is lost) has nothing to report to hooks or the
        // audit trail.
        if failure.left != Left::NotStarted {
            self.after_failure(unit, hook.as_ref(), &failure).await?;
        }
        Ok(Outcome::Failed(Box::new(failure)))
    }

    /// Fires `post-rollback` (when rolled back) and `on-error`, and records the failure in the
    /// audit trail.
    async fn after_failure(
        &mut self,
        unit: &Unit<'_>,
        hook: Option<&MigrationRef>,
        failure: &UnitFailure,
    ) -> anyhow::Result<()> {
        let rolled_back = failure.left == Left::Nothing;
        self.hooks
            .failed(hook, rolled_back, &failure.error, self.client)
            .await;
        if let Some(audit) = self.audit {
            let mut event = audit.event(super::EventKind::Failed, unit, "failed");
            event.detail = Some(crate::error::one_line(&failure.error));
            match audit.log.append(self.client, &event).await {
                // The failure is reported all the same; a lost connection cannot write it.
                Err(error) if self.client.is_closed() => self.out.warn(format!(
                    "{}: not recorded in the audit trail (the connection is lost): {}",
                    unit.slug(),
                    crate::error::one_line(&error)
                )),
                // The run ends on the refusal; say first what the failure was and left.
                written => written.with_context(|| {
                    let slug = unit.slug();
                    format!(
                        "{slug} failed ({}); {}; and the audit trail refused to record that \
                         failure",
                        crate::error::one_line(&failure.error),
                        super::in_words(&slug, unit.direction, &failure.left, false)
                    )
                })?,
            }
        }
        Ok(())
    }

    /// [`Applier::in_transaction`], run again (after a backoff) when a statement failed on
    /// `lock_timeout` and the environment allows retries.
    async fn with_retries(
        &mut self,
        lock: &MigrationLock,
        unit: &Unit<'_>,
        hook: Option<&MigrationRef>,
    ) -> Result<Duration, UnitFailure> {
        let mut attempt = 0;
        let mut backoff = Duration::from_millis(200);
        loop {
            match self.in_transaction(lock, unit, hook).await {
                Err(failure)
                    if attempt < self.settings.lock_retries
                        && failure.is_lock_timeout()
                        && failure.left == Left::Nothing =>
                {
                    attempt += 1;
                    let blockers = failure
                        .script_error()
                        .map(|e| e.blocked_by.join("; "))
                        .filter(|b| !b.is_empty())
                        .map(|b| format!(" (blocked by {b})"))
                        .unwrap_or_default();
                    self.out.warn(format!(
                        "{}: lock timeout (SQLSTATE 55P03){blockers}; rolled back, retry \
                         {attempt}/{} in {} ms",
                        unit.script.file,
                        self.settings.lock_retries,
                        backoff.as_millis()
                    ));
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
                result => return result,
            }
        }
    }

    /// Runs the unit in a transaction of its own, committed with its tracking row (see
    /// [`Applier::open_unit`] for how it opens), its statements sent in batches.
    async fn in_transaction(
        &mut self,
        lock: &MigrationLock,
        unit: &Unit<'_>,
        hook: Option<&MigrationRef>,
    ) -> Result<Duration, UnitFailure> {
        let started = Instant::now();
        let txn = self.open_unit(lock, unit).await?;
        let step = match self.statements(&txn, unit, hook, lock).await {
            Ok(()) if self.listens(HookEvent::PostExecute, hook) => {
                self.close(&txn, unit, hook, started, true).await
            }
            Ok(()) => return self.record_and_commit(txn, unit, started).await,
            Err(step) => Err(step),
        };
        if let Err(step) = step {
            return Err(self.abandon(txn, step).await);
        }
        let (error, ended) = txn.commit(self.client).await;
        committed(error, ended).map(|()| started.elapsed())
    }

    /// Resets the session and opens the unit's transaction while the lock is verified on its
    /// own connection (two connections, one round trip). The unit's statements are sent only
    /// once both have answered: a statement sent behind a `BEGIN` that failed (a cancel that
    /// arrived late, a statement timeout) would run outside any transaction.
    async fn open_unit(&self, lock: &MigrationLock, unit: &Unit<'_>) -> Result<Txn, UnitFailure> {
        let client = self.client;
        let modes = unit
            .script
            .plan
            .wrapper
            .as_ref()
            .map_or("", |w| w.modes.as_str());
        let setup = self.settings.set_configs(true);
        let (verified, opened) = tokio::join!(
            lock.verify(),
            Txn::begin(client, &self.reset, modes, &setup)
        );
        match (verified, opened) {
            (Ok(()), Ok(txn)) => Ok(txn),
            (verified, opened) => {
                // Nothing of the unit was sent; leave no transaction open.
                let _ = client.batch_execute("ROLLBACK").await;
                Err(match (verified, opened) {
                    (Err(lost), _) => not_started(lost),
                    (Ok(()), Err(error)) => UnitFailure {
                        error,
                        left: Left::Nothing,
                    },
                    (Ok(()), Ok(_)) => unreachable!("both succeeded above"),
                })
            }
        }
    }

    /// Rolls back `txn` after a failed `step`, and says what that left, as the server reports.
    async fn abandon(&self, txn: Txn, step: StepFailure) -> UnitFailure {
        let txid = txn.id();
        let ended = txn.rollback(self.client).await;
        if self.client.is_closed() && step.lost_by.is_none() {
            return UnitFailure {
                error: step.error,
                left: Left::Disconnected {
                    confirmed: false,
                    txid,
                },
            };
        }
        UnitFailure {
            error: step.error,
            left: left_by(step.lost_by, ended),
        }
    }

    /// The tracking row (and audit entry) and `COMMIT` sent together, in one round trip: used
    /// when no `post-execute` hook runs between them. The server keeps both or neither — a
    /// failed write aborts the transaction, and its `COMMIT` is then answered with `ROLLBACK`
    /// — and the server says how the transaction ended. The write needs no check of its own:
    /// none of its statements can end a transaction, and the last one of the unit that could
    /// was checked.
    async fn record_and_commit(
        &self,
        txn: Txn,
        unit: &Unit<'_>,
        started: Instant,
    ) -> Result<Duration, UnitFailure> {
        let elapsed = started.elapsed();
        let (recorded, (error, ended)) =
            tokio::join!(self.book(unit, elapsed, true), txn.commit(self.client));
        match recorded {
            Ok(()) => committed(error, ended).map(|()| started.elapsed()),
            // Its COMMIT went out with the write: how the transaction ended is the server's
            // answer, unknown when the connection is lost before it answers.
            Err(step) => Err(UnitFailure {
                error: step.error,
                left: left_by(step.lost_by, ended),
            }),
        }
    }

    /// True when a hook listens to `event` for this unit.
    fn listens(&self, event: HookEvent, hook: Option<&MigrationRef>) -> bool {
        hook.is_some() && !self.hooks.idle(event)
    }

    /// Inside `txn`, after its statements: the tracking row (and audit entry when `audit`),
    /// then `post-execute` — the transaction checked after the hook.
    async fn close(
        &mut self,
        txn: &Txn,
        unit: &Unit<'_>,
        hook: Option<&MigrationRef>,
        started: Instant,
        audit: bool,
    ) -> Result<(), StepFailure> {
        let elapsed = started.elapsed();
        self.book(unit, elapsed, audit).await?;
        self.fire(
            HookEvent::PostExecute,
            hook,
            Status::Applied,
            Some(elapsed),
            Some(txn),
        )
        .await
    }

    /// Inside `txn`: `pre-execute` and the unit's statements (watched through `lock`, see
    /// [`watched`]), sent in batches ([`batch`]) — the transaction checked after each
    /// statement that could end it.
    async fn statements(
        &mut self,
        txn: &Txn,
        unit: &Unit<'_>,
        hook: Option<&MigrationRef>,
        lock: &MigrationLock,
    ) -> Result<(), StepFailure> {
        let client = self.client;
        self.fire(
            HookEvent::PreExecute,
            hook,
            Status::Running,
            None,
            Some(txn),
        )
        .await?;
        let statements = unit.statements();
        let file = &unit.script.file;
        let lock_timeout = self.settings.lock_timeout_ms;
        let mut k = 0;
        while k < statements.len() {
            let statement = statements[k];
            if statement.copy_data.is_none() {
                let Batch { len: n, check_last } = batch(&statements[k..]);
                let (sent, blockers) = watched(
                    send_batch(client, &statements[k..k + n], check_last),
                    lock,
                    lock_timeout,
                )
                .await;
                check_sent(txn, file, &statements, k, sent, blockers)?;
                k += n;
                continue;
            }
            // A copy's check waits for its data to be sent.
            let (ran, blockers) = watched(execute(client, statement), lock, lock_timeout).await;
            let id = match ran {
                Ok(_) => Some(Txn::current_id(client).await),
                Err(_) => None,
            };
            check_sent(txn, file, &statements, k, vec![(ran, id)], blockers)?;
            k += 1;
        }
        Ok(())
    }

    /// Fires a per-unit event (when a hook listens); inside `txn`, checks it afterwards.
    async fn fire(
        &mut self,
        event: HookEvent,
        hook: Option<&MigrationRef>,
        status: Status,
        elapsed: Option<Duration>,
        txn: Option<&Txn>,
    ) -> Result<(), StepFailure> {
        let Some(hook) = hook else { return Ok(()) };
        if self.hooks.idle(event) {
            return Ok(());
        }
        let mut db = PgDatabase::on_connection(self.client, txn.is_some());
        let ms = elapsed.map(|e| e.as_millis() as u64);
        let fired = self
            .hooks
            .fire(event, Some(hook), status, ms, None, Some(&mut db))
            .await;
        if let Some(txn) = txn
            && !txn.is_ours(self.client).await?
        {
            return Err(StepFailure::lost(format!("a hook on {}", event.name())));
        }
        fired.map_err(StepFailure::new)
    }

    /// The tracking-row change (and the audit entry, when `audit` and the run has a trail),
    /// written as the connection's own role. One round trip. Its statements cannot end a
    /// transaction, so inside one they need no check of the guard.
    async fn book(
        &self,
        unit: &Unit<'_>,
        elapsed: Duration,
        audit: bool,
    ) -> Result<(), StepFailure> {
        let client = self.client;
        let ms = elapsed.as_millis() as i64;
        let record = async {
            match unit.bookkeeping {
                Bookkeeping::Record(m) => self.ledger.record(client, m, ms).await,
                Bookkeeping::Remove => self.ledger.remove(client, &unit.version).await,
            }
        };
        let trail = async {
            match self.audit.filter(|_| audit) {
                Some(trail) => {
                    let mut event = match unit.direction {
                        Direction::Up => trail.event(super::EventKind::Applied, unit, "applied"),
                        Direction::Down => {
                            trail.event(super::EventKind::RolledBack, unit, "rolled back")
                        }
                    };
                    let took = format!("{ms} ms");
                    event.detail = Some(match event.detail {
                        Some(detail) => format!("{detail}; {took}"),
                        None => took,
                    });
                    trail.log.append(client, &event).await
                }
                None => Ok(()),
            }
        };
        let (identity, recorded, trailed) =
            tokio::join!(client.batch_execute(OWN_IDENTITY), record, trail);
        identity?;
        recorded?;
        trailed?;
        Ok(())
    }

    /// Runs the unit outside a transaction: statement by statement, each committed on its
    /// own; recorded once all ran. A failure names what ran and the INVALID indexes it left.
    async fn outside(
        &mut self,
        lock: &MigrationLock,
        unit: &Unit<'_>,
        hook: Option<&MigrationRef>,
    ) -> Result<Duration, UnitFailure> {
        let client = self.client;
        let started = Instant::now();
        let nothing = |error: anyhow::Error| UnitFailure {
            error,
            left: Left::Nothing,
        };
        let timeouts = format!("SELECT {}", self.settings.set_configs(false));
        // The lock is verified on its own connection while this one is prepared.
        let (verified, reset, before, set) = tokio::join!(
            lock.verify(),
            self.reset.run(client),
            invalid_indexes(client),
            client.batch_execute(&timeouts),
        );
        verified.map_err(not_started)?;
        reset
            .map_err(anyhow::Error::from)
            .and(set.map_err(anyhow::Error::from))
            .map_err(nothing)?;
        let before = before.map_err(|e| nothing(e.into()))?;
        self.fire(HookEvent::PreExecute, hook, Status::Running, None, None)
            .await
            .map_err(|step| nothing(step.error))?;
        let statements = unit.statements();
        for (k, statement) in statements.iter().enumerate() {
            let (ran, blockers) = watched(
                execute(client, statement),
                lock,
                self.settings.lock_timeout_ms,
            )
            .await;
            if let Err(err) = ran {
                let error = located(&unit.script.file, &statements, k, &err, blockers);
                return Err(UnitFailure {
                    error: error.into(),
                    left: self.partial(&statements, k, &before).await,
                });
            }
        }
        let elapsed = started.elapsed();
        let unrecorded = |error: anyhow::Error| UnitFailure {
            error,
            left: Left::Unrecorded,
        };
        self.reset
            .run(client)
            .await
            .map_err(|e| unrecorded(e.into()))?;
        // Fired before the tracking row is written: a hook under `abort` leaves the migration
        // unrecorded (its statements ran and cannot be undone).
        self.fire(
            HookEvent::PostExecute,
            hook,
            Status::Applied,
            Some(elapsed),
            None,
        )
        .await
        .map_err(|step| unrecorded(step.error))?;
        self.book(unit, elapsed, true)
            .await
            .map_err(|step| unrecorded(step.error))?;
        Ok(elapsed)
    }

    /// What a unit run outside a transaction left when its statement `failed` failed: a
    /// transaction the file opened is rolled back, the session reset, and the INVALID indexes
    /// that were not there `before` named.
    async fn partial(
        &self,
        statements: &[&SqlStatement<'_>],
        failed: usize,
        before: &[super::InvalidIndex],
    ) -> Left {
        let client: &Client = self.client;
        let _ = client.batch_execute("ROLLBACK").await;
        let _ = self.reset.run(client).await;
        let Ok(now) = invalid_indexes(client).await else {
            return Left::Unknown;
        };
        Left::Partial {
            ran: statements[..failed].iter().map(|s| s.line).collect(),
            failed: statements[failed].line,
            not_run: statements[failed + 1..].iter().map(|s| s.line).collect(),
            invalid_indexes: now.into_iter().filter(|i| !before.contains(i)).collect(),
        }
    }
}

/// The dry run: every unit that can run in a transaction runs in one, which is then rolled
/// back; the server says how it ended.
pub(super) async fn rehearse(
    applier: &mut Applier<'_>,
    units: &[Unit<'_>],
    flow: &mut impl Flow,
    lock: &MigrationLock,
) -> anyhow::Result<Rehearsal> {
    let client = applier.client;
    let setup = applier.settings.set_configs(true);
    let txn = Txn::begin(client, &applier.reset, "", &setup).await?;
    let mut outcomes = Vec::with_capacity(units.len());
    // A missing tracking table is created inside the transaction, and rolled back with it.
    let prepared = async {
        if !applier.ledger.exists(client).await? {
            applier.ledger.ensure(client).await?;
        }
        anyhow::Ok(txn.is_ours(client).await?)
    }
    .await;
    if !matches!(prepared, Ok(true)) {
        let ended = txn.rollback(client).await;
        let error = prepared.err().unwrap_or_else(|| {
            anyhow::anyhow!("the dry run's transaction ended while creating the tracking table")
        });
        return Err(error.context(format!(
            "preparing the dry run (the server reports its transaction as {ended:?})"
        )));
    }
    let mut failed: Option<(usize, Option<MigrationRef>, StepFailure)> = None;
    for (index, unit) in units.iter().enumerate() {
        if failed.is_some() {
            outcomes.push(Outcome::NotRun);
            continue;
        }
        if let Some(why) = unit.script.why_outside() {
            outcomes.push(Outcome::Skipped { why });
            continue;
        }
        flow.starting(unit).await?;
        let started = Instant::now();
        let hook = applier.hook_ref(unit);
        // Every unit starts from the same session state, inside the one transaction.
        let set = format!("SELECT {setup}");
        let (reset, set) = tokio::join!(
            applier.reset.run_in_transaction(client),
            client.batch_execute(&set)
        );
        let step = match reset.and(set) {
            Ok(()) => match applier.statements(&txn, unit, hook.as_ref(), lock).await {
                Ok(()) => {
                    applier
                        .close(&txn, unit, hook.as_ref(), started, false)
                        .await
                }
                Err(step) => Err(step),
            },
            Err(err) => Err(StepFailure::new(err)),
        };
        match step {
            Ok(()) => {
                let outcome = Outcome::Rehearsed {
                    elapsed: started.elapsed(),
                };
                flow.finished(unit, &outcome).await?;
                outcomes.push(outcome);
            }
            Err(step) => {
                failed = Some((index, hook, step));
                outcomes.push(Outcome::NotRun);
            }
        }
    }
    let ended = txn.rollback(client).await;
    let lost_by = failed
        .as_ref()
        .and_then(|(_, _, step)| step.lost_by.clone());
    if let Some((index, hook, step)) = failed
        && let Some(unit) = units.get(index)
    {
        let failure = UnitFailure {
            left: left_by(step.lost_by, ended),
            error: step.error,
        };
        applier
            .hooks
            .failed(
                hook.as_ref(),
                failure.left == Left::Nothing,
                &failure.error,
                client,
            )
            .await;
        let outcome = Outcome::Failed(Box::new(failure));
        flow.finished(unit, &outcome).await?;
        outcomes[index] = outcome;
    }
    Ok(Rehearsal {
        outcomes,
        ended,
        lost_by,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Batch, Ended, Left, MOST_IN_FLIGHT, at, batch, committed, left_by, watch_every};
    use crate::migrate::apply::EndedAs;
    use crate::sql::split_statements;

    fn of(sql: &str) -> (usize, bool) {
        let statements = split_statements(sql);
        let Batch { len, check_last } = batch(&statements.iter().collect::<Vec<_>>());
        (len, check_last)
    }

    #[test]
    fn a_batch_is_the_statements_that_keep_the_transaction_and_one_more_never_a_copy() {
        let kept =
            "CREATE TABLE t (a int); INSERT INTO t VALUES (1); SELECT 1; CREATE TABLE u (a int);";
        assert_eq!(of(kept), (4, false));
        assert_eq!(
            of("CREATE TABLE t (a int); VACUUM t; CREATE TABLE u (a int);"),
            (2, true)
        );
        assert_eq!(of("COMMIT; CREATE TABLE t (a int);"), (1, true));
        assert_eq!(
            of("CREATE TABLE t (a int); COPY t FROM stdin;\n1\n\\.\n"),
            (1, false)
        );
        assert_eq!(of("COPY t FROM stdin;\n1\n\\.\n"), (0, false));
        let many = "INSERT INTO t VALUES (1);\n".repeat(MOST_IN_FLIGHT + 10);
        assert_eq!(of(&many), (MOST_IN_FLIGHT, false));
        let then_vacuum = format!(
            "{}VACUUM t;",
            "INSERT INTO t VALUES (1);\n".repeat(MOST_IN_FLIGHT)
        );
        assert_eq!(of(&then_vacuum), (MOST_IN_FLIGHT, false));
    }

    #[test]
    fn a_failure_leaves_what_the_server_says_of_the_transaction() {
        let lost = |by: &str, ended| Left::Lost {
            by: by.to_string(),
            ended,
        };
        let by = || Some("the statement at 001_a.up.sql:3".to_string());
        // Ended by a statement or a hook: named, however it ended.
        assert_eq!(
            left_by(by(), Ended::RolledBack),
            lost("the statement at 001_a.up.sql:3", EndedAs::RolledBack)
        );
        assert_eq!(
            left_by(by(), Ended::Committed),
            lost("the statement at 001_a.up.sql:3", EndedAs::Committed)
        );
        assert_eq!(
            left_by(by(), Ended::Unknown),
            lost("the statement at 001_a.up.sql:3", EndedAs::Unknown)
        );
        // A failing step of a transaction Confiture still held.
        assert_eq!(left_by(None, Ended::RolledBack), Left::Nothing);
        assert_eq!(
            left_by(None, Ended::Committed),
            lost("an unknown statement", EndedAs::Committed)
        );
        assert_eq!(left_by(None, Ended::Unknown), Left::Unknown);
    }

    #[test]
    fn a_commit_counts_only_when_the_server_says_it_committed() {
        assert!(committed(None, Ended::Committed).is_ok());
        // COMMIT answered with ROLLBACK (the transaction had failed): nothing is left.
        let failure = committed(None, Ended::RolledBack).unwrap_err();
        assert_eq!(failure.left, Left::Nothing);
        assert!(
            failure.error.to_string().contains("answered with ROLLBACK"),
            "{:#}",
            failure.error
        );
        // No word from the server: nothing is claimed.
        assert_eq!(
            committed(None, Ended::Unknown).unwrap_err().left,
            Left::Unknown
        );
    }

    #[test]
    fn blockers_are_looked_for_before_the_lock_timeout_ends_the_wait() {
        assert_eq!(watch_every(2_000), Duration::from_millis(1_500));
        assert_eq!(watch_every(10_000), Duration::from_millis(7_500));
        // Never more often than every 50 ms.
        assert_eq!(watch_every(60), Duration::from_millis(50));
        assert_eq!(watch_every(1), Duration::from_millis(50));
    }

    #[test]
    fn a_statement_is_named_by_its_file_and_line() {
        let statements = split_statements("-- first\n\nSELECT 1;\n  SELECT 2;");
        assert_eq!(
            at("db/migrations/001_a.up.sql", &statements[1]),
            "the statement at db/migrations/001_a.up.sql:4"
        );
    }
}
