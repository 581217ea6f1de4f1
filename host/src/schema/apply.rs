//! `build --apply`: create the schema in an empty database in one transaction; with
//! `--mark-migrations-applied`, record every migration on disk as applied in the same
//! transaction (without running it), so `migrate up` is then a no-op.

use std::time::Duration;

use anyhow::Context;
use serde::Serialize;
use tokio_postgres::GenericClient;

use super::render::Source;
use crate::db::lock::{LockWait, MigrationLock};
use crate::db::script::run_script;
use crate::error::{ExitCode, Failure};
use crate::migrate::files::Migration;
use crate::migrate::ledger::Ledger;
use crate::output::Output;
use crate::project::{Project, ResolvedDatabase};

/// How long `build --apply` waits for a concurrent migration run to finish.
const LOCK_WAIT: Duration = Duration::from_secs(300);
/// Tables listed by name when refusing a non-empty database.
const TABLES_SHOWN: usize = 5;

/// What `--apply` did.
#[derive(Debug, Serialize)]
pub struct ApplyReport {
    /// The target, without its password.
    pub database: String,
    /// Where the target came from (`--database-url`, the environment file, ...).
    pub source: String,
    /// Statements run, over all files.
    pub statements: usize,
    /// Schemas dropped first (`--drop-existing`).
    pub dropped_schemas: Vec<String>,
    /// The tracking table the migrations were recorded in.
    pub tracking_table: String,
    /// Migrations recorded as applied (`<version>_<name>`).
    pub migrations_recorded: Vec<String>,
}

/// Applies `sources` to the target database; with `drop_existing`, drops every user schema
/// first (in the same transaction). `migrations` (none unless `--mark-migrations-applied`) are
/// recorded as applied; with none, the tracking table is left alone.
pub async fn apply(
    project: &Project,
    target: &ResolvedDatabase,
    sources: &[Source],
    migrations: &[Migration],
    drop_existing: bool,
    out: &Output,
) -> anyhow::Result<ApplyReport> {
    let database = target.spec.redacted();
    let table = &project.env.migrations_table;
    let lock = MigrationLock::acquire(&target.spec, table, LockWait::UpTo(LOCK_WAIT), out).await?;
    let mut client = target.spec.connect().await?;
    if !drop_existing {
        refuse_user_tables(&client, &database).await?;
    }
    let tx = client.transaction().await?;
    let filled = fill(
        &tx,
        &database,
        sources,
        migrations,
        table,
        drop_existing,
        out,
    )
    .await;
    let (statements, dropped_schemas) = match filled {
        Ok(done) => done,
        Err(err) => {
            let _ = tx.rollback().await;
            return Err(as_build_failure(err));
        }
    };
    tx.commit().await.map_err(|e| as_build_failure(e.into()))?;
    lock.release().await;
    Ok(ApplyReport {
        database,
        source: target.source.to_string(),
        statements,
        dropped_schemas,
        tracking_table: table.to_string(),
        migrations_recorded: migrations.iter().map(Migration::slug).collect(),
    })
}

/// Inside the transaction: drops (with `drop_existing`), runs every source, records
/// `migrations` (if any). Returns the statements run and the schemas dropped.
async fn fill(
    tx: &impl GenericClient,
    database: &str,
    sources: &[Source],
    migrations: &[Migration],
    table: &str,
    drop_existing: bool,
    out: &Output,
) -> anyhow::Result<(usize, Vec<String>)> {
    let dropped = if drop_existing {
        drop_user_schemas(tx).await?
    } else {
        Vec::new()
    };
    let mut statements = 0;
    for source in sources {
        out.line(format!("  applying {}", source.path));
        statements += run_script(tx, &source.path, &source.text)
            .await
            .map_err(|err| {
                let failure = Failure::new(ExitCode::Build, err.to_string()).hint(
                    "fix the statement at the line shown and run `confiture build --apply` again",
                );
                anyhow::Error::new(failure).context(format!(
                    "applying the schema to {database} failed; nothing was applied (rolled back)"
                ))
            })?;
    }
    if migrations.is_empty() {
        return Ok((statements, dropped));
    }
    let ledger = Ledger::new(table);
    ledger.ensure(tx).await?;
    for migration in migrations {
        ledger.record(tx, migration, 0).await?;
    }
    Ok((statements, dropped))
}

/// Any failure while applying is a build failure (exit 4), rolled back.
fn as_build_failure(err: anyhow::Error) -> anyhow::Error {
    if crate::error::failure_of(&err).is_some() {
        return err;
    }
    Failure::new(ExitCode::Build, crate::error::one_line(&err))
        .hint("nothing was applied: the transaction was rolled back")
        .into()
}

/// Fails (exit 7) when the database already has tables outside the system schemas.
async fn refuse_user_tables(client: &impl GenericClient, database: &str) -> anyhow::Result<()> {
    let rows = client
        .query(
            "SELECT format('%I.%I', n.nspname, c.relname) \
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
              WHERE c.relkind IN ('r', 'p', 'f') \
                AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
                AND n.nspname NOT LIKE 'pg\\_toast%' \
                AND n.nspname NOT LIKE 'pg\\_temp\\_%' \
              ORDER BY 1",
            &[],
        )
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    let mut shown = names[..names.len().min(TABLES_SHOWN)].join(", ");
    if names.len() > TABLES_SHOWN {
        shown.push_str(&format!(", and {} more", names.len() - TABLES_SHOWN));
    }
    Err(Failure::new(
        ExitCode::Refused,
        format!(
            "{database} already has {} table{} ({shown}); `build --apply` creates a schema in an empty database",
            names.len(),
            if names.len() == 1 { "" } else { "s" }
        ),
    )
    .hint("use `confiture migrate up` to change an existing database, or add --drop-existing to drop every user schema first (this deletes their data)")
    .into())
}

/// Drops every schema that is not PostgreSQL's own, then recreates `public` as PostgreSQL 15
/// creates it (owned by `pg_database_owner`, USAGE for everyone). Returns the dropped names.
async fn drop_user_schemas(client: &impl GenericClient) -> anyhow::Result<Vec<String>> {
    let rows = client
        .query(
            "SELECT nspname::text FROM pg_namespace \
              WHERE nspname NOT IN ('pg_catalog', 'information_schema') \
                AND nspname NOT LIKE 'pg\\_toast%' \
                AND nspname NOT LIKE 'pg\\_temp\\_%' \
              ORDER BY 1",
            &[],
        )
        .await?;
    let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    for name in &names {
        client
            .batch_execute(&format!("DROP SCHEMA {} CASCADE", quote_ident(name)))
            .await
            .with_context(|| format!("dropping schema {name}"))?;
    }
    let version: i32 = client
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .await?
        .get(0);
    let recreate = if version >= 140_000 {
        "CREATE SCHEMA public AUTHORIZATION pg_database_owner;\n\
         GRANT USAGE ON SCHEMA public TO PUBLIC;"
    } else {
        // Before PostgreSQL 14 there is no pg_database_owner; `public` was open to everyone.
        "CREATE SCHEMA public;\nGRANT ALL ON SCHEMA public TO PUBLIC;"
    };
    client
        .batch_execute(&format!(
            "{recreate}\nCOMMENT ON SCHEMA public IS 'standard public schema';"
        ))
        .await
        .context("recreating schema public")?;
    Ok(names)
}

/// Quotes an identifier for SQL.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
