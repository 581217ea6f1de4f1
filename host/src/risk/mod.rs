//! Risk classification of migration statements — the one safety model: for each statement, how
//! risky it is to run on a busy production database (low / high / critical) and why — the lock
//! it takes (by PostgreSQL's lock levels), whether it rewrites or scans the table, whether it
//! destroys data or breaks running code, whether it can run the way Confiture runs the
//! migration. Each reason names its [`Effect`]; lint's migration rules report those effects
//! (adding advice and fixes), so `migrate status`, the wizard, dry runs and `confiture lint`
//! cannot disagree. A migration is read statement by statement in order ([`walk`]): tables it
//! creates are new and empty, explicit transactions in a no-transaction file are followed, and
//! constraints it adds and validates are remembered. A migration's level is its worst
//! statement's. Statements the analysis layer cannot parse are flagged for review, never low.

mod alter;
mod rules;
pub mod sizes;
mod walk;

use serde::Serialize;

use crate::sql::transaction::CommitSteps;
use crate::sql::{ModelBuilder, SchemaModel, SqlFile, Statement, TableLookup};

/// What a statement does that makes it risky: the facts lint's migration rules report. Each
/// reason carries one; [`Effect::None`] for reasons that are only context (a brief lock, a
/// live table size).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    /// Nothing risky, or context only.
    None,
    /// The statement could not be analysed.
    Unanalysed,
    /// `CREATE INDEX` without `CONCURRENTLY` on an existing table blocks writes while it builds.
    IndexBuildBlocksWrites,
    /// `CONCURRENTLY` (index build, drop, reindex, partition detach) inside a transaction block:
    /// fails.
    ConcurrentlyInTransaction,
    /// `DROP INDEX` without `CONCURRENTLY` blocks reads and writes.
    IndexDropBlocksTable,
    /// `REINDEX` without `CONCURRENTLY` blocks writes (and reads using the index).
    ReindexBlocksTable,
    /// `DETACH PARTITION` without `CONCURRENTLY` blocks the partitioned table.
    DetachPartitionBlocksTable,
    /// `ADD COLUMN ... NOT NULL` without a default fails on a table with rows.
    RequiredColumnFails,
    /// `ADD COLUMN` whose default is volatile (or any default before PostgreSQL 11) rewrites.
    DefaultRewritesTable,
    /// `ADD COLUMN` of a stored generated or identity column rewrites.
    GeneratedColumnRewritesTable,
    /// `SET NOT NULL` with no validated CHECK to prove it scans under ACCESS EXCLUSIVE.
    NotNullScan,
    /// A foreign key or CHECK added without `NOT VALID` checks every row (or, inline on a new
    /// column, locks the referenced table).
    ConstraintValidation,
    /// `VALIDATE CONSTRAINT` in the transaction that added it `NOT VALID` keeps its strong lock.
    ValidationHoldsStrongLock,
    /// `UNIQUE`/`EXCLUDE` added to an existing table builds its index under a strong lock.
    UniqueIndexBuild,
    /// `PRIMARY KEY` added to an existing table builds its index under a strong lock.
    PrimaryKeyIndexBuild,
    /// `ALTER COLUMN TYPE` that rewrites the table.
    TypeChangeRewritesTable,
    /// `ALTER COLUMN TYPE` that is binary coercible: no rewrite, but a strong lock and a new
    /// type for readers.
    TypeChangeBreaksReaders,
    /// `RENAME COLUMN`.
    RenameColumn,
    /// `RENAME TO` of a table.
    RenameTable,
    /// `DROP COLUMN`.
    DropColumn,
    /// `DROP TABLE`, `DROP SCHEMA`, `DROP DATABASE`.
    DropTable,
    /// `DROP NOT NULL`: readers that rely on values being present break.
    DropNotNull,
    /// Dropping an object code may use: a view, function, type, domain, sequence, extension,
    /// trigger, a constraint or a column default.
    DropDependency,
    /// `TRUNCATE`.
    Truncate,
    /// `UPDATE`/`DELETE` of an existing table's rows.
    RowsChanged,
    /// Transaction control that does not do what it says where it stands.
    TransactionControl,
    /// A `BEGIN` in a no-transaction migration never committed or rolled back.
    UncommittedTransaction,
    /// A no-transaction migration that commits in several steps, or in a transaction of its
    /// own apart from its tracking row: a failure part-way leaves what ran before committed.
    NonAtomicMigration,
    /// `ALTER DOMAIN ... ADD CONSTRAINT` checks every column of the domain's type.
    DomainConstraintValidation,
    /// `VACUUM FULL` or `CLUSTER` rewrites the table under ACCESS EXCLUSIVE.
    TableRewriteCommand,
    /// The same column assigned twice in one `UPDATE` or `INSERT`: it fails.
    DuplicateAssignment,
}

