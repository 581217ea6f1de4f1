//! Live table sizes: connected to the database, a statement's level is sharpened by how big
//! the tables it locks or rewrites are (thresholds from the environment's `risk:` settings).
//!
//! Levels are only ever **raised**, never lowered: a lock on a tiny table still waits behind
//! any long transaction that touches it, and every query on the table queues behind the
//! waiting lock; and a table that is small now may be big by the time the migration runs in
//! production. What size adds is how long a lock is *held* once granted, which grows with the
//! rows a statement reads or rewrites under it.
//!
//! Rows are PostgreSQL's own estimate, the way the planner makes it: the row density of the
//! last `VACUUM`/`ANALYZE` (`pg_class.reltuples / relpages`) times the table's current pages
//! (`pg_relation_size / block_size`). A table never vacuumed or analysed (`reltuples` is -1,
//! or 0 with no pages before PostgreSQL 14) is counted as one row per 64 bytes of its heap, a
//! narrow row: that errs towards more rows, which can only raise a level. Bytes are
//! `pg_total_relation_size` (heap, indexes and TOAST). A partitioned (or inheritance) parent
//! counts all its descendants, as `ALTER TABLE` on it reaches them all.

use std::collections::BTreeMap;

use anyhow::Context as _;
use serde::Deserialize;
use tokio_postgres::GenericClient;

use super::{Assessment, Level, MigrationRisk, Reason, lock};

/// Default `risk.large_table_rows`.
pub const DEFAULT_LARGE_TABLE_ROWS: u64 = 1_000_000;
/// Default `risk.huge_table_rows`.
pub const DEFAULT_HUGE_TABLE_ROWS: u64 = 10_000_000;

/// `risk:` in an environment file (read by the project's settings): when a table is big enough that locking or rewriting it
/// raises a statement's level (rows as PostgreSQL's statistics estimate them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SizeThresholds {
    /// From this many rows, a statement that blocks the table's writes is at least high.
    pub large_table_rows: u64,
    /// From this many rows, a statement that rewrites the table is critical.
    pub huge_table_rows: u64,
}

impl Default for SizeThresholds {
    fn default() -> Self {
        SizeThresholds {
            large_table_rows: DEFAULT_LARGE_TABLE_ROWS,
            huge_table_rows: DEFAULT_HUGE_TABLE_ROWS,
        }
    }
}

/// Bytes per row assumed for a table that was never vacuumed or analysed.
pub const UNANALYSED_ROW_BYTES: u64 = 64;

/// How big a table is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TableSize {
    /// Estimated rows (see the module documentation).
    pub rows: u64,
    /// Total bytes on disk: heap, indexes and TOAST.
    pub bytes: u64,
}

/// The sizes of the tables found in the database, by `schema.name` (or the plain name that was
/// asked for).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableSizes {
    sizes: BTreeMap<String, TableSize>,
}

/// One query for all the names: each resolved with `to_regclass` (a plain name through the
/// `search_path`); a name that is not a table, or not there, yields no row.
const SIZES_SQL: &str = "
WITH RECURSIVE wanted AS (
    SELECT w.name, to_regclass(
               CASE WHEN strpos(w.name, '.') = 0 THEN quote_ident(w.name)
                    ELSE quote_ident(split_part(w.name, '.', 1)) || '.'
                         || quote_ident(substr(w.name, strpos(w.name, '.') + 1))
               END) AS relid
    FROM unnest($1::text[]) AS w(name)
), tree AS (
    SELECT wanted.name, wanted.relid
    FROM wanted JOIN pg_catalog.pg_class c ON c.oid = wanted.relid
    WHERE c.relkind IN ('r', 'p', 'm')
    UNION ALL
    SELECT tree.name, i.inhrelid::regclass
    FROM tree JOIN pg_catalog.pg_inherits i ON i.inhparent = tree.relid
)
SELECT tree.name,
       sum(CASE WHEN c.relkind = 'p' THEN 0
                WHEN c.reltuples >= 0 AND c.relpages > 0
                    THEN c.reltuples::float8 / c.relpages
                         * (pg_relation_size(c.oid)::float8
                            / current_setting('block_size')::float8)
                WHEN c.reltuples > 0 THEN c.reltuples::float8
                ELSE pg_relation_size(c.oid)::float8 / $2::float8
           END)::float8 AS rows,
       sum(pg_total_relation_size(c.oid))::int8 AS bytes
FROM tree JOIN pg_catalog.pg_class c ON c.oid = tree.relid
GROUP BY tree.name";

