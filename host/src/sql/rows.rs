//! Statements that only read or move rows — queries, `INSERT`, `UPDATE`, `DELETE`, `COPY`,
//! `MERGE`, `EXPLAIN`, `CALL`, `EXECUTE`. A dump or a data migration has them by the hundred
//! thousand, and their syntax trees (kilobytes each) would be most of the memory of reading it,
//! while no model or rule reads their syntax. So their trees are dropped after parsing (an
//! `INSERT` is not even parsed): a statement keeps its kind, and an `UPDATE`/`DELETE` keeps the
//! few facts the risk classification judges, as a [`RowChange`].

use sqlparser::ast::{self, AssignmentTarget, FromTable, ObjectName, TableFactor};

use super::names;
use super::statement::StatementKind;

/// What an `UPDATE` or `DELETE` changes: all that is kept of its syntax tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowChange {
    /// The tables whose rows change, as written (a target that is not a plain table name, such
    /// as a subquery, is left out).
    pub tables: Vec<ObjectName>,
    /// It has a `WHERE` clause; without one it changes every row.
    pub filtered: bool,
    /// A column an `UPDATE ... SET` assigns twice (PostgreSQL rejects the statement), folded
    /// like an identifier.
    pub assigned_twice: Option<String>,
}

impl RowChange {
    /// The facts of an `UPDATE` or `DELETE`; `None` for any other statement.
    pub fn of(statement: &ast::Statement) -> Option<RowChange> {
        let plain = |target: &ast::TableWithJoins| match &target.relation {
            TableFactor::Table { name, .. } => Some(name.clone()),
            _ => None,
        };
        match statement {
            ast::Statement::Update(update) => Some(RowChange {
                tables: plain(&update.table).into_iter().collect(),
                filtered: update.selection.is_some(),
                assigned_twice: assigned_twice(&update.assignments),
            }),
            ast::Statement::Delete(delete) => {
                let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) =
                    &delete.from;
                Some(RowChange {
                    tables: from.iter().filter_map(plain).collect(),
                    filtered: delete.selection.is_some(),
                    assigned_twice: None,
                })
            }
            _ => None,
        }
    }
}

/// The first column assigned a second time by one `SET` list.
fn assigned_twice(assignments: &[ast::Assignment]) -> Option<String> {
    let mut seen: Vec<String> = Vec::new();
    for assignment in assignments {
        let columns: Vec<String> = match &assignment.target {
            AssignmentTarget::ColumnName(name) => vec![names::last(name)],
            AssignmentTarget::Tuple(targets) => targets.iter().map(names::last).collect(),
        };
        for column in columns {
            if seen.contains(&column) {
                return Some(column);
            }
            seen.push(column);
        }
    }
    None
}

/// True for a parsed statement that only reads or moves rows: its syntax tree is not kept.
pub fn only_moves_rows(statement: &ast::Statement) -> bool {
    use ast::Statement as S;
    matches!(
        statement,
        S::Query(_)
            | S::Insert(_)
            | S::Update(_)
            | S::Delete(_)
            | S::Merge(_)
            | S::Copy { .. }
            | S::Explain { .. }
            | S::Call(_)
            | S::Execute { .. }
    )
}

/// The kind of a data statement that is not parsed at all (`INSERT`: a dump's rows are most of
/// its bytes, and nothing needs even the facts of one), from its first word. `None` for every
/// other statement.
pub fn data_statement_kind(text: &str) -> Option<StatementKind> {
    let first = text
        .trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()?;
    first
        .eq_ignore_ascii_case("insert")
        .then_some(StatementKind::Insert)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::parse_file;

    fn statement(sql: &str) -> crate::sql::Statement {
        parse_file("x.sql", sql, false).statements.remove(0)
    }

    #[test]
    fn row_changes_keep_their_facts_and_no_tree() {
        let update = statement("UPDATE app.t SET a = 1, \"B\" = 2, (c, a) = (3, 4) WHERE id = 1");
        assert!(update.ast.is_none(), "no syntax tree");
        let change = update.row_change.expect("the facts");
        assert_eq!(change.tables[0].to_string(), "app.t");
        assert!(change.filtered);
        assert_eq!(change.assigned_twice.as_deref(), Some("a"));
        let twins = statement("UPDATE t SET a = 1, \"A\" = 2");
        let change = twins.row_change.expect("the facts");
        assert_eq!(
            change.assigned_twice, None,
            "\"A\" is another column than a"
        );
        assert!(!change.filtered);
        let delete = statement("DELETE FROM ONLY t USING u WHERE t.id = u.id");
        let change = delete.row_change.expect("the facts");
        assert_eq!(change.tables.len(), 1);
        assert_eq!(change.tables[0].to_string(), "t");
        assert!(change.filtered);
        let subquery = statement("UPDATE (SELECT 1) AS s SET a = 1");
        assert!(subquery.row_change.is_none_or(|c| c.tables.is_empty()));
    }

    #[test]
    fn queries_keep_their_kind_only_and_ddl_its_tree() {
        for sql in [
            "SELECT pg_catalog.setval('s', 1, true)",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "COPY t (a) TO STDOUT",
            "EXPLAIN SELECT 1",
        ] {
            let s = statement(sql);
            assert_eq!(s.kind, StatementKind::Other, "{sql}");
            assert!(s.ast.is_none() && s.row_change.is_none(), "{sql}");
            assert_eq!(s.guessed_kind, None, "parsed, not guessed: {sql}");
        }
        for sql in [
            "CREATE TABLE t (a int)",
            "ALTER TABLE t ADD COLUMN b int",
            "DROP VIEW v",
            "SET lock_timeout = '1s'",
            "TRUNCATE t",
        ] {
            assert!(statement(sql).ast.is_some(), "{sql}");
        }
        // Still parsed: a malformed query is reported, not taken for a data statement.
        assert_eq!(statement("SELEC 1").kind, StatementKind::Unparsed);
    }

    #[test]
    fn inserts_are_known_by_their_first_word() {
        assert_eq!(
            data_statement_kind("  Insert into t values (1)"),
            Some(StatementKind::Insert)
        );
        assert_eq!(data_statement_kind("inserted"), None);
        assert_eq!(data_statement_kind("update t set a = 1"), None);
    }
}
