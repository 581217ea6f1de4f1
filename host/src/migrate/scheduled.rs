//! `confiture migrate run-scheduled`: applies the scheduled migrations that are due, in
//! version order, without prompts (for cron or CI) — each only when its file is unchanged
//! since it was scheduled, every earlier pending migration is applied, and its approvals are
//! complete (people other than the one who scheduled it).

use std::collections::HashMap;
use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::apply::{Admission, Applier, AuditTrail, Flow, Outcome, SessionReset, Settings, Unit};
use super::audit::EventKind;
use super::commands::LockOptions;
use super::files::Migration;
use super::schedule::Scheduled;
use super::session::Session;
use crate::context::Globals;
use crate::db::lock::MigrationLock;
use crate::error::ExitCode;
use crate::hooks::{HookOutcome, HookRun};
use crate::output::{Report, paint, style};
use crate::plugins::HookEvent;
use crate::risk::{Level, MigrationRisk};

/// What `confiture migrate run-scheduled` is asked to do (its flags, as plain values).
#[derive(Debug, Clone, Default)]
pub struct RunScheduledRequest {
    /// Require at least one approval from someone else for every scheduled migration.
    pub collaborative: bool,
    /// How to wait for the migration lock.
    pub lock: LockOptions,
}

/// `migrate run-scheduled`.
pub async fn run_scheduled(g: &Globals, a: &RunScheduledRequest) -> anyhow::Result<ExitCode> {
    let session = Session::open(g, None).await?;
    let mut report = RunReport {
        database: session.ctx.db.spec.redacted(),
        runs: Vec::new(),
        hooks: Vec::new(),
    };
    // Nothing due: no hooks, no lock, no audit entry (this runs from cron every few minutes).
    if !session.schedule.exists(&session.client).await?
        || session.schedule.due(&session.client).await?.is_empty()
    {
        g.out.report(&report);
        return Ok(ExitCode::Ok);
    }
    let mut hooks = HookRun::load(g, &session.ctx.project, "migrate run-scheduled", false)?;
    let result = async {
        hooks
            .validate(HookEvent::PreValidate, &session.client)
            .await?;
        let lock = session.ctx.lock(&a.lock, &g.out).await?;
        let result = apply_due(&session, g, a, &mut hooks, &lock).await;
        lock.release().await;
        result
    }
    .await;
    match result {
        Ok(runs) => report.runs = runs,
        Err(err) => {
            hooks.failed(None, false, &err, &session.client).await;
            return Err(err);
        }
    }
    report.hooks = hooks.take_outcomes();
    g.out.report(&report);
    Ok(report.exit_code())
}

