//! The tracking table, compatible with the upstream Python Confiture's ledger.
//!
//! Every statement the tool writes here names the table with its schema and calls
//! `pg_catalog` functions by their full name, so it means the same under any `search_path`
//! (pg_dump's `set_config('search_path', '', false)` included): an unqualified configured name
//! is resolved once, on a fresh connection, by [`Ledger::qualified`].

use anyhow::Context;
use chrono::{DateTime, Utc};
use tokio_postgres::GenericClient;
use tokio_postgres::types::Type;

use super::files::Migration;

/// One live row of the tracking table (rows archived into a squash baseline are left out).
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
    /// The database role that applied it (NULL in rows older than upstream 0.17).
    pub applied_by: Option<String>,
    /// Who ran Confiture to apply it ([`crate::identity::find`]); NULL in upstream's rows.
    pub identity: Option<String>,
}

impl AppliedRow {
    /// Who applied it, as shown: the person when Confiture recorded one, else the role.
    pub fn who(&self) -> Option<&str> {
        self.identity.as_deref().or(self.applied_by.as_deref())
    }
}

/// The column holding Confiture's [`crate::identity`] of whoever applied a migration;
/// `applied_by` holds the database role, as upstream writes it.
pub const IDENTITY_COLUMN: &str = "applied_by_identity";

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

    /// This ledger with its schema spelt out: for an unqualified name, the schema of the table
    /// the search path finds, else the one `CREATE TABLE` would use (`public` when the search
    /// path names none). Ask on a fresh connection, before any migration changes its settings.
    pub async fn qualified(&self, c: &impl GenericClient) -> anyhow::Result<Ledger> {
        if self.schema.is_some() {
            return Ok(self.clone());
        }
        let row = c
            .query_typed_one(
                "SELECT coalesce((SELECT n.nspname::text FROM pg_catalog.pg_class t                    JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) t.relnamespace                    WHERE t.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass($1)),                  pg_catalog.current_schema()::text, 'public')",
                &[(&self.quoted, Type::TEXT)],
            )
            .await
            .with_context(|| format!("finding the schema of the tracking table {}", self.name))?;
        let schema: String = row.get(0);
        Ok(Ledger {
            name: self.name.clone(),
            quoted: format!("{}.{}", quote_ident(&schema), self.quoted),
            schema: Some(schema),
        })
    }

    /// A table kept beside this one: `<table>_<suffix>` in the same schema (e.g.
    /// `tb_confiture_audit`).
    pub fn companion(&self, suffix: &str) -> Companion {
        let bare = self.name.rsplit('.').next().unwrap_or(&self.name);
        let table = format!("{bare}_{suffix}");
        let qualified = match &self.schema {
            Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(&table)),
            None => quote_ident(&table),
        };
        Companion {
            name: format!("{}_{suffix}", self.name),
            quoted: qualified,
            bare: table,
            create_schema: self.create_schema_sql(),
        }
    }

    /// `CREATE SCHEMA IF NOT EXISTS` for the table's schema, or nothing when unqualified.
    fn create_schema_sql(&self) -> String {
        match &self.schema {
            Some(s) => format!("CREATE SCHEMA IF NOT EXISTS {};\n", quote_ident(s)),
            None => String::new(),
        }
    }

    /// The table's name as configured.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// True when the table exists (looked up through the search path when unqualified).
    pub async fn exists(&self, c: &impl GenericClient) -> anyhow::Result<bool> {
        relation_exists(c, &self.quoted).await
    }

    /// Creates the table when missing, with upstream's shape (its ten columns and four
    /// indexes) plus [`IDENTITY_COLUMN`]; on an existing table adds the columns newer upstream
    /// releases and Confiture write, as upstream does (`ADD COLUMN IF NOT EXISTS`).
    pub async fn ensure(&self, c: &impl GenericClient) -> anyhow::Result<()> {
        c.batch_execute(&self.ensure_sql())
            .await
            .with_context(|| format!("creating the tracking table {}", self.name))
    }

    /// The statements of [`Ledger::ensure`].
    fn ensure_sql(&self) -> String {
        let t = &self.quoted;
        let schema = self.create_schema_sql();
        let bare = self.name.rsplit('.').next().unwrap_or(&self.name);
        let index = |what: &str, on: &str| {
            let name = quote_table(&format!("idx_{bare}_{what}"));
            format!("CREATE INDEX IF NOT EXISTS {name} ON {t} ({on});\n")
        };
        format!(
            "{schema}CREATE TABLE IF NOT EXISTS {t} (\n\
               id UUID PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),\n\
               pk_confiture BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,\n\
               slug TEXT NOT NULL UNIQUE,\n\
               version VARCHAR(255) NOT NULL UNIQUE,\n\
               name VARCHAR(255) NOT NULL,\n\
               applied_at TIMESTAMPTZ NOT NULL DEFAULT pg_catalog.now(),\n\
               execution_time_ms INTEGER,\n\
               checksum VARCHAR(64),\n\
               applied_by TEXT,\n\
               archived_into VARCHAR(255),\n\
               {IDENTITY_COLUMN} TEXT\n\
             );\n\
             {}{}{}{}\
             ALTER TABLE {t} ADD COLUMN IF NOT EXISTS applied_by TEXT;\n\
             ALTER TABLE {t} ADD COLUMN IF NOT EXISTS archived_into VARCHAR(255);\n\
             ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {IDENTITY_COLUMN} TEXT;",
            index("pk_confiture", "pk_confiture"),
            index("slug", "slug"),
            index("version", "version"),
            index("applied_at", "applied_at DESC"),
        )
    }

    /// Records `m` as applied: `applied_by` is the database role (as upstream records it),
    /// [`IDENTITY_COLUMN`] the person ([`crate::identity::find`]), the slug upstream's
    /// `<name>_<version>_<YYYYmmdd_HHMMSS>`.
    pub async fn record(
        &self,
        c: &impl GenericClient,
        m: &Migration,
        execution_ms: i64,
    ) -> anyhow::Result<()> {
        self.record_row(c, m, execution_ms, None).await
    }

    /// Records `m` as applied without running it (`migrate baseline`): as [`Ledger::record`],
    /// the slug ending `_baseline` as upstream writes it.
    pub async fn record_baseline(
        &self,
        c: &impl GenericClient,
        m: &Migration,
    ) -> anyhow::Result<()> {
        self.record_row(c, m, 0, Some("baseline")).await
    }

    async fn record_row(
        &self,
        c: &impl GenericClient,
        m: &Migration,
        execution_ms: i64,
        reason: Option<&str>,
    ) -> anyhow::Result<()> {
        let ms = i32::try_from(execution_ms.max(0)).unwrap_or(i32::MAX);
        let identity = crate::identity::find(None);
        c.execute_typed(
            &format!(
                "INSERT INTO {} (slug, version, name, execution_time_ms, checksum, applied_by, \
                 {IDENTITY_COLUMN}) VALUES ($1, $2, $3, $4, $5, current_user, $6)",
                self.quoted
            ),
            &[
                (&row_slug(m, reason), Type::TEXT),
                (&m.version, Type::TEXT),
                (&m.name, Type::TEXT),
                (&ms, Type::INT4),
                (&m.checksum, Type::TEXT),
                (&identity, Type::TEXT),
            ],
        )
        .await
        .with_context(|| format!("recording {} in {}", m.slug(), self.name))?;
        Ok(())
    }

    /// Removes the row of `version` (after its rollback).
    pub async fn remove(&self, c: &impl GenericClient, version: &str) -> anyhow::Result<()> {
        c.execute_typed(
            &format!(
                "DELETE FROM {} WHERE version OPERATOR(pg_catalog.=) $1",
                self.quoted
            ),
            &[(&version, Type::TEXT)],
        )
        .await
        .with_context(|| format!("removing {version} from {}", self.name))?;
        Ok(())
    }

    /// Every live row, in no particular order. Rows upstream's `migrate squash` archived into
    /// a baseline (`archived_into` set) are history, never pending, changed, missing or rolled
    /// back, and are left out. Columns a ledger may lack (upstream releases before 0.17 had no
    /// `applied_by`) read as NULL.
    pub async fn applied(&self, c: &impl GenericClient) -> anyhow::Result<Vec<AppliedRow>> {
        let rows = c
            .query(
                &format!(
                    "SELECT version::text, name::text, applied_at, execution_time_ms, \
                            checksum::text, pg_catalog.to_jsonb(ledger) ->> 'applied_by', \
                            pg_catalog.to_jsonb(ledger) ->> '{IDENTITY_COLUMN}' \
                     FROM {} AS ledger WHERE (pg_catalog.to_jsonb(ledger) ->> 'archived_into') IS NULL",
                    self.quoted
                ),
                &[],
            )
            .await
            .with_context(|| format!("reading the tracking table {}", self.name))?;
        Ok(rows
            .iter()
            .map(|r| AppliedRow {
                version: r.get(0),
                name: r.get(1),
                applied_at: r.get(2),
                execution_time_ms: r.get(3),
                checksum: r.get(4),
                applied_by: r.get(5),
                identity: r.get(6),
            })
            .collect())
    }
}

