//! What the wizard, approvals, schedules, `run-scheduled` and the audit command share: the
//! project's migrate context connected to its database, the audit trail and the schedule beside
//! the tracking table, and the person running the command.

use tokio_postgres::Client;

use super::approvals::{ApprovalStatus, required};
use super::audit::{AuditEvent, AuditLog, EventKind};
use super::files::Migration;
use super::schedule::{ScheduleBook, Scheduled};
use super::{Context, assess_live, pending, read_applied};
use crate::context::Globals;
use crate::error::{ExitCode, Failure};
use crate::risk::{Level, MigrationRisk};

/// One command's view of an environment's database.
pub(crate) struct Session {
    /// The project, its migrations, the database and the tracking table.
    pub ctx: Context,
    /// The connection.
    pub client: Client,
    /// The audit trail.
    pub audit: AuditLog,
    /// The schedule.
    pub schedule: ScheduleBook,
    /// Who runs this command.
    pub actor: String,
}

impl Session {
    /// Opens the project and connects; `actor` is `--as` when given.
    pub async fn open(g: &Globals, actor: Option<&str>) -> anyhow::Result<Self> {
        let mut ctx = Context::open(g)?;
        let client = ctx.connect().await?;
        let audit = AuditLog::beside(&ctx.ledger);
        let schedule = ScheduleBook::beside(&ctx.ledger);
        Ok(Session {
            ctx,
            client,
            audit,
            schedule,
            actor: crate::identity::current(actor),
        })
    }

    /// The environment's name.
    pub fn environment(&self) -> &str {
        &self.ctx.project.env.name
    }

    /// The pending migrations (up to `target`) with their risk, in order.
    pub async fn pending(
        &self,
        target: Option<&str>,
        out: &crate::output::Output,
    ) -> anyhow::Result<Vec<(&Migration, MigrationRisk)>> {
        let target = match target {
            Some(v) => Some(self.ctx.find(v)?.version.clone()),
            None => None,
        };
        let applied = read_applied(&self.ctx, &self.client).await?;
        let (pending, _missing) = pending(&self.ctx, &applied, target.as_deref(), out)?;
        let risks = assess_live(&self.ctx, &self.client, &pending).await?;
        Ok(pending.into_iter().zip(risks).collect())
    }

    /// The pending migration with `version`: a configuration failure when there is no such
    /// file, and a refusal when it is already applied.
    pub async fn pending_one(
        &self,
        version: &str,
        out: &crate::output::Output,
    ) -> anyhow::Result<(Migration, MigrationRisk)> {
        let wanted = self.ctx.find(version)?.version.clone();
        let found = self
            .pending(None, out)
            .await?
            .into_iter()
            .find(|(m, _)| m.version == wanted)
            .map(|(m, risk)| (m.clone(), risk));
        found.ok_or_else(|| {
            Failure::new(
                ExitCode::Refused,
                format!(
                    "{wanted} is already applied to {}",
                    self.ctx.db.spec.redacted()
                ),
            )
            .hint("only pending migrations are approved or scheduled; `confiture migrate status` lists them")
            .into()
        })
    }

    /// An audit entry by this session's actor about `m`.
    pub fn event(
        &self,
        kind: EventKind,
        m: &Migration,
        risk: Option<Level>,
        outcome: &str,
        detail: Option<String>,
    ) -> AuditEvent {
        AuditEvent {
            detail,
            ..AuditEvent::about(kind, &self.actor, self.environment(), m, risk, outcome)
        }
    }

    /// An audit entry about a scheduled migration as its schedule row names it (its file may
    /// be gone or changed).
    pub fn scheduled_event(
        &self,
        kind: EventKind,
        row: &Scheduled,
        outcome: &str,
        detail: String,
    ) -> AuditEvent {
        AuditEvent {
            kind,
            actor: self.actor.clone(),
            environment: self.environment().to_string(),
            version: row.version.clone(),
            name: row.name.clone(),
            checksum: row.checksum.clone(),
            risk: None,
            outcome: outcome.to_string(),
            detail: Some(detail),
        }
    }

    /// Appends an entry (creating the trail on first use).
    pub async fn record(&self, event: &AuditEvent) -> anyhow::Result<()> {
        self.audit.ensure(&self.client).await?;
        self.audit.append(&self.client, event).await
    }

    /// Appends an entry unless the migration's last entry says the same thing (a `blocked`
    /// seen by every cron run of `run-scheduled` is recorded once, until something changes).
    pub async fn record_once(&self, event: &AuditEvent) -> anyhow::Result<()> {
        self.audit.ensure(&self.client).await?;
        let rows = self
            .audit
            .rows(&self.client, Some(&event.version), None)
            .await?;
        let repeated = rows.last().is_some_and(|last| {
            last.event == event.kind.as_str()
                && crate::identity::same(&last.actor, &event.actor)
                && last.checksum == event.checksum
                && last.detail == event.detail
        });
        if repeated {
            return Ok(());
        }
        self.audit.append(&self.client, event).await
    }

    /// Where `m` stands on approvals for `applier`, needing `required` of them.
    pub async fn approvals(
        &self,
        m: &Migration,
        applier: &str,
        required: u32,
    ) -> anyhow::Result<ApprovalStatus> {
        let rows = if self.audit.exists(&self.client).await? {
            self.audit
                .rows(&self.client, Some(&m.version), Some(EventKind::Approval))
                .await?
        } else {
            Vec::new()
        };
        Ok(ApprovalStatus::of(&rows, &m.checksum, applier, required))
    }

    /// Approvals a migration at `level` needs in this environment.
    pub fn required(&self, level: Level, collaborative: bool) -> u32 {
        required(
            &self.ctx.project.env.wizard.approvals_required,
            level,
            collaborative,
        )
    }
}
