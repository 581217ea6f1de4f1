//! The tracking table, compatible with the upstream Python Confiture's ledger.

use chrono::{DateTime, Utc};
use tokio_postgres::GenericClient;

use super::files::Migration;

/// One row of the tracking table.
#[derive(Debug, Clone)]
pub struct AppliedRow {
    /// The migration's version.
    pub version: String,
    /// The migration's name.
    pub name: String,
    /// When it was applied.
    pub applied_at: DateTime<Utc>,
    /// How long it took, in milliseconds (NULL in upstream rows that did not record it).
    pub execution_time_ms: Option<i32>,
    /// SHA-256 of the `.up.sql` when it was applied (NULL in some upstream rows).
    pub checksum: Option<String>,
    /// Who applied it (absent in upstream rows).
    pub applied_by: Option<String>,
}

/// The tracking table named by the environment (`table` or `schema.table`).
#[derive(Debug, Clone)]
pub struct Ledger {
    name: String,
    schema: Option<String>,
    quoted: String,
}

impl Ledger {
    /// The ledger in `table` (plain identifiers, as the environment validated them).
    pub fn new(table: &str) -> Self {
        let schema = table.split_once('.').map(|(s, _)| s.to_string());
        Ledger {
            name: table.to_string(),
            schema,
            quoted: quote_table(table),
        }
    }

    /// A table kept beside this one: `<table>_<suffix>` in the same schema (e.g.
    /// `tb_confiture_audit`).
    pub fn companion(&self, suffix: &str) -> Companion {
        let name = format!("{}_{suffix}", self.name);
        Companion {
            quoted: quote_table(&name),
            name,
            create_schema: self.create_schema_sql(),
        }
    }

    /// `CREATE SCHEMA IF NOT EXISTS` for the table's schema, or nothing when unqualified.
    fn create_schema_sql(&self) -> String {
        match &self.schema {
            Some(s) => format!("CREATE SCHEMA IF NOT EXISTS \"{s}\";\n"),
            None => String::new(),
        }
    }

    /// The table's name as configured.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// True when the table exists (looked up through the search path when unqualified).
    pub async fn exists(&self, c: &impl GenericClient) -> anyhow::Result<bool> {
        let row = c
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&self.quoted])
            .await?;
        Ok(row.get(0))
    }

    /// Creates the table when missing, and adds `applied_by` to an upstream table without it.
    pub async fn ensure(&self, c: &impl GenericClient) -> anyhow::Result<()> {
        let t = &self.quoted;
        let schema = self.create_schema_sql();
        c.batch_execute(&format!(
            "{schema}CREATE TABLE IF NOT EXISTS {t} (\n\
               id UUID PRIMARY KEY DEFAULT gen_random_uuid(),\n\
               pk_confiture BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,\n\
               slug TEXT NOT NULL UNIQUE,\n\
               version VARCHAR(255) NOT NULL UNIQUE,\n\
               name VARCHAR(255) NOT NULL,\n\
               applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),\n\
               execution_time_ms INTEGER,\n\
               checksum VARCHAR(64),\n\
               applied_by TEXT\n\
             );\n\
             ALTER TABLE {t} ADD COLUMN IF NOT EXISTS applied_by TEXT;"
        ))
        .await
        .map_err(|e| anyhow::anyhow!("creating the tracking table {}: {e}", self.name))
    }

    /// Records `m` as applied, by [`crate::identity::find`] (else the database role).
    pub async fn record(
        &self,
        c: &impl GenericClient,
        m: &Migration,
        execution_ms: i64,
    ) -> anyhow::Result<()> {
        let ms = i32::try_from(execution_ms.max(0)).unwrap_or(i32::MAX);
        let by = crate::identity::find(None);
        c.execute(
            &format!(
                "INSERT INTO {} (slug, version, name, execution_time_ms, checksum, applied_by) \
                 VALUES ($1, $2, $3, $4, $5, coalesce($6, current_user))",
                self.quoted
            ),
            &[&m.slug(), &m.version, &m.name, &ms, &m.checksum, &by],
        )
        .await
        .map_err(|e| anyhow::anyhow!("recording {} in {}: {e}", m.slug(), self.name))?;
        Ok(())
    }

    /// Removes the row of `version` (after its rollback).
    pub async fn remove(&self, c: &impl GenericClient, version: &str) -> anyhow::Result<()> {
        c.execute(
            &format!("DELETE FROM {} WHERE version = $1", self.quoted),
            &[&version],
        )
        .await
        .map_err(|e| anyhow::anyhow!("removing {version} from {}: {e}", self.name))?;
        Ok(())
    }

    /// Every row, in no particular order.
    pub async fn applied(&self, c: &impl GenericClient) -> anyhow::Result<Vec<AppliedRow>> {
        let has_applied_by = c
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_attribute \
                 WHERE attrelid = to_regclass($1) AND attname = 'applied_by' AND NOT attisdropped)",
                &[&self.quoted],
            )
            .await?
            .get::<_, bool>(0);
        let applied_by = if has_applied_by {
            "applied_by"
        } else {
            "NULL::text"
        };
        let rows = c
            .query(
                &format!(
                    "SELECT version::text, name::text, applied_at, execution_time_ms, \
                            checksum::text, {applied_by} FROM {}",
                    self.quoted
                ),
                &[],
            )
            .await
            .map_err(|e| anyhow::anyhow!("reading the tracking table {}: {e}", self.name))?;
        Ok(rows
            .iter()
            .map(|r| AppliedRow {
                version: r.get(0),
                name: r.get(1),
                applied_at: r.get(2),
                execution_time_ms: r.get(3),
                checksum: r.get(4),
                applied_by: r.get(5),
            })
            .collect())
    }
}

/// `table` or `schema.table` with each part double-quoted.
pub fn quote_table(table: &str) -> String {
    table
        .split('.')
        .map(|part| format!("\"{}\"", part.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(".")
}

/// A table kept beside the tracking table, in its schema (the audit trail, the schedule).
#[derive(Debug, Clone)]
pub struct Companion {
    name: String,
    quoted: String,
    create_schema: String,
}

impl Companion {
    /// The table's name as configured (`schema.table` or `table`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name quoted for SQL.
    pub fn quoted(&self) -> &str {
        &self.quoted
    }

    /// The name without its schema (for naming its indexes and functions).
    pub fn bare(&self) -> &str {
        self.name.rsplit('.').next().unwrap_or(&self.name)
    }

    /// True when the table exists.
    pub async fn exists(&self, c: &impl GenericClient) -> anyhow::Result<bool> {
        let row = c
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&self.quoted])
            .await?;
        Ok(row.get(0))
    }

    /// Runs `ddl` (idempotent `CREATE ... IF NOT EXISTS` statements) after creating the schema,
    /// in one transaction holding an advisory lock on the table's name, so that processes
    /// creating it at the same time do not collide.
    pub async fn create(&self, c: &impl GenericClient, ddl: &str) -> anyhow::Result<()> {
        let lock_key = format!("confiture companion {}", self.name).replace('\'', "''");
        c.batch_execute(&format!(
            "SELECT pg_advisory_xact_lock(hashtext('{lock_key}'));\n{}{ddl}",
            self.create_schema
        ))
        .await
        .map_err(|e| anyhow::anyhow!("creating {}: {e}", self.name))
    }
}
