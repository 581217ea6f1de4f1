//! The rules, statement kind by statement kind.

use sqlparser::ast::{FromTable, ObjectType, Statement as Ast, TableFactor, TableWithJoins};

use super::{Level, Reason, alter, lock, table_name};
use crate::sql::inspect::{has_keyword, is_drop_index};
use crate::sql::transaction::TransactionRole;
use crate::sql::{SchemaModel, Statement, StatementKind};

/// Every reason that applies to `s`; never empty.
pub(super) fn reasons(s: &Statement, model: Option<&SchemaModel>) -> Vec<Reason> {
    let mut found = match (s.ast.as_deref(), s.kind) {
        (Some(ast), _) => parsed(s, ast, model),
        (None, StatementKind::Unparsed) => unparsed(s),
        (None, _) => by_kind(s),
    };
    found.extend(transaction(s));
    if found.is_empty() {
        found.push(Reason::new(Level::Low, "no known risk"));
    }
    found
}

fn unparsed(s: &Statement) -> Vec<Reason> {
    let mut found = vec![Reason::new(
        Level::High,
        format!(
            "{} could not be analysed: review by hand",
            s.guessed_kind.as_deref().unwrap_or("statement")
        ),
    )];
    if is_drop_index(s) {
        found.extend(drop_index(s));
    }
    found
}

fn parsed(s: &Statement, ast: &Ast, model: Option<&SchemaModel>) -> Vec<Reason> {
    match ast {
        Ast::CreateIndex(index) => create_index(index.concurrently)
            .into_iter()
            .map(|r| r.on(table_name(&index.table_name)))
            .collect(),
        Ast::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        } => per_table(
            names.iter().map(table_name).collect(),
            Reason::new(
                Level::Critical,
                "DROP TABLE destroys the table and its data, and breaks code still using it",
            )
            .lock(lock::ACCESS_EXCLUSIVE)
            .destructive(),
        ),
        Ast::Drop {
            object_type: ObjectType::Index,
            ..
        } => drop_index(s),
        Ast::Drop {
            object_type: ObjectType::Schema | ObjectType::Database,
            ..
        } => vec![
            Reason::new(
                Level::Critical,
                "DROP SCHEMA/DATABASE destroys everything in it",
            )
            .lock(lock::ACCESS_EXCLUSIVE)
            .destructive(),
        ],
        Ast::Truncate(truncate) => per_table(
            truncate
                .table_names
                .iter()
                .map(|t| table_name(&t.name))
                .collect(),
            Reason::new(
                Level::Critical,
                "TRUNCATE deletes every row of the table under an ACCESS EXCLUSIVE lock",
            )
            .lock(lock::ACCESS_EXCLUSIVE)
            .destructive(),
        ),
        Ast::Delete(delete) => {
            let targets = match &delete.from {
                FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from) => from,
            };
            per_table(
                targets.iter().filter_map(relation).collect(),
                rows("DELETE", delete.selection.is_some(), true),
            )
        }
        Ast::Update(update) => per_table(
            relation(&update.table).into_iter().collect(),
            rows("UPDATE", update.selection.is_some(), false),
        ),
        Ast::AlterTable(alter) => alter::reasons(alter, model),
        _ => by_kind(s),
    }
}

/// Reasons known from the statement's kind alone (also for data statements, never parsed).
fn by_kind(s: &Statement) -> Vec<Reason> {
    match s.kind {
        StatementKind::CreateTable
        | StatementKind::CreateView
        | StatementKind::Comment
        | StatementKind::Grant
        | StatementKind::CreateFunction
        | StatementKind::Insert => vec![Reason::new(
            Level::Low,
            format!("{}: no lock on existing tables' traffic", s.kind),
        )],
        StatementKind::Set
            if has_keyword(&s.text, "lock_timeout")
                || has_keyword(&s.text, "statement_timeout") =>
        {
            vec![Reason::new(
                Level::Low,
                "sets a timeout: makes the statements after it safer",
            )]
        }
        _ => Vec::new(),
    }
}

