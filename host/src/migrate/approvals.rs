//! Approvals: who approved a migration, bound to its checksum (a changed file voids them), and
//! whether enough people other than the one applying it have.

use serde::Serialize;
use tokio_postgres::Client;

use super::audit::{AuditLog, AuditRow, EventKind};
use super::files::Migration;
use super::{Context, assess_live};
use crate::error::{ExitCode, Failure};
use crate::project::settings::wizard::ApprovalsRequired;
use crate::risk::Level;

/// How many approvals a migration at `level` needs: the environment's
/// `wizard.approvals_required`, and at least one under `--collaborative`.
pub fn required(settings: &ApprovalsRequired, level: Level, collaborative: bool) -> u32 {
    settings.at(level).max(u32::from(collaborative))
}

/// `migrate up` on an environment whose `wizard.approvals_required` asks for approvals:
/// refuses (exit 7, nothing applied) unless every pending migration has enough of them from
/// people other than the one running it, so the policy cannot be side-stepped.
pub(crate) async fn enforce(
    ctx: &Context,
    client: &Client,
    pending: &[&Migration],
) -> anyhow::Result<()> {
    let policy = &ctx.project.env.wizard.approvals_required;
    if *policy == ApprovalsRequired::default() {
        return Ok(());
    }
    let risks = assess_live(ctx, client, pending).await?;
    let audit = AuditLog::beside(&ctx.ledger);
    let rows = if audit.exists(client).await? {
        audit.rows(client, None, Some(EventKind::Approval)).await?
    } else {
        Vec::new()
    };
    let applier = crate::identity::current(None);
    let mut missing = Vec::new();
    for (m, risk) in pending.iter().zip(&risks) {
        let needed = required(policy, risk.level, false);
        let own: Vec<AuditRow> = rows
            .iter()
            .filter(|r| r.version == m.version)
            .cloned()
            .collect();
        let status = ApprovalStatus::of(&own, &m.checksum, &applier, needed);
        if !status.complete() {
            missing.push(format!(
                "{} [{}]: {}",
                m.slug(),
                risk.level.label(),
                status.summary()
            ));
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(Failure::new(
        ExitCode::Refused,
        format!(
            "environment `{}` requires approvals (wizard.approvals_required) that {} pending \
             migration(s) lack; nothing was applied: {}",
            ctx.project.env.name,
            missing.len(),
            missing.join("; ")
        ),
    )
    .hint(
        "ask colleagues to run `confiture migrate approve VERSION --env ...`, then run this again",
    )
    .into())
}

/// One approval as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Approval {
    /// Who approved.
    pub approver: String,
    /// When, RFC 3339.
    pub at: String,
    /// Their comment.
    pub comment: Option<String>,
}

impl Approval {
    fn of(row: &AuditRow) -> Self {
        Approval {
            approver: crate::identity::normalise(&row.actor),
            at: row.at.format("%Y-%m-%d %H:%M UTC").to_string(),
            comment: row.detail.clone(),
        }
    }
}

/// Where a migration stands on approvals, seen by the person applying it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalStatus {
    /// Approvals needed.
    pub required: u32,
    /// Approvals that count: other people, this checksum (one per person).
    pub valid: Vec<Approval>,
    /// The applier's own approval of this checksum, which does not count.
    pub own: Option<Approval>,
    /// Approvals of an earlier checksum: the file changed since, so they are void.
    pub voided: Vec<Approval>,
}

impl ApprovalStatus {
    /// Sorts the `approval` rows of one migration for `applier` and the current `checksum`.
    /// People are compared by [`crate::identity::same`]: one person's spellings count once,
    /// and never as someone other than the applier.
    pub fn of(rows: &[AuditRow], checksum: &str, applier: &str, required: u32) -> Self {
        let applier = crate::identity::normalise(applier);
        let mut status = ApprovalStatus {
            required,
            valid: Vec::new(),
            own: None,
            voided: Vec::new(),
        };
        for row in rows
            .iter()
            .filter(|r| r.event == EventKind::Approval.as_str())
        {
            let approval = Approval::of(row);
            let listed = |list: &[Approval]| list.iter().any(|a| a.approver == approval.approver);
            if row.checksum != checksum {
                if !listed(&status.voided) {
                    status.voided.push(approval);
                }
            } else if approval.approver == applier {
                status.own.get_or_insert(approval);
            } else if !listed(&status.valid) {
                status.valid.push(approval);
            }
        }
        // Someone who approved both the old and the new file is not "voided".
        let valid: Vec<String> = status.valid.iter().map(|a| a.approver.clone()).collect();
        status
            .voided
            .retain(|a| !valid.contains(&a.approver) && a.approver != applier);
        status
    }

