//! The audit trail: an append-only table beside the tracking table (`<table>_audit`) that
//! records reviews, approvals, backup confirmations, schedules, applications and failures —
//! who, when, which migration and checksum, its risk, and the outcome.
//!
//! Append-only is enforced in the database: a trigger rejects `UPDATE`, `DELETE` and
//! `TRUNCATE` on the table (an owner can still drop the trigger; the trail guards against
//! mistakes and tools, not against a superuser).

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::GenericClient;

use anyhow::Context;
use tokio_postgres::types::Type;

use super::ledger::{Companion, Ledger};
use crate::risk::Level;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A migration's SQL was reviewed in the wizard.
    Review,
    /// Someone approved a migration (bound to its checksum).
    Approval,
    /// The operator confirmed (or refused to confirm) a backup before a critical migration.
    BackupConfirmation,
    /// An application was scheduled.
    Scheduled,
    /// A scheduled application was cancelled.
    ScheduleCancelled,
    /// A migration was applied.
    Applied,
    /// An applied migration was rolled back with its `.down.sql` (`migrate down`).
    RolledBack,
    /// A migration failed and was rolled back (or, outside a transaction, stopped).
    Failed,
    /// The operator said no, or did not answer in time: nothing was applied.
    Declined,
    /// Approvals were missing: nothing was applied.
    Blocked,
}

impl EventKind {
    /// The name stored in the `event` column.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Review => "review",
            EventKind::Approval => "approval",
            EventKind::BackupConfirmation => "backup_confirmation",
            EventKind::Scheduled => "scheduled",
            EventKind::ScheduleCancelled => "schedule_cancelled",
            EventKind::Applied => "applied",
            EventKind::RolledBack => "rolled_back",
            EventKind::Failed => "failed",
            EventKind::Declined => "declined",
            EventKind::Blocked => "blocked",
        }
    }
}

/// One event to append.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    /// What happened.
    pub kind: EventKind,
    /// Who did it.
    pub actor: String,
    /// The environment's name.
    pub environment: String,
    /// The migration's version.
    pub version: String,
    /// The migration's name.
    pub name: String,
    /// The `.up.sql` checksum at the time.
    pub checksum: String,
    /// The migration's risk level.
    pub risk: Option<Level>,
    /// How it ended, in a word or two (`applied`, `confirmed`, `timed out`, ...).
    pub outcome: String,
    /// Anything else worth keeping: a comment, an error, a time.
    pub detail: Option<String>,
}

impl AuditEvent {
    /// An entry by `actor` in `environment` about migration `m`.
    pub fn about(
        kind: EventKind,
        actor: &str,
        environment: &str,
        m: &super::files::Migration,
        risk: Option<Level>,
        outcome: &str,
    ) -> Self {
        AuditEvent {
            kind,
            actor: actor.to_string(),
            environment: environment.to_string(),
            version: m.version.clone(),
            name: m.name.clone(),
            checksum: m.checksum.clone(),
            risk,
            outcome: outcome.to_string(),
            detail: None,
        }
    }
}

/// A row read back from the trail.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    /// Increasing id.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// What happened (an [`EventKind`] name).
    pub event: String,
    /// Who.
    pub actor: String,
    /// The environment.
    pub environment: String,
    /// The migration's version.
    pub version: String,
    /// The migration's name.
    pub name: String,
    /// The checksum at the time.
    pub checksum: String,
    /// The risk level at the time.
    pub risk: Option<String>,
    /// How it ended.
    pub outcome: String,
    /// Comment, error or time.
    pub detail: Option<String>,
}

/// The audit table of a tracking table.
#[derive(Debug, Clone)]
pub struct AuditLog {
    table: Companion,
}

impl AuditLog {
    /// The trail kept beside `ledger` (`<table>_audit`).
    pub fn beside(ledger: &Ledger) -> Self {
        AuditLog {
            table: ledger.companion("audit"),
        }
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        self.table.name()
    }