/// The settings the classification depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// The PostgreSQL major version the migrations run on (e.g. 15): adding a column with a
    /// constant default rewrites before 11, `SET NOT NULL` uses a validated CHECK from 12.
    pub postgres_version: u32,
}

/// The PostgreSQL major version assumed when none is configured.
pub const DEFAULT_POSTGRES_VERSION: u32 = 15;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            postgres_version: DEFAULT_POSTGRES_VERSION,
        }
    }
}

pub use sizes::{SizeThresholds, TableSize, TableSizes, sharpen, tables};

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
    /// What the statement does, for the rules that report it.
    pub effect: Effect,
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
    /// A reason that is only context ([`Effect::None`]).
    pub(crate) fn new(level: Level, message: impl Into<String>) -> Self {
        Reason::of(Effect::None, level, message)
    }

    /// A reason for `effect`.
    pub(crate) fn of(effect: Effect, level: Level, message: impl Into<String>) -> Self {
        Reason {
            level,
            effect,
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

/// Classifies one migration's statements in order, `before` being the schema before it.
pub fn assess_migration(
    statements: &[Statement],
    before: Option<&dyn TableLookup>,
    settings: Settings,
) -> MigrationRisk {
    let transactional = !statements.first().is_some_and(|s| s.no_transaction);
    let mut walk = walk::Walk::new(before, settings, transactional);
    let mut assessed: Vec<(u32, Vec<Reason>)> = statements
        .iter()
        .enumerate()
        .map(|(index, s)| {
            walk.next_statement(index);
            (s.location.line, rules::reasons(s, &mut walk))
        })
        .collect();
    if let Some(open) = walk.open_transaction()
        && let Some((_, reasons)) = assessed.get_mut(open)
    {
        reasons.push(Reason::of(
            Effect::UncommittedTransaction,
            Level::High,
            "this transaction is never committed or rolled back: the session ends it, and what \
             it did is rolled back",
        ));
    }
    if !transactional && let Some((at, reason)) = non_atomic(statements) {
        assessed[at].1.push(reason);
    }
    let statements: Vec<(u32, Assessment)> = assessed
        .into_iter()
        .map(|(line, reasons)| (line, Assessment::of(reasons)))
        .collect();
    let level = statements
        .iter()
        .map(|(_, a)| a.level)
        .max()
        .unwrap_or(Level::Low);
    MigrationRisk { level, statements }
}

/// Why a migration run outside a transaction is not atomic, and the statement to say it at:
/// the first step that runs after another committed (a failure there leaves the steps before
/// it committed), or the file's own single transaction (it commits apart from the tracking
/// row). A file whose one step is a single statement is atomic: it completes or fails (an
/// index build then leaves an INVALID index, which the applier reports).
fn non_atomic(statements: &[Statement]) -> Option<(usize, Reason)> {
    let steps = CommitSteps::of(statements.iter().map(|s| (s.text.as_str(), s.transaction)));
    let line = |i: usize| statements[i].location.line;
    let reason = |message: String| Reason::of(Effect::NonAtomicMigration, Level::High, message);
    if let [_, second, ..] = steps.starts[..] {
        let lines: Vec<String> = steps.starts.iter().map(|&i| line(i).to_string()).collect();
        return Some((
            second,
            reason(format!(
                "not atomic: this no-transaction migration commits in {} separate steps (lines \
                 {}): if one fails, the steps before it stay committed and the migration is not \
                 recorded",
                steps.starts.len(),
                lines.join(", "),
            )),
        ));
    }
    steps.first_explicit.map(|begin| {
        (
            begin,
            reason(
                "not atomic: this transaction is the migration's own, committed before \
                 Confiture records the migration; if the run stops in between, its changes stay \
                 unrecorded and a re-run runs it again"
                    .to_string(),
            ),
        )
    })
}

/// Every file's migration risk in one pass over `files` (each migration classified against the
/// schema built from the files before it), and the model after them all. `None` for files
/// that are not migrations. Lint reads this, and so can any command that lists migrations.
pub fn assess_files(
    files: &[SqlFile],
    settings: Settings,
) -> (SchemaModel, Vec<Option<MigrationRisk>>) {
    let mut builder = ModelBuilder::default();
    let risks = files
        .iter()
        .map(|file| {
            let migration = file.statements.iter().any(|s| s.in_migration);
            let risk =
                migration.then(|| assess_migration(&file.statements, Some(&builder), settings));
            builder.apply(file);
            risk
        })
        .collect();
    (builder.finish(), risks)
}

#[cfg(test)]
mod tests;