/// What the statement does to the transaction Confiture runs the migration in.
fn transaction(s: &Statement) -> Vec<Reason> {
    let reason = match s.transaction {
        TransactionRole::Ordinary => return Vec::new(),
        TransactionRole::Wrapper(c) => Reason::new(
            Level::Low,
            format!(
                "{}: the file's outer transaction wrapper; its body runs in Confiture's own \
                 transaction",
                c.keyword()
            ),
        ),
        TransactionRole::Control(c) if s.no_transaction => Reason::new(
            Level::High,
            format!(
                "{}: the file's own transaction control; Confiture cannot roll this migration \
                 back as a whole",
                c.keyword()
            ),
        ),
        TransactionRole::Control(c) => Reason::new(
            Level::Critical,
            format!(
                "{} inside a migration that runs in one transaction: refused before anything \
                 runs (split the file, or mark it `-- confiture: no-transaction`)",
                c.keyword()
            ),
        ),
        TransactionRole::OutsideOnly(_) if s.no_transaction => return Vec::new(),
        TransactionRole::OutsideOnly(what) => Reason::new(
            Level::Critical,
            format!(
                "{what} cannot run inside a transaction block, and this migration has other \
                 statements: refused before anything runs (move it into a migration of its own)"
            ),
        ),
    };
    vec![reason]
}

/// `reason` once per table of a statement that names several (each message then names its
/// table), or as it is for one table (or none known).
fn per_table(tables: Vec<String>, reason: Reason) -> Vec<Reason> {
    match tables.len() {
        0 => vec![reason],
        1 => vec![reason.on(tables.into_iter().next().unwrap_or_default())],
        _ => tables
            .into_iter()
            .map(|table| {
                Reason {
                    message: format!("{table}: {}", reason.message),
                    ..reason.clone()
                }
                .on(table)
            })
            .collect(),
    }
}

/// The table a `DELETE`/`UPDATE` targets, when it is a plain table name.
fn relation(target: &TableWithJoins) -> Option<String> {
    match &target.relation {
        TableFactor::Table { name, .. } => Some(table_name(name)),
        _ => None,
    }
}

fn create_index(concurrently: bool) -> Vec<Reason> {
    if !concurrently {
        return vec![
            Reason::new(
                Level::High,
                "CREATE INDEX without CONCURRENTLY locks writes (SHARE lock) until the index is \
                 built",
            )
            .lock(lock::SHARE)
            .scans(),
        ];
    }
    vec![
        Reason::new(
            Level::Low,
            "CREATE INDEX CONCURRENTLY lets reads and writes through",
        )
        .lock(lock::SHARE_UPDATE_EXCLUSIVE)
        .scans(),
    ]
}

fn drop_index(s: &Statement) -> Vec<Reason> {
    if !has_keyword(&s.text, "concurrently") {
        return vec![
            Reason::new(
                Level::High,
                "DROP INDEX without CONCURRENTLY locks the table against reads and writes",
            )
            .lock(lock::ACCESS_EXCLUSIVE),
        ];
    }
    vec![
        Reason::new(
            Level::Low,
            "DROP INDEX CONCURRENTLY lets reads and writes through",
        )
        .lock(lock::SHARE_UPDATE_EXCLUSIVE),
    ]
}

fn rows(verb: &str, has_where: bool, destroys: bool) -> Reason {
    if has_where {
        return Reason::new(
            Level::High,
            format!("{verb} ... WHERE locks every matching row and can run long"),
        )
        .lock(lock::ROW_EXCLUSIVE);
    }
    let what = if destroys { "deletes" } else { "rewrites" };
    Reason::new(
        Level::Critical,
        format!("{verb} without WHERE {what} every row of the table"),
    )
    .lock(lock::ROW_EXCLUSIVE)
    .destructive()
}