impl TableSizes {
    /// The sizes of `tables` (`schema.name`, or a plain name resolved through the
    /// `search_path`), in one query. Names that are not tables in the database are simply
    /// absent: an earlier migration may create them.
    pub async fn fetch(client: &impl GenericClient, tables: &[String]) -> anyhow::Result<Self> {
        let mut sizes = TableSizes::default();
        if tables.is_empty() {
            return Ok(sizes);
        }
        let per_row = UNANALYSED_ROW_BYTES as f64;
        let rows = client
            .query(SIZES_SQL, &[&tables, &per_row])
            .await
            .context("reading table sizes (pg_class) for the risk levels")?;
        for row in rows {
            let name: String = row.get(0);
            let estimate: Option<f64> = row.get(1);
            let bytes: Option<i64> = row.get(2);
            sizes.insert(
                name,
                TableSize {
                    rows: estimate.map_or(0, |r| r.max(0.0).round() as u64),
                    bytes: bytes.map_or(0, |b| b.max(0) as u64),
                },
            );
        }
        Ok(sizes)
    }

    /// Records `table`'s size.
    pub fn insert(&mut self, table: impl Into<String>, size: TableSize) {
        self.sizes.insert(table.into(), size);
    }

    /// `table`'s size, when the table was found.
    pub fn get(&self, table: &str) -> Option<TableSize> {
        self.sizes.get(table).copied()
    }

    /// No table was found.
    pub fn is_empty(&self) -> bool {
        self.sizes.is_empty()
    }
}

impl FromIterator<(String, TableSize)> for TableSizes {
    fn from_iter<I: IntoIterator<Item = (String, TableSize)>>(iter: I) -> Self {
        TableSizes {
            sizes: iter.into_iter().collect(),
        }
    }
}

