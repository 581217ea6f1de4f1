//! `migrate approve`, `migrate schedule [list|cancel]` and `migrate audit`.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::approvals::ApprovalStatus;
use super::audit::{AuditRow, EventKind};
use super::report::level_tag;
use super::schedule::{NewSchedule, Scheduled};
use super::session::Session;
use super::when::parse_time;
use crate::context::Globals;
use crate::error::{ExitCode, Failure};
use crate::output::{Report, paint, style};
use crate::risk::Level;

/// What `confiture migrate approve` is asked to do (its arguments, as plain values).
#[derive(Debug, Clone, Default)]
pub struct ApproveRequest {
    /// The pending migration's version.
    pub version: String,
    /// Why, or what the approver checked.
    pub comment: Option<String>,
    /// Approve as this person (default: [`crate::identity::current`]).
    pub approver: Option<String>,
}

/// `migrate approve VERSION`: records an approval of the migration's current checksum.
pub async fn approve(g: &Globals, a: &ApproveRequest) -> anyhow::Result<ExitCode> {
    let session = Session::open(g, a.approver.as_deref()).await?;
    let (m, risk) = session.pending_one(&a.version, &g.out).await?;
    let before = session.approvals(&m, "", 0).await?;
    let already = before
        .valid
        .iter()
        .any(|x| crate::identity::same(&x.approver, &session.actor));
    if !already {
        let event = session.event(
            EventKind::Approval,
            &m,
            Some(risk.level),
            "approved",
            a.comment.clone(),
        );
        session.record(&event).await?;
    }
    let required = session.required(risk.level, false);
    let report = ApproveReport {
        version: m.version.clone(),
        name: m.name.clone(),
        checksum: m.checksum.clone(),
        risk: risk.level,
        approver: session.actor.clone(),
        already_approved: already,
        approvals: session.approvals(&m, "", required).await?,
    };
    g.out.report(&report);
    Ok(ExitCode::Ok)
}

/// What `migrate approve` did.
#[derive(Debug, Serialize)]
struct ApproveReport {
    version: String,
    name: String,
    checksum: String,
    risk: Level,
    approver: String,
    already_approved: bool,
    /// Every approval of this checksum (the applier is not known yet).
    approvals: ApprovalStatus,
}

impl Report for ApproveReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let verb = if self.already_approved {
            "already approved"
        } else {
            "approved"
        };
        writeln!(
            out,
            "{} {}_{} {} as {} (checksum {})",
            paint(style::OK, verb),
            self.version,
            self.name,
            level_tag(self.risk),
            self.approver,
            &self.checksum[..self.checksum.len().min(12)]
        )?;
        let names: Vec<&str> = self
            .approvals
            .valid
            .iter()
            .map(|a| a.approver.as_str())
            .collect();
        writeln!(
            out,
            "  approvals of this checksum: {} ({}); this environment requires {} at {} risk",
            names.len(),
            names.join(", "),
            self.approvals.required,
            self.risk.label().to_ascii_lowercase()
        )?;
        writeln!(
            out,
            "  a change to the file voids this approval; the person applying it cannot count \
             their own"
        )
    }
}

/// What `confiture migrate schedule VERSION --at TIME` is asked to do (its arguments, as plain
/// values).
#[derive(Debug, Clone, Default)]
pub struct ScheduleRequest {
    /// The pending migration's version.
    pub version: String,
    /// When, as [`parse_time`] reads it.
    pub at: String,
    /// Require at least one approval from someone else before it runs.
    pub collaborative: bool,
    /// Schedule as this person (default: [`crate::identity::current`]).
    pub by: Option<String>,
}

/// `migrate schedule VERSION --at TIME`.
pub async fn schedule(g: &Globals, a: &ScheduleRequest) -> anyhow::Result<ExitCode> {
    let session = Session::open(g, a.by.as_deref()).await?;
    let (m, risk) = session.pending_one(&a.version, &g.out).await?;
    let run_at = parse_time(&a.at, Utc::now())?;
    let scheduled = add(&session, &m, risk.level, run_at, a.collaborative).await?;
    g.out.report(&ScheduleReport {
        scheduled: vec![scheduled],
    });
    Ok(ExitCode::Ok)
}

/// Records a schedule of `m` at `at` (and its audit entry); refused when one is pending.
pub(crate) async fn add(
    session: &Session,
    m: &super::files::Migration,
    level: Level,
    run_at: DateTime<Utc>,
    collaborative: bool,
) -> anyhow::Result<Scheduled> {
    session.schedule.ensure(&session.client).await?;
    let risk = level.label().to_ascii_lowercase();
    let new = NewSchedule {
        version: &m.version,
        name: &m.name,
        checksum: &m.checksum,
        risk: &risk,
        run_at,
        scheduled_by: &session.actor,
        approvals_required: session.required(level, collaborative),
    };
    let Some(scheduled) = session.schedule.add(&session.client, &new).await? else {
        return Err(Failure::new(
            ExitCode::Refused,
            format!("{} is already scheduled", m.slug()),
        )
        .hint(format!(
            "`confiture migrate schedule cancel {} --env {}` first to change its time",
            m.version,
            session.environment()
        ))
        .into());
    };
    let detail = format!(
        "run at {}; {} approval(s) required",
        run_at.format("%Y-%m-%d %H:%M:%S UTC"),
        new.approvals_required
    );
    let event = session.event(
        EventKind::Scheduled,
        m,
        Some(level),
        "scheduled",
        Some(detail),
    );
    session.record(&event).await?;
    Ok(scheduled)
}

