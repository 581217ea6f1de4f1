//! INVALID indexes: what a failed `CREATE INDEX CONCURRENTLY` (or `REINDEX CONCURRENTLY`)
//! leaves behind. An invalid index is maintained on every write but never used, and a unique
//! one enforces nothing — and `CREATE INDEX IF NOT EXISTS` happily skips it. So the applier
//! names the ones a failed migration left (with the SQL that drops them), and refuses to run a
//! migration that would create an index that exists as INVALID.

use serde::Serialize;
use tokio_postgres::Client;

use super::Unit;
use crate::error::{ExitCode, Failure};
use crate::sql::inspect::created_index;

/// An index PostgreSQL marks INVALID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvalidIndex {
    /// `schema.index`, quoted where needed.
    pub name: String,
    /// `schema.table`, quoted where needed.
    pub table: String,
    /// The statement that removes it.
    pub cleanup: String,
}

const INVALID: &str = "SELECT pg_catalog.format('%I.%I', n.nspname, c.relname), \
       pg_catalog.format('%I.%I', tn.nspname, t.relname) \
     FROM pg_catalog.pg_index i \
     JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.indexrelid \
     JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace \
     JOIN pg_catalog.pg_class t ON t.oid OPERATOR(pg_catalog.=) i.indrelid \
     JOIN pg_catalog.pg_namespace tn ON tn.oid OPERATOR(pg_catalog.=) t.relnamespace \
     WHERE NOT i.indisvalid";

/// Every INVALID index of the database, by name.
pub async fn invalid_indexes(client: &Client) -> Result<Vec<InvalidIndex>, tokio_postgres::Error> {
    let rows = client
        .query_typed(&format!("{INVALID} ORDER BY 1"), &[])
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let name: String = r.get(0);
            InvalidIndex {
                cleanup: format!("DROP INDEX CONCURRENTLY IF EXISTS {name};"),
                name,
                table: r.get(1),
            }
        })
        .collect())
}

/// Refuses (exit 7, before anything runs) when a unit would create an index that exists as
/// INVALID: the run would either fail on it or, with `IF NOT EXISTS`, skip it and record the
/// migration as applied while the index does nothing.
pub async fn refuse_invalid_targets(client: &Client, units: &[Unit<'_>]) -> anyhow::Result<()> {
    let sql = format!(
        "{INVALID} AND c.relname OPERATOR(pg_catalog.=) $1 AND c.relnamespace \
         OPERATOR(pg_catalog.=) (SELECT relnamespace FROM pg_catalog.pg_class \
         WHERE oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass($2))"
    );
    for unit in units {
        for (_, statement) in unit.script.to_run() {
            let Some((index, table)) = created_index(statement.text) else {
                continue;
            };
            let found = client
                .query_typed_opt(
                    &sql,
                    &[
                        (&index, tokio_postgres::types::Type::TEXT),
                        (&table, tokio_postgres::types::Type::TEXT),
                    ],
                )
                .await?;
            if let Some(row) = found {
                let name: String = row.get(0);
                return Err(Failure::new(
                    ExitCode::Refused,
                    format!(
                        "{}:{}: index {name} exists but is INVALID (a CREATE INDEX CONCURRENTLY \
                         that failed earlier left it): this migration would create it, and \
                         with IF NOT EXISTS would skip it and be recorded as applied while the \
                         index enforces and speeds up nothing; nothing was run",
                        unit.script.file, statement.line
                    ),
                )
                .hint(format!(
                    "drop it, then run the migration again: DROP INDEX CONCURRENTLY IF EXISTS \
                     {name};"
                ))
                .into());
            }
        }
    }
    Ok(())
}
