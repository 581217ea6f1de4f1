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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::testing::{migration, row};

    #[test]
    fn an_up_unit_runs_the_file_and_records_its_migration() {
        let m = migration(
            "001",
            "BEGIN;\nCREATE TABLE t (a int);\nCREATE TABLE u (a int);\nCOMMIT;\n",
        );
        let unit = Unit::up(&m, "db/migrations/001_m.up.sql".into()).unwrap();
        assert_eq!(unit.slug(), "001_m001");
        assert!(std::ptr::eq(unit.migration().unwrap(), &m));
        let texts: Vec<&str> = unit.statements().iter().map(|s| s.text).collect();
        assert_eq!(texts, ["CREATE TABLE t (a int)", "CREATE TABLE u (a int)"]);
        let hook = unit.hook_ref();
        assert_eq!(
            (
                hook.version.as_str(),
                hook.name.as_str(),
                hook.checksum.as_str()
            ),
            ("001", "m001", m.checksum.as_str())
        );
        assert_eq!(hook.direction, Direction::Up);
        assert_eq!(hook.path, "db/migrations/001_m.up.sql");
        assert_eq!(hook.sql, m.up_sql);
    }

    #[test]
    fn a_down_unit_removes_the_row_and_keeps_the_up_files_checksum() {
        let applied = row("002", None);
        let sql = "DROP TABLE t;";
        let unit = Unit::down(
            &applied,
            "db/migrations/002_m.down.sql".into(),
            sql,
            "abc".into(),
        )
        .unwrap();
        assert!(unit.migration().is_none());
        assert_eq!(unit.slug(), "002_m002");
        let hook = unit.hook_ref();
        assert_eq!(
            (hook.checksum.as_str(), hook.direction),
            ("abc", Direction::Down)
        );
        assert_eq!(unit.statements().len(), 1);
    }

    #[test]
    fn a_file_with_nothing_to_run_is_refused_at_its_first_line() {
        for sql in ["", "-- only a comment\n\n", "BEGIN;\nCOMMIT;\n"] {
            let m = migration("003", sql);
            let err = Unit::up(&m, "003_m.up.sql".into()).unwrap_err().to_string();
            assert!(
                err.starts_with("003_m.up.sql:1: the migration file has no SQL"),
                "{err}"
            );
            let err = Unit::down(
                &row("003", None),
                "003_m.down.sql".into(),
                sql,
                "abc".into(),
            )
            .unwrap_err();
            let hint = format!("{err:?}");
            assert!(hint.contains("undoes its .up.sql"), "{hint}");
        }
    }
}