/// `migrate schedule list [--all]`: the pending schedules, with `all` the finished and
/// cancelled ones too.
pub async fn schedule_list(g: &Globals, all: bool) -> anyhow::Result<ExitCode> {
    let session = Session::open(g, None).await?;
    let scheduled = if session.schedule.exists(&session.client).await? {
        session.schedule.list(&session.client, all).await?
    } else {
        Vec::new()
    };
    g.out.report(&ScheduleReport { scheduled });
    Ok(ExitCode::Ok)
}

/// `migrate schedule cancel VERSION [--as WHO]`: cancels the migration's pending schedule, as
/// `by` (default: [`crate::identity::current`]).
pub async fn schedule_cancel(
    g: &Globals,
    version: &str,
    by: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let session = Session::open(g, by).await?;
    let m = session.ctx.find(version)?.clone();
    let pending = if session.schedule.exists(&session.client).await? {
        session.schedule.list(&session.client, false).await?
    } else {
        Vec::new()
    };
    let Some(row) = pending.into_iter().find(|s| s.version == m.version) else {
        return Err(
            Failure::config(format!("{} has no pending schedule", m.slug()))
                .hint("`confiture migrate schedule list` shows what is scheduled")
                .into(),
        );
    };
    let detail = format!("cancelled by {}", session.actor);
    session
        .schedule
        .finish(&session.client, row.id, "cancelled", Some(&detail))
        .await?;
    let event = session.event(
        EventKind::ScheduleCancelled,
        &m,
        None,
        "cancelled",
        Some(format!("was due {}", row.run_at.to_rfc3339())),
    );
    session.record(&event).await?;
    g.out.line(format!(
        "{} the schedule of {} (was due {})",
        paint(style::OK, "cancelled"),
        m.slug(),
        row.run_at.format("%Y-%m-%d %H:%M:%S UTC")
    ));
    Ok(ExitCode::Ok)
}

/// Scheduled applications, as listed or just made.
#[derive(Debug, Serialize)]
struct ScheduleReport {
    scheduled: Vec<Scheduled>,
}

impl Report for ScheduleReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.scheduled.is_empty() {
            return writeln!(out, "Nothing is scheduled.");
        }
        for s in &self.scheduled {
            writeln!(
                out,
                "{}  {}_{}  [{}]  {}  by {}{}{}",
                s.run_at.format("%Y-%m-%d %H:%M:%S UTC"),
                s.version,
                s.name,
                s.risk,
                s.status,
                s.scheduled_by,
                if s.approvals_required > 0 {
                    format!("; needs {} approval(s)", s.approvals_required)
                } else {
                    String::new()
                },
                s.detail
                    .as_ref()
                    .map(|d| format!("; {d}"))
                    .unwrap_or_default()
            )?;
        }
        Ok(())
    }
}

/// What `confiture migrate audit` is asked to show (its flags, as plain values).
#[derive(Debug, Clone, Default)]
pub struct AuditRequest {
    /// Only this migration's entries.
    pub migration: Option<String>,
    /// Only the last this many entries.
    pub limit: Option<usize>,
}

/// `migrate audit`: the trail, oldest first.
pub async fn audit(g: &Globals, a: &AuditRequest) -> anyhow::Result<ExitCode> {
    let session = Session::open(g, None).await?;
    let version = match &a.migration {
        Some(v) => Some(session.ctx.find(v)?.version.clone()),
        None => None,
    };
    let mut entries = if session.audit.exists(&session.client).await? {
        session
            .audit
            .rows(&session.client, version.as_deref(), None)
            .await?
    } else {
        Vec::new()
    };
    if let Some(limit) = a.limit {
        entries.drain(..entries.len().saturating_sub(limit));
    }
    g.out.report(&AuditReport {
        table: session.audit.name().to_string(),
        entries,
    });
    Ok(ExitCode::Ok)
}

/// The audit trail.
#[derive(Debug, Serialize)]
struct AuditReport {
    table: String,
    entries: Vec<AuditRow>,
}

impl Report for AuditReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.entries.is_empty() {
            return writeln!(out, "The audit trail ({}) is empty.", self.table);
        }
        for e in &self.entries {
            writeln!(
                out,
                "{}  {:<19} {}_{}  {}  by {}{}{}",
                e.at.format("%Y-%m-%d %H:%M:%S"),
                e.event,
                e.version,
                e.name,
                e.outcome,
                e.actor,
                e.risk
                    .as_ref()
                    .map(|r| format!(" [{r}]"))
                    .unwrap_or_default(),
                e.detail
                    .as_ref()
                    .map(|d| format!(" — {d}"))
                    .unwrap_or_default()
            )?;
        }
        Ok(())
    }
}