    /// True when enough people other than the applier approved this checksum.
    pub fn complete(&self) -> bool {
        self.valid.len() as u32 >= self.required
    }

    /// Approvals still missing.
    pub fn missing(&self) -> u32 {
        self.required.saturating_sub(self.valid.len() as u32)
    }

    /// One line: who approved, what is missing, and why some approvals do not count.
    pub fn summary(&self) -> String {
        let count = self.valid.len() as u32;
        let mut parts = vec![if count > self.required {
            format!("{count} ({} required)", self.required)
        } else {
            format!("{count} of {}", self.required)
        }];
        if !self.valid.is_empty() {
            let names: Vec<&str> = self.valid.iter().map(|a| a.approver.as_str()).collect();
            parts.push(format!("approved by {}", names.join(", ")));
        }
        if self.missing() > 0 {
            parts.push(format!("{} more needed", self.missing()));
        }
        if let Some(own) = &self.own {
            parts.push(format!(
                "{}'s own approval does not count for their own application",
                own.approver
            ));
        }
        if !self.voided.is_empty() {
            let names: Vec<&str> = self.voided.iter().map(|a| a.approver.as_str()).collect();
            parts.push(format!("void since the file changed: {}", names.join(", ")));
        }
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn approval(actor: &str, checksum: &str) -> AuditRow {
        AuditRow {
            id: 0,
            at: Utc::now(),
            event: "approval".into(),
            actor: actor.into(),
            environment: "production".into(),
            version: "001".into(),
            name: "x".into(),
            checksum: checksum.into(),
            risk: Some("high".into()),
            outcome: "approved".into(),
            detail: None,
        }
    }

    #[test]
    fn own_approval_does_not_count() {
        let rows = [approval("ana", "c1")];
        let status = ApprovalStatus::of(&rows, "c1", "ana", 1);
        assert!(!status.complete());
        assert_eq!(
            status.own.as_ref().map(|a| a.approver.as_str()),
            Some("ana")
        );
        assert!(
            status
                .summary()
                .contains("ana's own approval does not count")
        );
        let status = ApprovalStatus::of(&rows, "c1", "bo", 1);
        assert!(status.complete());
    }

    #[test]
    fn a_changed_checksum_voids_approvals() {
        let rows = [
            approval("bo", "old"),
            approval("cy", "old"),
            approval("cy", "new"),
        ];
        let status = ApprovalStatus::of(&rows, "new", "ana", 2);
        assert_eq!(status.valid.len(), 1);
        assert_eq!(status.missing(), 1);
        assert_eq!(status.voided.len(), 1, "cy re-approved: only bo's is void");
        assert!(status.summary().contains("void since the file changed: bo"));
    }

    #[test]
    fn spellings_of_one_email_are_one_person() {
        let rows = [
            approval("ANA@Example.org", "c"),
            approval("bo@example.org", "c"),
            approval(" BO@example.org ", "c"),
        ];
        let status = ApprovalStatus::of(&rows, "c", "ana@example.org ", 2);
        assert_eq!(
            status.own.as_ref().map(|a| a.approver.as_str()),
            Some("ana@example.org"),
            "the applier's own approval, whatever its spelling"
        );
        assert_eq!(status.valid.len(), 1, "bo counts once");
        assert!(!status.complete());
        assert_eq!(status.summary().split(';').next(), Some("1 of 2"));
    }

    #[test]
    fn more_approvals_than_required_read_as_such() {
        let rows = [approval("bo", "c"), approval("cy", "c")];
        let summary = ApprovalStatus::of(&rows, "c", "ana", 1).summary();
        assert!(
            summary.starts_with("2 (1 required); approved by bo, cy"),
            "{summary}"
        );
        assert!(!summary.contains("2 of 1"), "{summary}");
    }

    #[test]
    fn one_person_counts_once() {
        let rows = [approval("bo", "c"), approval("bo", "c")];
        assert!(!ApprovalStatus::of(&rows, "c", "ana", 2).complete());
        assert!(ApprovalStatus::of(&rows, "c", "ana", 1).complete());
        assert!(ApprovalStatus::of(&[], "c", "ana", 0).complete());
    }

    #[test]
    fn collaborative_needs_at_least_one() {
        let settings = ApprovalsRequired {
            low: 0,
            high: 1,
            critical: 2,
        };
        assert_eq!(required(&settings, Level::Low, false), 0);
        assert_eq!(required(&settings, Level::Low, true), 1);
        assert_eq!(required(&settings, Level::Critical, true), 2);
        assert_eq!(
            required(&ApprovalsRequired::default(), Level::High, false),
            0
        );
    }
}
