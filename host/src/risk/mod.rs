//! Risk classification of migration statements: for each statement, how risky it is to run on
//! a busy production database (low / high / critical) and why — the lock it takes (by
//! PostgreSQL's lock levels), whether it rewrites the table, whether it destroys data or breaks
//! running code, whether it can run the way Confiture runs the migration. A migration's level is
//! its worst statement's. Statements the analysis layer cannot parse are flagged for review,
//! never low.

mod alter;
mod rules;
pub mod sizes;

use serde::Serialize;

use crate::sql::{SchemaModel, Statement};

pub use sizes::{TableSize, TableSizes, sharpen, tables};

/// How risky a statement is. Ordered: `Low < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Safe to run on a busy table (brief locks at most).
    Low,
    /// Blocks traffic for a while, or needs a coordinated deploy: review it.
    High,
    /// Destroys data, rewrites the table, or will fail: review it and have a backup.
    Critical,
}

impl Level {
    /// Upper-case word for text output, e.g. `HIGH`.
    pub fn label(self) -> &'static str {
        match self {
            Level::Low => "LOW",
            Level::High => "HIGH",
            Level::Critical => "CRITICAL",
        }
    }
}

/// Why a statement has its level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// The level this reason alone gives.
    pub level: Level,
    /// The table lock it takes, by PostgreSQL's lock level name, e.g. `ACCESS EXCLUSIVE`.
    pub lock: Option<&'static str>,
    /// It rewrites the whole table (and its indexes).
    pub rewrites_table: bool,
    /// It reads every row of the table (a scan, an index build) while holding its lock, so the
    /// lock lasts as long as the table is big.
    pub scans_table: bool,
    /// It destroys data.
    pub destructive: bool,
    /// Why, for people.
    pub message: String,
    /// The table it is about, as the SQL names it: `schema.name`, or a plain `name` when the
    /// SQL does not qualify it (then found through the `search_path`), each part folded like
    /// [`crate::sql::names::ident`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
}

impl Reason {
    pub(crate) fn new(level: Level, message: impl Into<String>) -> Self {
        Reason {
            level,
            lock: None,
            rewrites_table: false,
            scans_table: false,
            destructive: false,
            message: message.into(),
            table: None,
        }
    }

    /// The reason is about `table` (spelt as [`table_name`] spells it).
    pub(crate) fn on(mut self, table: impl Into<String>) -> Self {
        self.table = Some(table.into());
        self
    }

    /// It reads every row while holding its lock.
    pub(crate) fn scans(mut self) -> Self {
        self.scans_table = true;
        self
    }

    pub(crate) fn lock(mut self, lock: &'static str) -> Self {
        self.lock = Some(lock);
        self
    }

    pub(crate) fn rewrites(mut self) -> Self {
        self.rewrites_table = true;
        self.scans_table = true;
        self
    }

    pub(crate) fn destructive(mut self) -> Self {
        self.destructive = true;
        self
    }
}

/// A table's name for [`Reason::table`]: `schema.name` when qualified (a database part is
/// dropped), else the plain `name`; each part folded like an identifier.
pub(crate) fn table_name(name: &sqlparser::ast::ObjectName) -> String {
    let mut parts = crate::sql::names::parts(name);
    let last = parts.pop().unwrap_or_default();
    match parts.pop() {
        Some(schema) => crate::sql::names::join(&schema, &last),
        None => last,
    }
}

/// The lock names, as PostgreSQL's documentation spells them.
pub mod lock {
    /// Blocks everything, reads included.
    pub const ACCESS_EXCLUSIVE: &str = "ACCESS EXCLUSIVE";
    /// Blocks writes (`CREATE INDEX`).
    pub const SHARE: &str = "SHARE";
    /// Blocks schema changes and vacuum, lets reads and writes through.
    pub const SHARE_UPDATE_EXCLUSIVE: &str = "SHARE UPDATE EXCLUSIVE";
    /// Blocks schema changes and writes (`ADD FOREIGN KEY` on both tables).
    pub const SHARE_ROW_EXCLUSIVE: &str = "SHARE ROW EXCLUSIVE";
    /// Blocks writes, lets reads through (`REFRESH MATERIALIZED VIEW CONCURRENTLY`).
    pub const EXCLUSIVE: &str = "EXCLUSIVE";
    /// Taken by `INSERT`, `UPDATE`, `DELETE`.
    pub const ROW_EXCLUSIVE: &str = "ROW EXCLUSIVE";
}

/// One statement's level and the reasons for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    /// The worst of the reasons' levels.
    pub level: Level,
    /// Why; never empty.
    pub reasons: Vec<Reason>,
}

impl Assessment {
    pub(crate) fn of(reasons: Vec<Reason>) -> Self {
        let level = reasons.iter().map(|r| r.level).max().unwrap_or(Level::Low);
        Assessment { level, reasons }
    }

    /// The reasons at the assessment's own level (the ones worth showing first).
    pub fn worst_reasons(&self) -> impl Iterator<Item = &Reason> {
        self.reasons.iter().filter(move |r| r.level == self.level)
    }
}

/// A migration's level (its worst statement's) and each statement's assessment by line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationRisk {
    /// The worst statement's level; low for an empty migration.
    pub level: Level,
    /// `(line, assessment)` of each statement, in order.
    pub statements: Vec<(u32, Assessment)>,
}

impl MigrationRisk {
    /// `"message (line N)"` for each reason at the migration's level, in order.
    pub fn reasons(&self) -> Vec<String> {
        self.statements
            .iter()
            .filter(|(_, a)| a.level == self.level)
            .flat_map(|(line, a)| {
                a.worst_reasons()
                    .map(move |r| format!("{} (line {line})", r.message))
            })
            .collect()
    }
}

/// Classifies one statement on its own (an `ALTER COLUMN TYPE` then cannot know the old type).
pub fn classify_statement(statement: &Statement) -> Assessment {
    classify_statement_in(statement, None)
}

/// Classifies one statement; `model` is the schema before the migration, used to recognise
/// binary-coercible type changes.
pub fn classify_statement_in(statement: &Statement, model: Option<&SchemaModel>) -> Assessment {
    Assessment::of(rules::reasons(statement, model))
}

/// Classifies a migration's statements without knowing the schema before it.
pub fn classify_migration(statements: &[Statement]) -> MigrationRisk {
    classify_migration_in(statements, None)
}

/// Classifies a migration's statements, `model` being the schema before it.
pub fn classify_migration_in(
    statements: &[Statement],
    model: Option<&SchemaModel>,
) -> MigrationRisk {
    let statements: Vec<(u32, Assessment)> = statements
        .iter()
        .map(|s| (s.location.line, classify_statement_in(s, model)))
        .collect();
    let level = statements
        .iter()
        .map(|(_, a)| a.level)
        .max()
        .unwrap_or(Level::Low);
    MigrationRisk { level, statements }
}

#[cfg(test)]
mod tests;
