//! The rules, statement kind by statement kind.

use sqlparser::ast::{
    Assignment, AssignmentTarget, FromTable, ObjectType, Statement as Ast, TableFactor,
    TableWithJoins,
};

use super::walk::{Control, Standing, Walk};
use super::{Effect, Level, Reason, alter, lock, table_name};
use crate::sql::inspect::{has_keyword, is_concurrent_reindex, set_variable};
use crate::sql::names::qualified;
use crate::sql::{Statement, StatementKind, guess_kind};

/// Every reason that applies to `s`; never empty.
pub(super) fn reasons(s: &Statement, walk: &mut Walk<'_>) -> Vec<Reason> {
    let mut found = match s.ast.as_deref() {
        Some(ast) => parsed(s, ast, walk),
        None => by_text(s, walk).unwrap_or_else(|| match s.kind {
            StatementKind::Unparsed => unparsed(s),
            _ => by_kind(s),
        }),
    };
    if found.is_empty() {
        found.push(Reason::new(Level::Low, "no known risk"));
    }
    found
}

fn unparsed(s: &Statement) -> Vec<Reason> {
    vec![Reason::of(
        Effect::Unanalysed,
        Level::High,
        format!(
            "{} could not be analysed: review by hand",
            s.guessed_kind.as_deref().unwrap_or("statement")
        ),
    )]
}

/// Statements recognised from their leading words whether or not sqlparser reads them (it
/// reads few of these, and the words decide): `DROP INDEX`, `REINDEX`, `VACUUM FULL`,
/// `CLUSTER`, `ALTER DOMAIN ... ADD CONSTRAINT`, `DETACH PARTITION`, transaction control, and
/// drops of objects code uses.
fn by_text(s: &Statement, walk: &mut Walk<'_>) -> Option<Vec<Reason>> {
    let kind = guess_kind(&s.text);
    let text = s.text.as_str();
    Some(match kind.as_str() {
        "drop-index" => drop_index(s, walk),
        "reindex" => concurrent(
            walk,
            is_concurrent_reindex(text),
            "REINDEX",
            Reason::of(
                Effect::ReindexBlocksTable,
                Level::High,
                "REINDEX without CONCURRENTLY blocks writes to the table, and reads that use \
                 the index, until it is rebuilt",
            )
            .lock(lock::SHARE)
            .scans(),
        ),
        "vacuum" if has_keyword(text, "full") => vec![rewrite_command("VACUUM FULL")],
        "cluster" => vec![rewrite_command("CLUSTER")],
        "alter-domain" if has_keyword(text, "constraint") && has_keyword(text, "add") => {
            let validated = !has_keyword(text, "valid");
            vec![if validated {
                Reason::of(
                    Effect::DomainConstraintValidation,
                    Level::High,
                    "ALTER DOMAIN ... ADD CONSTRAINT checks every column of the domain's type in \
                     every table while locking them",
                )
                .scans()
            } else {
                Reason::new(
                    Level::Low,
                    "ALTER DOMAIN ... ADD CONSTRAINT NOT VALID checks no existing rows",
                )
            }]
        }
        "alter-table" if has_keyword(text, "detach") && has_keyword(text, "partition") => {
            let concurrently = has_keyword(text, "concurrently") || has_keyword(text, "finalize");
            concurrent(
                walk,
                concurrently,
                "DETACH PARTITION",
                Reason::of(
                    Effect::DetachPartitionBlocksTable,
                    Level::High,
                    "DETACH PARTITION without CONCURRENTLY locks the partitioned table against \
                     reads and writes",
                )
                .lock(lock::ACCESS_EXCLUSIVE),
            )
        }
        "begin" | "start" => transaction(walk, Control::Begin, "BEGIN"),
        "commit" | "end" | "abort" => transaction(walk, Control::End, "COMMIT"),
        "rollback" if !has_keyword(text, "to") => transaction(walk, Control::End, "ROLLBACK"),
        "savepoint" | "release" | "rollback" => transaction(walk, Control::Savepoint, "SAVEPOINT"),
        "drop-view"
        | "drop-materialized-view"
        | "drop-function"
        | "drop-procedure"
        | "drop-type"
        | "drop-domain"
        | "drop-sequence"
        | "drop-extension"
        | "drop-trigger" => {
            let what = kind["drop-".len()..].replace('-', " ").to_uppercase();
            vec![
                Reason::of(
                    Effect::DropDependency,
                    Level::High,
                    format!("DROP {what} breaks code and objects still using it"),
                )
                .lock(lock::ACCESS_EXCLUSIVE),
            ]
        }
        _ => return None,
    })
}

