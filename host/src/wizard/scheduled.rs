//! `confiture migrate run-scheduled`: applies the scheduled migrations that are due, in
//! version order, without prompts (for cron or CI) — each only when its file is unchanged
//! since it was scheduled, every earlier pending migration is applied, and its approvals are
//! complete (people other than the one who scheduled it).

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::audit::EventKind;
use super::schedule::Scheduled;
use super::session::Session;
use crate::cli::{Globals, RunScheduledArgs};
use crate::error::ExitCode;
use crate::hooks::{HookOutcome, HookRun};
use crate::migrate::runner::{Settings, StepAudit};
use crate::output::{Report, paint, style};
use crate::plugins::HookEvent;
use crate::risk::Level;

/// `migrate run-scheduled`.
pub async fn run_scheduled(g: &Globals, a: &RunScheduledArgs) -> anyhow::Result<ExitCode> {
    let mut session = Session::open(g, None).await?;
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
        let result = apply_due(&mut session, g, a, &mut hooks, &mut report).await;
        lock.release().await?;
        result
    }
    .await;
    if let Err(err) = result {
        hooks.failed(None, false, &err, &session.client).await;
        return Err(err);
    }
    report.hooks = hooks.take_outcomes();
    g.out.report(&report);
    Ok(report.exit_code())
}

async fn apply_due(
    session: &mut Session,
    g: &Globals,
    a: &RunScheduledArgs,
    hooks: &mut HookRun,
    report: &mut RunReport,
) -> anyhow::Result<()> {
    let out = &g.out;
    let due = session.schedule.due(&session.client).await?;
    if due.is_empty() {
        return Ok(());
    }
    let mut pending = session.pending(None, out).await?;
    hooks
        .validate(HookEvent::PostValidate, &session.client)
        .await?;
    session.ctx.ledger.ensure(&session.client).await?;
    session.audit.ensure(&session.client).await?;
    let settings = Settings::from_env(&session.ctx.project.env);
    for row in &due {
        let mut run = Run::new(row);
        let on_disk = session
            .ctx
            .migrations
            .iter()
            .find(|m| m.version == row.version);
        let position = pending.iter().position(|(m, _)| m.version == row.version);
        match (on_disk, position) {
            (None, _) => {
                let detail = format!("{} is no longer in the migrations directory", row.version);
                fail(session, row, &mut run, detail).await?;
            }
            (Some(_), None) => {
                let detail = "already applied (not by this schedule)".to_string();
                session
                    .schedule
                    .finish(&session.client, row.id, "applied", Some(&detail))
                    .await?;
                run.outcome = "already applied".into();
                run.detail = Some(detail);
            }
            (Some(m), Some(_)) if m.checksum != row.checksum => {
                let detail = format!(
                    "{} changed since it was scheduled (checksum {} then, {} now): schedule it \
                     again after review",
                    m.slug(),
                    short(&row.checksum),
                    short(&m.checksum)
                );
                fail(session, row, &mut run, detail).await?;
            }
            (Some(_), Some(index)) if index > 0 => {
                run.outcome = "waiting".into();
                run.detail = Some(format!(
                    "waits for the earlier pending migration {}",
                    pending[0].0.slug()
                ));
            }
            (Some(_), Some(_)) => {
                let (m, risk) = pending.remove(0);
                run.risk = Some(risk.level);
                let required = u32::try_from(row.approvals_required)
                    .unwrap_or(0)
                    .max(session.required(risk.level, a.collaborative));
                let status = session.approvals(&m, &row.scheduled_by, required).await?;
                if !status.complete() {
                    let summary = status.summary();
                    let event = session.event(
                        EventKind::Blocked,
                        &m,
                        Some(risk.level),
                        "approvals missing",
                        Some(summary.clone()),
                    );
                    session.record_once(&event).await?;
                    pending.insert(0, (m, risk));
                    run.outcome = "blocked".into();
                    run.detail = Some(summary);
                    report.runs.push(run);
                    continue;
                }
                let event = session.event(
                    EventKind::Applied,
                    &m,
                    Some(risk.level),
                    "applied",
                    Some(format!("scheduled by {}", row.scheduled_by)),
                );
                let audit = StepAudit {
                    log: &session.audit,
                    event: &event,
                };
                let applied = crate::migrate::apply_migration(
                    &session.ctx,
                    &mut session.client,
                    &m,
                    settings,
                    Some(audit),
                    out,
                    hooks,
                )
                .await;
                match applied {
                    Ok(elapsed) => {
                        session
                            .schedule
                            .finish(&session.client, row.id, "applied", None)
                            .await?;
                        run.outcome = "applied".into();
                        run.duration_ms = Some(elapsed.as_millis() as u64);
                    }
                    Err(err) => {
                        fail(session, row, &mut run, format!("{err:#}")).await?;
                        report.runs.push(run);
                        break;
                    }
                }
            }
        }
        report.runs.push(run);
    }
    Ok(())
}

/// Marks a schedule failed, with its audit entry.
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
    run.outcome = "failed".into();
    run.detail = Some(detail);
    Ok(())
}

fn short(checksum: &str) -> &str {
    &checksum[..checksum.len().min(12)]
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
    /// `applied`, `already applied`, `blocked`, `waiting` or `failed`.
    outcome: String,
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
            outcome: String::new(),
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
        if self.runs.iter().any(|r| r.outcome == "failed") {
            ExitCode::Failure
        } else if self
            .runs
            .iter()
            .any(|r| r.outcome == "blocked" || r.outcome == "waiting")
        {
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
            let outcome = match r.outcome.as_str() {
                "applied" | "already applied" => paint(style::OK, &r.outcome),
                "failed" => paint(style::ERR, &r.outcome),
                _ => paint(style::WARN, &r.outcome),
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
