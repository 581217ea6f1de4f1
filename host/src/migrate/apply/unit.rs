//! A unit of work for the applier: one checked migration file, run up or down, and what it
//! changes in the tracking table.

use super::super::files::Migration;
use super::super::ledger::AppliedRow;
use crate::db::script::Script;
use crate::error::Failure;
use crate::hooks::MigrationRef;
use crate::plugins::hooks::Direction;
use crate::risk::Level;
use crate::sql::SqlStatement;

/// What a unit changes in the tracking table once its SQL ran.
#[derive(Debug, Clone, Copy)]
pub enum Bookkeeping<'a> {
    /// Insert the migration's row (up).
    Record(&'a Migration),
    /// Delete the row of the unit's version (down).
    Remove,
}

/// One migration file to run, checked.
#[derive(Debug)]
pub struct Unit<'a> {
    /// The migration's version.
    pub version: String,
    /// The migration's name.
    pub name: String,
    /// SHA-256 of the migration's `.up.sql` (the tracking table's checksum).
    pub checksum: String,
    /// Applying or rolling back.
    pub direction: Direction,
    /// The file's statements and how they run.
    pub script: Script<'a>,
    /// The file's text.
    pub sql: &'a str,
    /// The tracking-table change.
    pub bookkeeping: Bookkeeping<'a>,
    /// Its risk level, for the audit trail.
    pub risk: Option<Level>,
    /// Anything the audit entry should add (e.g. who scheduled it).
    pub audit_detail: Option<String>,
}

/// [`Script::check`], and a file with no statement to run (empty, blank, only comments, or
/// only a `BEGIN; COMMIT;` wrapper — what `migrate generate` writes) refused too (exit 5,
/// file:1): applied, it would be recorded as done, and the SQL added later would then count as
/// drift and never run.
fn checked<'a>(
    file: &str,
    sql: &'a str,
    marked: bool,
    direction: Direction,
) -> Result<Script<'a>, Failure> {
    let script = Script::check(file, sql, marked)?;
    if script.to_run().next().is_some() {
        return Ok(script);
    }
    let what = match direction {
        Direction::Up => "the SQL that applies the migration",
        Direction::Down => "the SQL that undoes its .up.sql",
    };
    Err(Failure::config(format!(
        "{file}:1: the migration file has no SQL statement (only comments or blank lines); \
         nothing was run and nothing recorded"
    ))
    .hint(format!(
        "edit {file} and add {what}, then run the command again"
    )))
}

impl<'a> Unit<'a> {
    /// Applying `m`, whose `.up.sql` is shown as `file`; refused (exit 5, file:line) when the
    /// file cannot run as written.
    pub fn up(m: &'a Migration, file: String) -> Result<Unit<'a>, Failure> {
        Ok(Unit {
            version: m.version.clone(),
            name: m.name.clone(),
            checksum: m.checksum.clone(),
            direction: Direction::Up,
            script: checked(&file, &m.up_sql, m.no_transaction, Direction::Up)?,
            sql: &m.up_sql,
            bookkeeping: Bookkeeping::Record(m),
            risk: None,
            audit_detail: None,
        })
    }

    /// Rolling back the applied `row` with `sql`, the contents of its `.down.sql` shown as
    /// `file`; `checksum` is its `.up.sql`'s.
    pub fn down(
        row: &AppliedRow,
        file: String,
        sql: &'a str,
        checksum: String,
    ) -> Result<Unit<'a>, Failure> {
        let marked = crate::sql::transaction::has_no_transaction_marker(sql);
        Ok(Unit {
            version: row.version.clone(),
            name: row.name.clone(),
            checksum,
            direction: Direction::Down,
            script: checked(&file, sql, marked, Direction::Down)?,
            sql,
            bookkeeping: Bookkeeping::Remove,
            risk: None,
            audit_detail: None,
        })
    }

    /// The migration it applies (`None` for a rollback).
    pub fn migration(&self) -> Option<&'a Migration> {
        match self.bookkeeping {
            Bookkeeping::Record(m) => Some(m),
            Bookkeeping::Remove => None,
        }
    }

    /// `<version>_<name>`.
    pub fn slug(&self) -> String {
        format!("{}_{}", self.version, self.name)
    }

    /// The statements it runs, in order (an outer `BEGIN … COMMIT` wrapper left out).
    pub fn statements(&self) -> Vec<&SqlStatement<'a>> {
        self.script.to_run().map(|(_, s)| s).collect()
    }

    /// The unit as hooks see it.
    pub fn hook_ref(&self) -> MigrationRef {
        MigrationRef {
            version: self.version.clone(),
            name: self.name.clone(),
            checksum: self.checksum.clone(),
            direction: self.direction,
            path: self.script.file.clone(),
            sql: self.sql.to_string(),
        }
    }
}