/// Under the lock: settles the due schedules that cannot run (file gone, already applied,
/// file changed), then applies the pending migrations in order while each is due and
/// approved; the rest wait.
async fn apply_due(
    session: &Session,
    g: &Globals,
    a: &RunScheduledRequest,
    hooks: &mut HookRun,
    lock: &MigrationLock,
) -> anyhow::Result<Vec<Run>> {
    let due = session.schedule.due(&session.client).await?;
    let pending = session.pending(None, &g.out).await?;
    hooks
        .validate(HookEvent::PostValidate, &session.client)
        .await?;
    session.audit.ensure(&session.client).await?;
    let mut runs: Vec<Run> = due.iter().map(Run::new).collect();
    // The due rows that can run, by version.
    let mut runnable: HashMap<&str, usize> = HashMap::new();
    for (index, row) in due.iter().enumerate() {
        let on_disk = session
            .ctx
            .migrations
            .iter()
            .find(|m| m.version == row.version);
        let waiting = pending.iter().find(|(m, _)| m.version == row.version);
        match (on_disk, waiting) {
            (None, _) => {
                let detail = format!("{} is no longer in the migrations directory", row.version);
                fail(session, row, &mut runs[index], detail).await?;
            }
            (Some(_), None) => {
                let detail = "already applied (not by this schedule)".to_string();
                session
                    .schedule
                    .finish(&session.client, row.id, "applied", Some(&detail))
                    .await?;
                runs[index].outcome = RunOutcome::AlreadyApplied;
                runs[index].detail = Some(detail);
            }
            (Some(m), Some(_)) if m.checksum != row.checksum => {
                let detail = format!(
                    "{} changed since it was scheduled (checksum {} then, {} now): schedule it \
                     again after review",
                    m.slug(),
                    short(&row.checksum),
                    short(&m.checksum)
                );
                fail(session, row, &mut runs[index], detail).await?;
            }
            (Some(_), Some(_)) => {
                runnable.insert(row.version.as_str(), index);
            }
        }
    }
    // The pending migrations, in order, while each has a due schedule.
    let prefix: Vec<&(&Migration, MigrationRisk)> = pending
        .iter()
        .take_while(|(m, _)| runnable.contains_key(m.version.as_str()))
        .collect();
    let mut units = Vec::with_capacity(prefix.len());
    for (m, risk) in &prefix {
        let row = &due[runnable[m.version.as_str()]];
        let mut unit = Unit::up(m, session.ctx.show(&m.up_path))?;
        unit.risk = Some(risk.level);
        unit.audit_detail = Some(format!("scheduled by {}", row.scheduled_by));
        units.push(unit);
    }
    let mut gate = Approvals {
        session,
        due: &due,
        runnable: &runnable,
        runs: &mut runs,
        collaborative: a.collaborative,
    };
    let outcomes = if units.is_empty() {
        Vec::new()
    } else {
        let mut applier = Applier {
            client: &session.client,
            ledger: &session.ctx.ledger,
            settings: Settings::from_env(&session.ctx.project.env),
            hooks,
            audit: Some(AuditTrail {
                log: &session.audit,
                actor: &session.actor,
                environment: session.environment(),
            }),
            out: &g.out,
            reset: SessionReset::for_server(&session.client).await?,
        };
        applier.apply(lock, &units, &mut gate).await?
    };
    for (unit, outcome) in units.iter().zip(&outcomes) {
        let index = runnable[unit.version.as_str()];
        let row = &due[index];
        match outcome {
            Outcome::Applied { elapsed } => {
                session
                    .schedule
                    .finish(&session.client, row.id, "applied", None)
                    .await?;
                runs[index].outcome = RunOutcome::Applied;
                runs[index].duration_ms = Some(elapsed.as_millis() as u64);
            }
            Outcome::Failed(failure) => {
                let detail = crate::error::one_line(&failure.error);
                session
                    .schedule
                    .finish(&session.client, row.id, "failed", Some(&detail))
                    .await?;
                runs[index].outcome = RunOutcome::Failed;
                runs[index].detail = Some(detail);
            }
            _ => {}
        }
    }
    // Every runnable schedule not applied waits for the first pending migration still pending.
    let applied = |m: &Migration| {
        units
            .iter()
            .zip(&outcomes)
            .any(|(u, o)| u.version == m.version && matches!(o, Outcome::Applied { .. }))
    };
    if let Some((first, _)) = pending.iter().find(|(m, _)| !applied(m)) {
        for (version, &index) in &runnable {
            if runs[index].outcome == RunOutcome::Pending && *version != first.version {
                runs[index].outcome = RunOutcome::Waiting;
                runs[index].detail = Some(format!(
                    "waits for the earlier pending migration {}",
                    first.slug()
                ));
            }
        }
    }
    Ok(runs)
}

/// The gate of a scheduled application: its approvals, from people other than the one who
/// scheduled it.
struct Approvals<'a> {
    session: &'a Session,
    due: &'a [Scheduled],
    runnable: &'a HashMap<&'a str, usize>,
    runs: &'a mut Vec<Run>,
    collaborative: bool,
}

impl Flow for Approvals<'_> {
    async fn admit(&mut self, unit: &Unit<'_>) -> anyhow::Result<Admission> {
        let index = self.runnable[unit.version.as_str()];
        let row = &self.due[index];
        let level = unit.risk.unwrap_or(Level::Low);
        self.runs[index].risk = Some(level);
        let required = u32::try_from(row.approvals_required)
            .unwrap_or(0)
            .max(self.session.required(level, self.collaborative));
        let Some(m) = unit.migration() else {
            return Ok(Admission::Apply);
        };
        let status = self
            .session
            .approvals(m, &row.scheduled_by, required)
            .await?;
        if status.complete() {
            return Ok(Admission::Apply);
        }
        let summary = status.summary();
        let event = self.session.event(
            EventKind::Blocked,
            m,
            Some(level),
            "approvals missing",
            Some(summary.clone()),
        );
        self.session.record_once(&event).await?;
        self.runs[index].outcome = RunOutcome::Blocked;
        self.runs[index].detail = Some(summary);
        Ok(Admission::Stop)
    }
}