    /// Creates the table and its append-only triggers when missing (safe to run from several
    /// processes at once).
    pub async fn ensure(&self, c: &impl GenericClient) -> anyhow::Result<()> {
        let t = self.table.quoted();
        let bare = self.table.bare();
        let guard = self.table.sibling("append_only");
        self.table
            .create(
                c,
                &format!(
                    "CREATE TABLE IF NOT EXISTS {t} (\n\
                       id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n\
                       at TIMESTAMPTZ NOT NULL DEFAULT pg_catalog.clock_timestamp(),\n\
                       event TEXT NOT NULL,\n\
                       actor TEXT NOT NULL,\n\
                       environment TEXT NOT NULL,\n\
                       version TEXT NOT NULL,\n\
                       name TEXT NOT NULL,\n\
                       checksum TEXT NOT NULL,\n\
                       risk TEXT,\n\
                       outcome TEXT NOT NULL,\n\
                       detail TEXT\n\
                     );\n\
                     CREATE INDEX IF NOT EXISTS \"{bare}_version_idx\" ON {t} (version, event);\n\
                     CREATE OR REPLACE FUNCTION {guard}() RETURNS trigger LANGUAGE plpgsql AS $f$\n\
                     BEGIN\n\
                       RAISE EXCEPTION 'the audit trail % is append-only: % is not allowed', \
                         TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';\n\
                     END $f$;\n\
                     DO $d$ BEGIN\n\
                       IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid = '{t_lit}'::pg_catalog.regclass \
                         AND tgname = 'append_only_rows') THEN\n\
                         CREATE TRIGGER append_only_rows BEFORE UPDATE OR DELETE ON {t} \
                           FOR EACH ROW EXECUTE FUNCTION {guard}();\n\
                         CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON {t} \
                           FOR EACH STATEMENT EXECUTE FUNCTION {guard}();\n\
                       END IF;\n\
                     END $d$;",
                    t_lit = t.replace('\'', "''"),
                ),
            )
            .await
    }

    /// True when the table exists.
    pub async fn exists(&self, c: &impl GenericClient) -> anyhow::Result<bool> {
        self.table.exists(c).await
    }

    /// Appends `event`.
    pub async fn append(&self, c: &impl GenericClient, event: &AuditEvent) -> anyhow::Result<()> {
        let risk = event.risk.map(|l| l.label().to_ascii_lowercase());
        c.execute_typed(
            &format!(
                "INSERT INTO {} (event, actor, environment, version, name, checksum, risk, \
                 outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                self.table.quoted()
            ),
            &[
                (&event.kind.as_str(), Type::TEXT),
                (&event.actor, Type::TEXT),
                (&event.environment, Type::TEXT),
                (&event.version, Type::TEXT),
                (&event.name, Type::TEXT),
                (&event.checksum, Type::TEXT),
                (&risk, Type::TEXT),
                (&event.outcome, Type::TEXT),
                (&event.detail, Type::TEXT),
            ],
        )
        .await
        .with_context(|| {
            format!(
                "recording `{}` of {}_{} in the audit trail {}",
                event.kind.as_str(),
                event.version,
                event.name,
                self.table.name()
            )
        })?;
        Ok(())
    }

    /// The rows, oldest first; only `version`'s when given, only `kind` when given.
    pub async fn rows(
        &self,
        c: &impl GenericClient,
        version: Option<&str>,
        kind: Option<EventKind>,
    ) -> anyhow::Result<Vec<AuditRow>> {
        let kind = kind.map(EventKind::as_str);
        let rows = c
            .query(
                &format!(
                    "SELECT id, at, event, actor, environment, version, name, checksum, risk, \
                            outcome, detail FROM {} \
                     WHERE ($1::text IS NULL OR version OPERATOR(pg_catalog.=) $1) \
                       AND ($2::text IS NULL OR event OPERATOR(pg_catalog.=) $2) \
                     ORDER BY id",
                    self.table.quoted()
                ),
                &[&version, &kind],
            )
            .await
            .with_context(|| format!("reading the audit trail {}", self.table.name()))?;
        Ok(rows
            .iter()
            .map(|r| AuditRow {
                id: r.get(0),
                at: r.get(1),
                event: r.get(2),
                actor: r.get(3),
                environment: r.get(4),
                version: r.get(5),
                name: r.get(6),
                checksum: r.get(7),
                risk: r.get(8),
                outcome: r.get(9),
                detail: r.get(10),
            })
            .collect())
    }
}
