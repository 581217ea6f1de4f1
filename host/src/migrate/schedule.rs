//! Scheduled applications: a table beside the tracking table (`<table>_schedule`) with one row
//! per scheduled migration — when, by whom, for which checksum, how many approvals it needed
//! then, and how it ended (`pending`, `applied`, `failed`, `cancelled`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::GenericClient;

use anyhow::Context;

use super::ledger::{Companion, Ledger};

/// A scheduled application as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Scheduled {
    /// Row id.
    pub id: i64,
    /// The migration's version.
    pub version: String,
    /// The migration's name.
    pub name: String,
    /// The `.up.sql` checksum it was scheduled with: a changed file is not applied.
    pub checksum: String,
    /// Its risk level then (`low`, `high`, `critical`).
    pub risk: String,
    /// When it is due.
    pub run_at: DateTime<Utc>,
    /// Who scheduled it (their own approval does not count).
    pub scheduled_by: String,
    /// When it was scheduled.
    pub scheduled_at: DateTime<Utc>,
    /// Approvals it needed when scheduled (`--collaborative` or the environment's policy).
    pub approvals_required: i32,
    /// `pending`, `applied`, `failed` or `cancelled`.
    pub status: String,
    /// When it was applied, failed or cancelled.
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it failed, or who cancelled it.
    pub detail: Option<String>,
}

/// What to record for a new schedule.
#[derive(Debug, Clone)]
pub struct NewSchedule<'a> {
    /// The migration's version.
    pub version: &'a str,
    /// The migration's name.
    pub name: &'a str,
    /// Its checksum now.
    pub checksum: &'a str,
    /// Its risk level now.
    pub risk: &'a str,
    /// When it is due.
    pub run_at: DateTime<Utc>,
    /// Who schedules it.
    pub scheduled_by: &'a str,
    /// Approvals required now.
    pub approvals_required: u32,
}

/// The schedule table of a tracking table.
#[derive(Debug, Clone)]
pub struct ScheduleBook {
    table: Companion,
}

const COLUMNS: &str = "id, version, name, checksum, risk, run_at, scheduled_by, scheduled_at, \
                       approvals_required, status, finished_at, detail";

impl ScheduleBook {
    /// The schedule kept beside `ledger` (`<table>_schedule`).
    pub fn beside(ledger: &Ledger) -> Self {
        ScheduleBook {
            table: ledger.companion("schedule"),
        }
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        self.table.name()
    }

    /// Creates the table when missing (safe to run from several processes at once).
    pub async fn ensure(&self, c: &impl GenericClient) -> anyhow::Result<()> {
        let t = self.table.quoted();
        let bare = self.table.bare();
        self.table
            .create(
                c,
                &format!(
                    "CREATE TABLE IF NOT EXISTS {t} (\n\
                       id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n\
                       version TEXT NOT NULL,\n\
                       name TEXT NOT NULL,\n\
                       checksum TEXT NOT NULL,\n\
                       risk TEXT NOT NULL,\n\
                       run_at TIMESTAMPTZ NOT NULL,\n\
                       scheduled_by TEXT NOT NULL,\n\
                       scheduled_at TIMESTAMPTZ NOT NULL DEFAULT pg_catalog.now(),\n\
                       approvals_required INTEGER NOT NULL DEFAULT 0,\n\
                       status TEXT NOT NULL DEFAULT 'pending'\n\
                         CHECK (status IN ('pending', 'applied', 'failed', 'cancelled')),\n\
                       finished_at TIMESTAMPTZ,\n\
                       detail TEXT\n\
                     );\n\
                     CREATE UNIQUE INDEX IF NOT EXISTS \"{bare}_one_pending\" ON {t} (version) \
                       WHERE status = 'pending';"
                ),
            )
            .await
    }

    /// True when the table exists.
    pub async fn exists(&self, c: &impl GenericClient) -> anyhow::Result<bool> {
        self.table.exists(c).await
    }

    /// Records a pending application; `None` when the version already has one.
    pub async fn add(
        &self,
        c: &impl GenericClient,
        new: &NewSchedule<'_>,
    ) -> anyhow::Result<Option<Scheduled>> {
        let required = i32::try_from(new.approvals_required).unwrap_or(i32::MAX);
        let row = c
            .query_opt(
                &format!(
                    "INSERT INTO {} (version, name, checksum, risk, run_at, scheduled_by, \
                     approvals_required) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (version) WHERE status = 'pending' DO NOTHING \
                     RETURNING {COLUMNS}",
                    self.table.quoted()
                ),
                &[
                    &new.version,
                    &new.name,
                    &new.checksum,
                    &new.risk,
                    &new.run_at,
                    &new.scheduled_by,
                    &required,
                ],
            )
            .await
            .with_context(|| format!("scheduling {}", new.version))?;
        Ok(row.as_ref().map(scheduled))
    }

    /// Every row (all statuses when `all`, else only pending ones), by time then version.
    pub async fn list(&self, c: &impl GenericClient, all: bool) -> anyhow::Result<Vec<Scheduled>> {
        let rows = c
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM {} WHERE $1 OR status = 'pending' \
                     ORDER BY run_at, version, id",
                    self.table.quoted()
                ),
                &[&all],
            )
            .await
            .with_context(|| format!("reading the schedule {}", self.table.name()))?;
        Ok(rows.iter().map(scheduled).collect())
    }

    /// The pending rows due now (by the database's clock), in version order.
    pub async fn due(&self, c: &impl GenericClient) -> anyhow::Result<Vec<Scheduled>> {
        let rows = c
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM {} WHERE status = 'pending' AND run_at <= pg_catalog.now() \
                     ORDER BY version, id",
                    self.table.quoted()
                ),
                &[],
            )
            .await
            .with_context(|| format!("reading the schedule {}", self.table.name()))?;
        Ok(rows.iter().map(scheduled).collect())
    }

    /// Marks a pending row `status` (`applied`, `failed`, `cancelled`) with `detail`; false
    /// when it was no longer pending.
    pub async fn finish(
        &self,
        c: &impl GenericClient,
        id: i64,
        status: &str,
        detail: Option<&str>,
    ) -> anyhow::Result<bool> {
        let n = c
            .execute(
                &format!(
                    "UPDATE {} SET status = $2, finished_at = pg_catalog.now(), detail = $3 \
                     WHERE id = $1 AND status = 'pending'",
                    self.table.quoted()
                ),
                &[&id, &status, &detail],
            )
            .await
            .with_context(|| format!("updating the schedule {}", self.table.name()))?;
        Ok(n == 1)
    }
}

fn scheduled(r: &tokio_postgres::Row) -> Scheduled {
    Scheduled {
        id: r.get(0),
        version: r.get(1),
        name: r.get(2),
        checksum: r.get(3),
        risk: r.get(4),
        run_at: r.get(5),
        scheduled_by: r.get(6),
        scheduled_at: r.get(7),
        approvals_required: r.get(8),
        status: r.get(9),
        finished_at: r.get(10),
        detail: r.get(11),
    }
}