/// Marks a schedule that cannot run failed, with its audit entry.
async fn fail(
    session: &Session,
    row: &Scheduled,
    run: &mut Run,
    detail: String,
) -> anyhow::Result<()> {
    session
        .schedule
        .finish(&session.client, row.id, "failed", Some(&detail))
        .await?;
    let event = session.scheduled_event(EventKind::Failed, row, "failed", detail.clone());
    session.record(&event).await?;
    run.outcome = RunOutcome::Failed;
    run.detail = Some(detail);
    Ok(())
}

fn short(checksum: &str) -> &str {
    &checksum[..checksum.len().min(12)]
}

/// How a due schedule ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
enum RunOutcome {
    /// Not settled yet (never reported: every due schedule gets one of the others).
    #[serde(rename = "pending")]
    Pending,
    /// Applied now.
    #[serde(rename = "applied")]
    Applied,
    /// Applied earlier by other means.
    #[serde(rename = "already applied")]
    AlreadyApplied,
    /// Its approvals are missing.
    #[serde(rename = "blocked")]
    Blocked,
    /// An earlier pending migration has not been applied.
    #[serde(rename = "waiting")]
    Waiting,
    /// It failed, or cannot run (file gone or changed).
    #[serde(rename = "failed")]
    Failed,
}

impl RunOutcome {
    fn word(self) -> &'static str {
        match self {
            RunOutcome::Pending => "pending",
            RunOutcome::Applied => "applied",
            RunOutcome::AlreadyApplied => "already applied",
            RunOutcome::Blocked => "blocked",
            RunOutcome::Waiting => "waiting",
            RunOutcome::Failed => "failed",
        }
    }
}

/// One due schedule's outcome.
#[derive(Debug, Serialize)]
struct Run {
    version: String,
    name: String,
    run_at: DateTime<Utc>,
    scheduled_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    risk: Option<Level>,
    outcome: RunOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

impl Run {
    fn new(row: &Scheduled) -> Self {
        Run {
            version: row.version.clone(),
            name: row.name.clone(),
            run_at: row.run_at,
            scheduled_by: row.scheduled_by.clone(),
            risk: None,
            outcome: RunOutcome::Pending,
            duration_ms: None,
            detail: None,
        }
    }
}

/// What `run-scheduled` did.
#[derive(Debug, Serialize)]
struct RunReport {
    database: String,
    runs: Vec<Run>,
    hooks: Vec<HookOutcome>,
}

impl RunReport {
    fn exit_code(&self) -> ExitCode {
        let any = |o: RunOutcome| self.runs.iter().any(|r| r.outcome == o);
        if any(RunOutcome::Failed) {
            ExitCode::Failure
        } else if any(RunOutcome::Blocked) || any(RunOutcome::Waiting) {
            ExitCode::Refused
        } else {
            ExitCode::Ok
        }
    }
}

impl Report for RunReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.runs.is_empty() {
            return writeln!(out, "Nothing scheduled is due on {}.", self.database);
        }
        for r in &self.runs {
            let word = r.outcome.word();
            let outcome = match r.outcome {
                RunOutcome::Applied | RunOutcome::AlreadyApplied => paint(style::OK, word),
                RunOutcome::Failed => paint(style::ERR, word),
                _ => paint(style::WARN, word),
            };
            writeln!(
                out,
                "{outcome} {}_{} (due {}, scheduled by {}){}{}",
                r.version,
                r.name,
                r.run_at.format("%Y-%m-%d %H:%M:%S UTC"),
                r.scheduled_by,
                r.duration_ms
                    .map(|ms| format!(" in {ms} ms"))
                    .unwrap_or_default(),
                r.detail
                    .as_ref()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            )?;
        }
        Ok(())
    }
}