/// A command that rewrites a whole table.
fn rewrite_command(what: &str) -> Reason {
    Reason::of(
        Effect::TableRewriteCommand,
        Level::Critical,
        format!("{what} rewrites the whole table under an ACCESS EXCLUSIVE lock"),
    )
    .lock(lock::ACCESS_EXCLUSIVE)
    .rewrites()
}

/// An operation that has a `CONCURRENTLY` form: low when it is used outside a transaction,
/// critical inside one (it fails), `blocking` without it.
fn concurrent(walk: &Walk<'_>, concurrently: bool, what: &str, blocking: Reason) -> Vec<Reason> {
    if !concurrently {
        return vec![blocking];
    }
    let mut found = vec![
        Reason::new(
            Level::Low,
            format!("{what} CONCURRENTLY lets reads and writes through"),
        )
        .lock(lock::SHARE_UPDATE_EXCLUSIVE),
    ];
    found.extend(fails_in_transaction(walk, what));
    found
}

/// The reason a `CONCURRENTLY` operation fails here, when a transaction is open.
fn fails_in_transaction(walk: &Walk<'_>, what: &str) -> Option<Reason> {
    walk.in_transaction().then(|| {
        Reason::of(
            Effect::ConcurrentlyInTransaction,
            Level::Critical,
            format!("{what} CONCURRENTLY cannot run inside a transaction block"),
        )
    })
}

fn transaction(walk: &mut Walk<'_>, control: Control, word: &str) -> Vec<Reason> {
    let problem = |message: &str| {
        vec![Reason::of(
            Effect::TransactionControl,
            Level::High,
            format!("{word} {message}"),
        )]
    };
    match walk.control(control) {
        Standing::Fine => vec![Reason::new(
            Level::Low,
            format!("{word}: explicit transaction control in a no-transaction migration"),
        )],
        Standing::InsideConfituresTransaction => problem(
            "inside a migration that Confiture runs in a transaction: it ends that transaction \
             early, and what follows is neither atomic nor recorded with the migration",
        ),
        Standing::Nested => problem(
            "while a transaction is already open is ignored: the first COMMIT ends the outer \
             transaction",
        ),
        Standing::NothingOpen => problem("with no transaction open does nothing or fails"),
    }
}

fn parsed(s: &Statement, ast: &Ast, walk: &mut Walk<'_>) -> Vec<Reason> {
    if let Some(found) = by_text(s, walk) {
        return found;
    }
    match ast {
        Ast::CreateTable(create) => {
            let new = walk.create_table(qualified(&create.name), create.if_not_exists);
            vec![Reason::new(
                Level::Low,
                if new {
                    "CREATE TABLE: a new table, no lock on existing tables' traffic"
                } else {
                    "CREATE TABLE IF NOT EXISTS: the table exists already, nothing happens"
                },
            )]
        }
        Ast::CreateIndex(index) => {
            let table = qualified(&index.table_name);
            let on = table_name(&index.table_name);
            if !walk.existing(&table) {
                let mut found = vec![Reason::new(
                    Level::Low,
                    "CREATE INDEX on a table created in this migration (empty)",
                )];
                if index.concurrently {
                    found.extend(fails_in_transaction(walk, "CREATE INDEX"));
                }
                return found.into_iter().map(|r| r.on(on.clone())).collect();
            }
            concurrent(
                walk,
                index.concurrently,
                "CREATE INDEX",
                Reason::of(
                    Effect::IndexBuildBlocksWrites,
                    Level::High,
                    "CREATE INDEX without CONCURRENTLY locks writes (SHARE lock) until the index \
                     is built",
                )
                .lock(lock::SHARE)
                .scans(),
            )
            .into_iter()
            .map(|r| r.on(on.clone()))
            .collect()
        }
        Ast::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        } => on_existing(
            walk,
            names.iter().collect(),
            "DROP TABLE",
            Reason::of(
                Effect::DropTable,
                Level::Critical,
                "DROP TABLE destroys the table and its data, and breaks code still using it",
            )
            .lock(lock::ACCESS_EXCLUSIVE)
            .destructive(),
        ),
        Ast::Drop {
            object_type: ObjectType::Schema | ObjectType::Database,
            ..
        } => vec![
            Reason::of(
                Effect::DropTable,
                Level::Critical,
                "DROP SCHEMA/DATABASE destroys everything in it",
            )
            .lock(lock::ACCESS_EXCLUSIVE)
            .destructive(),
        ],
        Ast::Truncate(truncate) => on_existing(
            walk,
            truncate.table_names.iter().map(|t| &t.name).collect(),
            "TRUNCATE",
            Reason::of(
                Effect::Truncate,
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
            rows(
                walk,
                targets.iter().collect(),
                "DELETE",
                delete.selection.is_some(),
                true,
            )
        }
        Ast::Update(update) => {
            let mut found = duplicate_assignment(&update.assignments);
            found.extend(rows(
                walk,
                vec![&update.table],
                "UPDATE",
                update.selection.is_some(),
                false,
            ));
            found
        }
        Ast::AlterTable(alter) => alter::reasons(alter, walk),
        Ast::Set(_) => match set_variable(ast).as_deref() {
            Some("lock_timeout" | "statement_timeout") => vec![Reason::new(
                Level::Low,
                "sets a timeout: makes the statements after it safer",
            )],
            _ => Vec::new(),
        },
        _ => by_kind(s),
    }
}