/// The `slug` upstream writes: `<name>_<version>_<local YYYYmmdd_HHMMSS>[_<reason>]`, unique
/// because the version is.
fn row_slug(m: &Migration, reason: Option<&str>) -> String {
    let mut slug = format!(
        "{}_{}_{}",
        m.name,
        m.version,
        chrono::Local::now().format("%Y%m%d_%H%M%S")
    );
    if let Some(reason) = reason {
        slug.push('_');
        slug.push_str(reason);
    }
    slug
}

/// `table` or `schema.table` with each part double-quoted.
pub fn quote_table(table: &str) -> String {
    table
        .split('.')
        .map(quote_ident)
        .collect::<Vec<_>>()
        .join(".")
}

/// An identifier, double-quoted.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// True when the relation `quoted` names exists.
async fn relation_exists(c: &impl GenericClient, quoted: &str) -> anyhow::Result<bool> {
    let row = c
        .query_typed_one(
            "SELECT pg_catalog.to_regclass($1) IS NOT NULL",
            &[(&quoted, Type::TEXT)],
        )
        .await
        .with_context(|| format!("looking up {quoted}"))?;
    Ok(row.get(0))
}

/// A table kept beside the tracking table, in its schema (the audit trail, the schedule).
#[derive(Debug, Clone)]
pub struct Companion {
    name: String,
    quoted: String,
    bare: String,
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
        &self.bare
    }

    /// A name beside the table, in its schema, quoted for SQL (e.g. its trigger function).
    pub fn sibling(&self, suffix: &str) -> String {
        let name = format!("{}_{suffix}", self.bare);
        match self.quoted.rsplit_once('.') {
            Some((schema, _)) => format!("{schema}.{}", quote_ident(&name)),
            None => quote_ident(&name),
        }
    }

    /// True when the table exists.
    pub async fn exists(&self, c: &impl GenericClient) -> anyhow::Result<bool> {
        relation_exists(c, &self.quoted).await
    }

    /// Runs `ddl` (idempotent `CREATE ... IF NOT EXISTS` statements) after creating the schema,
    /// in one transaction holding an advisory lock on the table's name, so that processes
    /// creating it at the same time do not collide.
    pub async fn create(&self, c: &impl GenericClient, ddl: &str) -> anyhow::Result<()> {
        let lock_key = format!("confiture companion {}", self.name).replace('\'', "''");
        c.batch_execute(&format!(
            "SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('{lock_key}'));\n{}{ddl}",
            self.create_schema
        ))
        .await
        .with_context(|| format!("creating {}", self.name))
    }
}