/// The tables `risk`'s reasons are about, sorted, each once: the names to fetch sizes for.
pub fn tables<'a>(risks: impl IntoIterator<Item = &'a MigrationRisk>) -> Vec<String> {
    let mut names: Vec<String> = risks
        .into_iter()
        .flat_map(|r| &r.statements)
        .flat_map(|(_, a)| &a.reasons)
        .filter_map(|r| r.table.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Raises `risk`'s levels with the live sizes of the tables its statements lock, adding a
/// reason for each raise (never lowering one: see the module documentation):
///
/// - a statement that reads every row (an index build, a constraint check, `SET NOT NULL`, a
///   rewrite) under a lock that blocks writes (SHARE, SHARE ROW EXCLUSIVE, EXCLUSIVE, ACCESS
///   EXCLUSIVE), on a table of at least `large_table_rows`, is at least high; of at least
///   `huge_table_rows`, critical — writes stop for minutes;
/// - a rewrite of a table of at least `huge_table_rows` is critical;
/// - an `UPDATE`/`DELETE ... WHERE` on a table of at least `huge_table_rows` stays at least high
///   with the size as a reason.
///
/// Brief locks (`ADD COLUMN`, `NOT VALID` constraints, renames, drops) last as long on any
/// table and get no size reason. Calling it twice adds nothing more.
pub fn sharpen(risk: &mut MigrationRisk, sizes: &TableSizes, settings: &SizeThresholds) {
    for (_, assessment) in &mut risk.statements {
        sharpen_statement(assessment, sizes, settings);
    }
    let worst = risk.statements.iter().map(|(_, a)| a.level).max();
    risk.level = risk.level.max(worst.unwrap_or(Level::Low));
}

fn sharpen_statement(assessment: &mut Assessment, sizes: &TableSizes, settings: &SizeThresholds) {
    // The strongest size reason per table: one statement may lock a table several ways.
    let mut added: BTreeMap<String, Reason> = BTreeMap::new();
    for reason in &assessment.reasons {
        let Some(table) = &reason.table else { continue };
        let Some(size) = sizes.get(table) else {
            continue;
        };
        let Some(new) = size_reason(reason, table, size, settings) else {
            continue;
        };
        match added.get(table) {
            Some(kept) if kept.level >= new.level => {}
            _ => {
                added.insert(table.clone(), new);
            }
        }
    }
    for reason in added.into_values() {
        if !assessment.reasons.contains(&reason) {
            assessment.reasons.push(reason);
        }
    }
    let worst = assessment.reasons.iter().map(|r| r.level).max();
    assessment.level = assessment.level.max(worst.unwrap_or(Level::Low));
}

/// The reason `table`'s size adds to `reason`, if any.
fn size_reason(
    reason: &Reason,
    table: &str,
    size: TableSize,
    settings: &SizeThresholds,
) -> Option<Reason> {
    let large = size.rows >= settings.large_table_rows;
    let huge = size.rows >= settings.huge_table_rows;
    let rows = human_rows(size.rows);
    let bytes = human_bytes(size.bytes);
    let lock_name = reason.lock.unwrap_or(lock::ACCESS_EXCLUSIVE);
    let blocks = if lock_name == lock::ACCESS_EXCLUSIVE {
        "blocks reads and writes"
    } else {
        "blocks writes"
    };
    let (level, message) = if reason.rewrites_table && huge {
        (
            Level::Critical,
            format!("rewriting {table} ({rows} rows, {bytes}) holds {lock_name} for minutes"),
        )
    } else if reason.scans_table && blocks_writes(reason.lock) && (large || huge) {
        let work = if reason.rewrites_table {
            "rewrites"
        } else {
            "reads"
        };
        if huge {
            (
                Level::Critical,
                format!(
                    "{table} has {rows} rows ({bytes}): the {lock_name} lock {blocks} for \
                     minutes while it {work} them all"
                ),
            )
        } else {
            (
                Level::High,
                format!(
                    "{table} has {rows} rows ({bytes}): the {lock_name} lock {blocks} while it \
                     {work} them all"
                ),
            )
        }
    } else if reason.lock == Some(lock::ROW_EXCLUSIVE) && !reason.destructive && huge {
        (
            Level::High,
            format!(
                "{table} has {rows} rows ({bytes}): a WHERE matching many of them holds their \
                 row locks until the migration commits; batch it"
            ),
        )
    } else {
        return None;
    };
    let mut new = Reason::new(level, message).on(table);
    new.lock = reason.lock;
    Some(new)
}

/// The lock keeps writers out of the table.
fn blocks_writes(held: Option<&str>) -> bool {
    matches!(
        held,
        Some(lock::SHARE | lock::SHARE_ROW_EXCLUSIVE | lock::EXCLUSIVE | lock::ACCESS_EXCLUSIVE)
    )
}

/// `~950`, `~2.4K`, `~12M`, `~3.1B` rows.
pub fn human_rows(rows: u64) -> String {
    format!(
        "~{}",
        scaled(rows as f64, 1000.0, &["", "K", "M", "B", "T"], "")
    )
}

/// `512 bytes`, `312 MB`, `3.1 GB` (1 kB = 1024 bytes, as `pg_size_pretty` counts).
pub fn human_bytes(bytes: u64) -> String {
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    scaled(
        bytes as f64,
        1024.0,
        &["bytes", "kB", "MB", "GB", "TB", "PB"],
        " ",
    )
}

/// `value` in the largest unit it reaches: one decimal below 10, none from 10.
fn scaled(mut value: f64, step: f64, units: &[&str], gap: &str) -> String {
    let mut unit = 0;
    loop {
        // Round first, so that 999.96 shows as the next unit's 1.0 rather than as 1000.
        let shown = if value < 10.0 {
            (value * 10.0).round() / 10.0
        } else {
            value.round()
        };
        if shown < step || unit + 1 == units.len() {
            return if unit == 0 {
                format!("{shown}{gap}{}", units[0]).trim_end().to_string()
            } else if shown < 10.0 {
                format!("{shown:.1}{gap}{}", units[unit])
            } else {
                format!("{shown:.0}{gap}{}", units[unit])
            };
        }
        value /= step;
        unit += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_numbers() {
        assert_eq!(human_rows(0), "~0");
        assert_eq!(human_rows(950), "~950");
        assert_eq!(human_rows(999), "~999");
        assert_eq!(human_rows(1000), "~1.0K");
        assert_eq!(human_rows(3000), "~3.0K");
        assert_eq!(human_rows(2_400_000), "~2.4M");
        assert_eq!(human_rows(12_345_678), "~12M");
        assert_eq!(human_rows(999_960), "~1.0M");
        assert_eq!(human_rows(312_000), "~312K");
        assert_eq!(human_bytes(512), "512 bytes");
        assert_eq!(human_bytes(8192), "8.0 kB");
        assert_eq!(human_bytes(312 * 1024 * 1024), "312 MB");
        assert_eq!(human_bytes(3_328_599_654), "3.1 GB");
        assert_eq!(human_bytes(1023 * 1024 + 1000), "1.0 MB");
    }
}