/// Reasons from the statement's kind alone (also for data statements, which have no syntax
/// tree).
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
        _ => Vec::new(),
    }
}

/// `reason` for each of `tables` that existed before the migration ([`per_table`]); low when
/// they were all created by it.
fn on_existing(
    walk: &Walk<'_>,
    tables: Vec<&sqlparser::ast::ObjectName>,
    verb: &str,
    reason: Reason,
) -> Vec<Reason> {
    let existing: Vec<String> = tables
        .into_iter()
        .filter(|n| walk.existing(&qualified(n)))
        .map(table_name)
        .collect();
    if existing.is_empty() {
        return vec![Reason::new(
            Level::Low,
            format!("{verb} of a table created in this migration"),
        )];
    }
    per_table(existing, reason)
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
fn relation(target: &TableWithJoins) -> Option<&sqlparser::ast::ObjectName> {
    match &target.relation {
        TableFactor::Table { name, .. } => Some(name),
        _ => None,
    }
}

fn drop_index(s: &Statement, walk: &Walk<'_>) -> Vec<Reason> {
    concurrent(
        walk,
        has_keyword(&s.text, "concurrently"),
        "DROP INDEX",
        Reason::of(
            Effect::IndexDropBlocksTable,
            Level::High,
            "DROP INDEX without CONCURRENTLY locks the table against reads and writes",
        )
        .lock(lock::ACCESS_EXCLUSIVE),
    )
}

/// `UPDATE`/`DELETE` on `targets`: low on tables created in this migration.
fn rows(
    walk: &Walk<'_>,
    targets: Vec<&TableWithJoins>,
    verb: &str,
    has_where: bool,
    destroys: bool,
) -> Vec<Reason> {
    let names: Vec<_> = targets.into_iter().filter_map(relation).collect();
    let reason = if has_where {
        Reason::of(
            Effect::RowsChanged,
            Level::High,
            format!("{verb} ... WHERE locks every matching row and can run long"),
        )
        .lock(lock::ROW_EXCLUSIVE)
    } else {
        let what = if destroys { "deletes" } else { "rewrites" };
        Reason::of(
            Effect::RowsChanged,
            Level::Critical,
            format!("{verb} without WHERE {what} every row of the table"),
        )
        .lock(lock::ROW_EXCLUSIVE)
        .destructive()
    };
    if names.is_empty() {
        return vec![reason];
    }
    on_existing(walk, names, verb, reason)
}

/// A column assigned twice by one `UPDATE ... SET`: PostgreSQL rejects the statement.
fn duplicate_assignment(assignments: &[Assignment]) -> Vec<Reason> {
    let mut seen: Vec<String> = Vec::new();
    for assignment in assignments {
        let columns: Vec<String> = match &assignment.target {
            AssignmentTarget::ColumnName(name) => vec![crate::sql::names::last(name)],
            AssignmentTarget::Tuple(names) => names.iter().map(crate::sql::names::last).collect(),
        };
        for column in columns {
            if seen.contains(&column) {
                return vec![Reason::of(
                    Effect::DuplicateAssignment,
                    Level::Critical,
                    format!("column {column} is assigned twice: PostgreSQL rejects the statement"),
                )];
            }
            seen.push(column);
        }
    }
    Vec::new()
}
