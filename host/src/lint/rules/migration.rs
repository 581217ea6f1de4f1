//! Migration safety: statements in `db/migrations/` that lock or rewrite a busy table, break
//! running application code, or cannot run the way Confiture runs migrations. Tables created in
//! the same migration are new and empty, so most rules leave them alone.

use std::collections::HashSet;

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnDef, ObjectName, ObjectType, Statement as Ast,
    TableConstraint,
};

use super::{ident, last_part, qualified, quote};
use crate::lint::rule::{BuiltinRule, Category, LintContext, Severity, Violation};
use crate::sql::inspect::{
    default_of, has_keyword, is_drop_index, is_generated, is_not_null, is_serial, volatile_call,
};
use crate::sql::{SqlFile, Statement, StatementKind};

pub(super) fn rules() -> Vec<BuiltinRule> {
    let rule = |id, severity, description, check| BuiltinRule {
        id,
        category: Category::Migration,
        severity,
        description,
        check,
    };
    vec![
        rule(
            "require-concurrent-index",
            Severity::Critical,
            "CREATE INDEX without CONCURRENTLY on an existing table blocks every write to it \
             for the whole build.",
            concurrent_index,
        ),
        rule(
            "concurrent-index-in-transaction",
            Severity::Critical,
            "CREATE/DROP INDEX CONCURRENTLY cannot run inside a transaction block, and \
             Confiture runs a migration that has other statements in one (unless its first \
             line is `-- confiture: no-transaction`): the migration is refused.",
            concurrent_in_transaction,
        ),
        rule(
            "require-concurrent-index-drop",
            Severity::Warning,
            "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table, \
             blocking reads and writes while it waits for running queries.",
            concurrent_drop,
        ),
        rule(
            "adding-required-column",
            Severity::Critical,
            "ADD COLUMN ... NOT NULL without a DEFAULT fails on any table that has rows, and \
             the application's INSERTs that do not know the column fail after it.",
            required_column,
        ),
        rule(
            "volatile-default",
            Severity::Critical,
            "ADD COLUMN with a volatile default (random(), gen_random_uuid(), \
             clock_timestamp(), nextval()/serial) rewrites the whole table under an ACCESS \
             EXCLUSIVE lock.",
            volatile_default,
        ),
        rule(
            "adding-generated-column",
            Severity::Critical,
            "ADD COLUMN ... GENERATED (a stored generated or identity column) rewrites the \
             whole table under an ACCESS EXCLUSIVE lock.",
            generated_column,
        ),
        rule(
            "set-not-null",
            Severity::Warning,
            "ALTER COLUMN ... SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE \
             lock, unless a validated CHECK (col IS NOT NULL) already proves it.",
            set_not_null,
        ),
        rule(
            "constraint-missing-not-valid",
            Severity::Critical,
            "ADD CONSTRAINT ... FOREIGN KEY/CHECK without NOT VALID checks every row while \
             holding a lock that blocks writes (and, for a foreign key, writes to the \
             referenced table too).",
            missing_not_valid,
        ),
        rule(
            "validate-in-same-transaction",
            Severity::Warning,
            "VALIDATE CONSTRAINT in the same transaction as the ADD ... NOT VALID keeps the \
             strong lock of the ADD for the whole validation, which defeats NOT VALID.",
            validate_same_transaction,
        ),
        rule(
            "adding-unique-constraint",
            Severity::Critical,
            "ADD CONSTRAINT ... UNIQUE/EXCLUDE builds its index while blocking reads and \
             writes; build the index CONCURRENTLY first and attach it with USING INDEX.",
            unique_constraint,
        ),
        rule(
            "adding-primary-key",
            Severity::Critical,
            "ADD PRIMARY KEY on an existing table builds its index (and may scan for NULLs) \
             under an ACCESS EXCLUSIVE lock; build a unique index CONCURRENTLY and attach it \
             with USING INDEX.",
            primary_key,
        ),
        rule(
            "changing-column-type",
            Severity::Critical,
            "ALTER COLUMN ... TYPE rewrites the table and its indexes under an ACCESS \
             EXCLUSIVE lock (except for binary-compatible changes such as to text), and \
             breaks application code reading the old type.",
            column_type,
        ),
        rule(
            "renaming-column",
            Severity::Warning,
            "Renaming a column breaks every running instance of the application that still \
             uses the old name until all are redeployed.",
            rename_column,
        ),
        rule(
            "renaming-table",
            Severity::Warning,
            "Renaming a table breaks every running instance of the application that still \
             uses the old name until all are redeployed.",
            rename_table,
        ),
        rule(
            "drop-column",
            Severity::Warning,
            "Dropping a column breaks application code (and ORMs caching the column list) \
             that still reads it, and destroys its data.",
            drop_column,
        ),
        rule(
            "drop-table",
            Severity::Critical,
            "Dropping a table (or database) destroys its data and breaks any code still \
             using it.",
            drop_table,
        ),
        rule(
            "truncate",
            Severity::Critical,
            "TRUNCATE in a migration deletes every row (CASCADE: of referencing tables too) \
             under an ACCESS EXCLUSIVE lock.",
            truncate,
        ),
        rule(
            "transaction-nesting",
            Severity::Warning,
            "BEGIN/COMMIT/ROLLBACK inside a migration that Confiture already runs in a \
             transaction ends that transaction early: what follows is no longer atomic or \
             recorded with the migration.",
            transaction_nesting,
        ),
        rule(
            "require-lock-timeout",
            Severity::Warning,
            "A migration that takes strong locks without a lock_timeout waits behind a long \
             query, and every later query on the table queues behind it: an outage. Applies \
             when the environment's `lock_timeout` is 0 (Confiture sets it otherwise).",
            lock_timeout,
        ),
    ]
}

/// A migration file and the tables it creates itself.
struct Migration<'a> {
    file: &'a SqlFile,
    created: HashSet<String>,
}

impl Migration<'_> {
    /// True when the table existed before this migration (so it may be big and busy).
    fn existing(&self, name: &ObjectName) -> bool {
        !self.created.contains(&qualified(name))
    }

    /// The parsed statements of the migration.
    fn statements(&self) -> impl Iterator<Item = (&Statement, &Ast)> {
        self.file
            .statements
            .iter()
            .filter_map(|s| s.ast.as_deref().map(|a| (s, a)))
    }

    /// `ALTER TABLE`s on tables that existed before, operation by operation.
    fn alterations(&self) -> impl Iterator<Item = (&Statement, &ObjectName, &AlterTableOperation)> {
        self.statements().flat_map(move |(s, ast)| {
            let ops: &[AlterTableOperation] = match ast {
                Ast::AlterTable(alter) if self.existing(&alter.name) => &alter.operations,
                _ => &[],
            };
            let name = match ast {
                Ast::AlterTable(alter) => Some(&alter.name),
                _ => None,
            };
            ops.iter().filter_map(move |op| name.map(|n| (s, n, op)))
        })
    }

    /// True when the migration runs in Confiture's transaction.
    fn transactional(&self) -> bool {
        !self
            .file
            .statements
            .first()
            .is_some_and(|s| s.no_transaction)
    }
}

/// The migration files of the run.
fn migrations<'a>(ctx: &LintContext<'a>) -> Vec<Migration<'a>> {
    ctx.files
        .iter()
        .filter(|f| f.statements.iter().any(|s| s.in_migration))
        .map(|file| {
            let created = file
                .statements
                .iter()
                .filter_map(|s| match s.ast.as_deref() {
                    Some(Ast::CreateTable(t)) => Some(qualified(&t.name)),
                    _ => None,
                })
                .collect();
            Migration { file, created }
        })
        .collect()
}

fn concurrent_index(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for m in migrations(ctx) {
        for (s, ast) in m.statements() {
            let Ast::CreateIndex(index) = ast else {
                continue;
            };
            if index.concurrently || !m.existing(&index.table_name) {
                continue;
            }
            let text = s.text.trim_end_matches(';');
            let fixed = replace_first_keyword(text, "index", "INDEX CONCURRENTLY");
            found.push(
                rule.at(
                    &s.location,
                    format!(
                        "CREATE INDEX on existing table `{}` without CONCURRENTLY blocks writes \
                         to it until the index is built",
                        last_part(&index.table_name)
                    ),
                )
                .suggest(
                    "create it CONCURRENTLY, in a migration whose first line is \
                     `-- confiture: no-transaction`",
                )
                .fix(format!("{fixed};")),
            );
        }
    }
    found
}

/// `text` with the first keyword `word` (case-insensitive) replaced by `with`.
fn replace_first_keyword(text: &str, word: &str, with: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = lower[from..].find(word) {
        let start = from + pos;
        let end = start + word.len();
        let boundary = |i: Option<u8>| i.is_none_or(|b| !(b.is_ascii_alphanumeric() || b == b'_'));
        if boundary(start.checked_sub(1).map(|i| lower.as_bytes()[i]))
            && boundary(lower.as_bytes().get(end).copied())
        {
            return format!("{}{with}{}", &text[..start], &text[end..]);
        }
        from = end;
    }
    text.to_string()
}

fn concurrent_in_transaction(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for m in migrations(ctx).into_iter().filter(Migration::transactional) {
        for s in &m.file.statements {
            let concurrent = match s.ast.as_deref() {
                Some(Ast::CreateIndex(index)) => index.concurrently,
                _ => {
                    (is_drop_index(s) || s.guessed_kind.as_deref() == Some("reindex"))
                        && has_keyword(&s.text, "concurrently")
                }
            };
            if concurrent {
                found.push(
                    rule.at(
                        &s.location,
                        "CONCURRENTLY cannot run inside a transaction block, and this migration \
                         has other statements, so it runs in one: it is refused",
                    )
                    .suggest(
                        "move the statement into a migration of its own (Confiture runs it \
                         outside a transaction by itself), or make `-- confiture: \
                         no-transaction` the migration's first line",
                    ),
                );
            }
        }
    }
    found
}

fn concurrent_drop(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for m in migrations(ctx) {
        for s in &m.file.statements {
            if is_drop_index(s) && !has_keyword(&s.text, "concurrently") {
                let text = s.text.trim_end_matches(';');
                found.push(
                    rule.at(
                        &s.location,
                        "DROP INDEX without CONCURRENTLY locks the table against reads and \
                         writes",
                    )
                    .suggest("drop it CONCURRENTLY, in a `-- confiture: no-transaction` migration")
                    .fix(format!(
                        "{};",
                        replace_first_keyword(text, "index", "INDEX CONCURRENTLY")
                    )),
                );
            }
        }
    }
    found
}

fn added_columns<'a>(
    m: &'a Migration<'a>,
) -> impl Iterator<Item = (&'a Statement, &'a ObjectName, &'a ColumnDef)> {
    m.alterations().filter_map(|(s, table, op)| match op {
        AlterTableOperation::AddColumn { column_def, .. } => Some((s, table, column_def)),
        _ => None,
    })
}

fn required_column(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for m in migrations(ctx) {
        for (s, table, column) in added_columns(&m) {
            let not_null = is_not_null(column);
            if not_null
                && default_of(column).is_none()
                && !is_generated(column)
                && !is_serial(column)
            {
                let name = ident(&column.name);
                found.push(
                    rule.at(
                        &s.location,
                        format!(
                            "adding NOT NULL column `{name}` to existing table `{}` without a \
                             default fails as soon as the table has a row",
                            last_part(table)
                        ),
                    )
                    .suggest(
                        "add it with a constant DEFAULT (instant since PostgreSQL 11), or add \
                         it nullable, backfill, then add NOT NULL via a NOT VALID CHECK",
                    ),
                );
            }
        }
    }
    found
}

fn volatile_default(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for m in migrations(ctx) {
        for (s, table, column) in added_columns(&m) {
            let why = match default_of(column).and_then(volatile_call) {
                Some(f) => format!("its default calls {f}(), which is volatile"),
                None if is_serial(column) => {
                    "a serial's default is nextval(), which is volatile".into()
                }
                None => continue,
            };
            found.push(
                rule.at(
                    &s.location,
                    format!(
                        "adding column `{}` to existing table `{}` rewrites the table: {why}",
                        ident(&column.name),
                        last_part(table)
                    ),
                )
                .suggest(
                    "add the column without a default (or with a constant one), set the default \
                     afterwards with ALTER COLUMN ... SET DEFAULT, and backfill existing rows \
                     in batches",
                ),
            );
        }
    }
    found
}

fn generated_column(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for m in migrations(ctx) {
        for (s, table, column) in added_columns(&m) {
            if is_generated(column) {
                found.push(
                    rule.at(
                        &s.location,
                        format!(
                            "adding generated column `{}` to existing table `{}` rewrites the \
                             table under an ACCESS EXCLUSIVE lock",
                            ident(&column.name),
                            last_part(table)
                        ),
                    )
                    .suggest(
                        "add a plain column, backfill it in batches, and maintain it with a \
                         trigger or the application",
                    ),
                );
            }
        }
    }
    found
}

/// True when `check` (a CHECK expression) proves `column IS NOT NULL`.
fn proves_not_null(check: &str, column: &str) -> bool {
    check
        .to_ascii_lowercase()
        .replace('"', "")
        .contains(&format!("{column} is not null"))
}

fn set_not_null(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for m in migrations(ctx) {
        // CHECKs added earlier in this migration, as (table, expression).
        let mut checks: Vec<(String, String)> = Vec::new();
        for (s, table, op) in m.alterations() {
            let column_name = match op {
                AlterTableOperation::AddConstraint {
                    constraint: TableConstraint::Check(check),
                    ..
                } => {
                    checks.push((qualified(table), check.expr.to_string()));
                    continue;
                }
                AlterTableOperation::AlterColumn {
                    column_name,
                    op: AlterColumnOperation::SetNotNull,
                } => column_name,
                _ => continue,
            };
            let column = ident(column_name);
            let key = qualified(table);
            let earlier = checks
                .iter()
                .any(|(t, c)| *t == key && proves_not_null(c, &column));
            let in_model = ctx
                .model
                .table(&key)
                .is_some_and(|t| t.checks.iter().any(|c| proves_not_null(c, &column)));
            if earlier || in_model {
                continue;
            }
            let t = quote(&last_part(table));
            let c = quote(&column);
            let check = quote(&format!("{}_{}_not_null", last_part(table), column));
            found.push(
                rule.at(
                    &s.location,
                    format!(
                        "SET NOT NULL on `{}.{column}` scans the whole table under an ACCESS \
                         EXCLUSIVE lock",
                        last_part(table)
                    ),
                )
                .suggest(
                    "prove it first with a NOT VALID CHECK, validate it (weak lock), then SET \
                     NOT NULL uses the check and does not scan (PostgreSQL 12+)",
                )
                .fix(format!(
                    "ALTER TABLE {t} ADD CONSTRAINT {check} CHECK ({c} IS NOT NULL) NOT VALID;\n\
                     -- next migration:\n\
                     ALTER TABLE {t} VALIDATE CONSTRAINT {check};\n\
                     ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;\n\
                     ALTER TABLE {t} DROP CONSTRAINT {check};"
                )),
            );
        }
    }
    found
}

fn missing_not_valid(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for m in migrations(ctx) {
        for (s, table, op) in m.alterations() {
            let AlterTableOperation::AddConstraint {
                constraint,
                not_valid: false,
            } = op
            else {
                continue;
            };
            let what = match constraint {
                TableConstraint::ForeignKey(_) => "FOREIGN KEY",
                TableConstraint::Check(_) => "CHECK",
                _ => continue,
            };
            let text = s.text.trim_end_matches(';');
            found.push(
                rule.at(
                    &s.location,
                    format!(
                        "adding a {what} constraint to existing table `{}` without NOT VALID \
                         checks every row while blocking writes",
                        last_part(table)
                    ),
                )
                .suggest(
                    "add it NOT VALID (instant), then VALIDATE CONSTRAINT in a later migration \
                     (a lock that lets reads and writes through)",
                )
                .fix(format!("{text} NOT VALID;")),
            );
        }
    }
    found
}

fn validate_same_transaction(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for m in migrations(ctx).into_iter().filter(Migration::transactional) {
        let mut not_valid: HashSet<String> = HashSet::new();
        for (s, _, op) in m.alterations() {
            match op {
                AlterTableOperation::AddConstraint {
                    constraint,
                    not_valid: true,
                } => {
                    if let Some(name) = constraint_name(constraint) {
                        not_valid.insert(name);
                    }
                }
                AlterTableOperation::ValidateConstraint { name }
                    if not_valid.contains(&ident(name)) =>
                {
                    found.push(
                        rule.at(
                            &s.location,
                            format!(
                                "constraint `{}` is validated in the same transaction that added \
                                 it NOT VALID, so the strong lock is held during validation",
                                ident(name)
                            ),
                        )
                        .suggest("move the VALIDATE CONSTRAINT to a later migration"),
                    );
                }
                _ => {}
            }
        }
    }
    found
}

fn constraint_name(constraint: &TableConstraint) -> Option<String> {
    let name = match constraint {
        TableConstraint::ForeignKey(c) => c.name.as_ref(),
        TableConstraint::Check(c) => c.name.as_ref(),
        TableConstraint::Unique(c) => c.name.as_ref(),
        TableConstraint::PrimaryKey(c) => c.name.as_ref(),
        _ => None,
    };
    name.map(ident)
}

fn unique_constraint(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for m in migrations(ctx) {
        for (s, table, op) in m.alterations() {
            let AlterTableOperation::AddConstraint { constraint, .. } = op else {
                continue;
            };
            let columns: Vec<String> = match constraint {
                TableConstraint::Unique(u) => u
                    .columns
                    .iter()
                    .map(|c| c.column.expr.to_string())
                    .collect(),
                TableConstraint::Exclude(_) => Vec::new(),
                _ => continue,
            };
            let t = last_part(table);
            let name = constraint_name(constraint).unwrap_or_else(|| format!("{t}_key"));
            let v = rule.at(
                &s.location,
                format!(
                    "adding a UNIQUE/EXCLUDE constraint to existing table `{t}` builds its index \
                     while blocking reads and writes"
                ),
            );
            found.push(if columns.is_empty() {
                v.suggest(
                    "create the index CONCURRENTLY first, then add the constraint USING INDEX",
                )
            } else {
                let index = quote(&format!("{name}_idx"));
                v.suggest("create a unique index CONCURRENTLY, then attach it (instant)")
                    .fix(format!(
                        "CREATE UNIQUE INDEX CONCURRENTLY {index} ON {} ({});\n\
                         ALTER TABLE {} ADD CONSTRAINT {} UNIQUE USING INDEX {index};",
                        quote(&t),
                        columns.join(", "),
                        quote(&t),
                        quote(&name)
                    ))
            });
        }
    }
    found
}

fn primary_key(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for m in migrations(ctx) {
        for (s, table, op) in m.alterations() {
            let AlterTableOperation::AddConstraint {
                constraint: TableConstraint::PrimaryKey(pk),
                ..
            } = op
            else {
                continue;
            };
            let t = last_part(table);
            let columns: Vec<String> = pk
                .columns
                .iter()
                .map(|c| c.column.expr.to_string())
                .collect();
            let index = quote(&format!("{t}_pkey_idx"));
            found.push(
                rule.at(
                    &s.location,
                    format!(
                        "adding a primary key to existing table `{t}` builds its index under an \
                         ACCESS EXCLUSIVE lock"
                    ),
                )
                .suggest("build a unique index CONCURRENTLY, then add the key USING INDEX")
                .fix(format!(
                    "CREATE UNIQUE INDEX CONCURRENTLY {index} ON {} ({});\n\
                     ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY USING INDEX {index};",
                    quote(&t),
                    columns.join(", "),
                    quote(&t),
                    quote(&format!("{t}_pkey"))
                )),
            );
        }
    }
    found
}

fn column_type(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for m in migrations(ctx) {
        for (s, table, op) in m.alterations() {
            let AlterTableOperation::AlterColumn {
                column_name,
                op: AlterColumnOperation::SetDataType { data_type, .. },
            } = op
            else {
                continue;
            };
            let new_type = data_type.to_string().to_ascii_lowercase();
            if new_type == "text" {
                continue;
            }
            found.push(
                rule.at(
                    &s.location,
                    format!(
                        "changing the type of `{}.{}` to {new_type} rewrites the table and its \
                         indexes under an ACCESS EXCLUSIVE lock",
                        last_part(table),
                        ident(column_name)
                    ),
                )
                .suggest(
                    "add a new column of the new type, backfill it in batches, switch the \
                     application over, then drop the old column",
                ),
            );
        }
    }
    found
}

fn rename_column(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for m in migrations(ctx) {
        for (s, table, op) in m.alterations() {
            if let AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } = op
            {
                found.push(
                    rule.at(
                        &s.location,
                        format!(
                            "renaming `{}.{}` to `{}` breaks running code that uses the old name",
                            last_part(table),
                            ident(old_column_name),
                            ident(new_column_name)
                        ),
                    )
                    .suggest(
                        "add the new column, write to both, backfill, move readers, then drop the \
                         old one (or deploy code that handles both names first)",
                    ),
                );
            }
        }
    }
    found
}

fn rename_table(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for m in migrations(ctx) {
        for (s, table, op) in m.alterations() {
            if let AlterTableOperation::RenameTable { .. } = op {
                found.push(
                    rule.at(
                        &s.location,
                        format!(
                            "renaming table `{}` breaks running code that uses the old name",
                            last_part(table)
                        ),
                    )
                    .suggest(
                        "rename it and create a view with the old name for the transition, or \
                         deploy code that uses the new name first",
                    ),
                );
            }
        }
    }
    found
}

fn drop_column(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for m in migrations(ctx) {
        for (s, table, op) in m.alterations() {
            if let AlterTableOperation::DropColumn { column_names, .. } = op {
                let names: Vec<String> = column_names.iter().map(ident).collect();
                found.push(
                    rule.at(
                        &s.location,
                        format!(
                            "dropping column(s) {} of `{}` destroys data and breaks code still \
                             reading them",
                            names.join(", "),
                            last_part(table)
                        ),
                    )
                    .suggest(
                        "first deploy code that no longer uses the column, then drop it; \
                         suppress this finding once that is done",
                    ),
                );
            }
        }
    }
    found
}

fn drop_table(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for m in migrations(ctx) {
        for (s, ast) in m.statements() {
            let Ast::Drop {
                object_type, names, ..
            } = ast
            else {
                continue;
            };
            let what = match object_type {
                ObjectType::Table => "table",
                ObjectType::Database => "database",
                ObjectType::Schema => "schema",
                _ => continue,
            };
            let dropped: Vec<String> = names
                .iter()
                .filter(|n| *object_type != ObjectType::Table || m.existing(n))
                .map(last_part)
                .collect();
            if dropped.is_empty() {
                continue;
            }
            found.push(
                rule.at(
                    &s.location,
                    format!(
                        "dropping {what} {} destroys its data and breaks code still using it",
                        dropped.join(", ")
                    ),
                )
                .suggest(
                    "make sure nothing uses it any more and a backup exists; suppress this \
                     finding on the statement once reviewed",
                ),
            );
        }
    }
    found
}

fn truncate(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for m in migrations(ctx) {
        for s in m
            .file
            .statements
            .iter()
            .filter(|s| s.kind == StatementKind::Truncate)
        {
            let cascade = has_keyword(&s.text, "cascade");
            found.push(
                rule.at(
                    &s.location,
                    if cascade {
                        "TRUNCATE ... CASCADE deletes every row of the table and of every table \
                         referencing it"
                    } else {
                        "TRUNCATE deletes every row under an ACCESS EXCLUSIVE lock"
                    },
                )
                .suggest(
                    "delete in batches with DELETE ... WHERE, or make sure the data is disposable",
                ),
            );
        }
    }
    found
}

fn transaction_nesting(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for m in migrations(ctx).into_iter().filter(Migration::transactional) {
        for s in m
            .file
            .statements
            .iter()
            .filter(|s| s.kind == StatementKind::Transaction)
        {
            found.push(
                rule.at(
                    &s.location,
                    "transaction control inside a migration that already runs in a transaction",
                )
                .suggest(
                    "remove BEGIN/COMMIT (Confiture wraps the migration), or make the file \
                     `-- confiture: no-transaction` if it must manage transactions itself",
                ),
            );
        }
    }
    found
}

/// True for statements that take an ACCESS EXCLUSIVE or SHARE lock on an existing table.
fn takes_strong_lock(m: &Migration<'_>, s: &Statement, ast: &Ast) -> bool {
    match ast {
        Ast::AlterTable(alter) => m.existing(&alter.name),
        Ast::CreateIndex(index) => !index.concurrently && m.existing(&index.table_name),
        Ast::Drop { .. } | Ast::Truncate(_) => true,
        _ => is_drop_index(s) && !has_keyword(&s.text, "concurrently"),
    }
}

fn lock_timeout(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    if ctx.options.runner_sets_lock_timeout {
        return Vec::new();
    }
    let mut found = Vec::new();
    for m in migrations(ctx) {
        for (s, ast) in m.statements() {
            if s.kind == StatementKind::Set && has_keyword(&s.text, "lock_timeout") {
                break;
            }
            if takes_strong_lock(&m, s, ast) {
                found.push(
                    rule.at(
                        &s.location,
                        "this migration takes a strong lock without a lock_timeout: queued \
                         behind a long query, it blocks every query on the table",
                    )
                    .suggest(
                        "set `lock_timeout` in the environment file (Confiture applies it to \
                         every migration), or start the migration with SET lock_timeout",
                    )
                    .fix("SET lock_timeout = '5s';"),
                );
                break;
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::lint::rule::RuleOptions;

    const USERS: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text, n int);";

    fn m(id: &str, sql: &str) -> Vec<Violation> {
        migration(id, USERS, sql)
    }

    #[test]
    fn index_without_concurrently_on_an_existing_table() {
        let found = m(
            "require-concurrent-index",
            "CREATE INDEX users_email ON users (email);",
        );
        assert_count(&found, 1);
        assert_eq!(
            found[0].fix.as_deref(),
            Some("CREATE INDEX CONCURRENTLY users_email ON users (email);")
        );
        // Near misses: concurrently, or a table created in the same migration.
        assert_count(
            &m(
                "require-concurrent-index",
                "-- confiture: no-transaction\nCREATE INDEX CONCURRENTLY users_email ON users (email);",
            ),
            0,
        );
        assert_count(
            &m(
                "require-concurrent-index",
                "CREATE TABLE t (id bigint PRIMARY KEY, a int);\nCREATE INDEX t_a ON t (a);",
            ),
            0,
        );
        // Schema files are not migrations.
        assert_count(
            &schema(
                "require-concurrent-index",
                &format!("{USERS}\nCREATE INDEX e ON users (email);"),
            ),
            0,
        );
    }

    #[test]
    fn concurrently_inside_a_transactional_migration() {
        let sql = "CREATE INDEX CONCURRENTLY users_email ON users (email);";
        // Alone, it runs outside a transaction by itself.
        assert_count(&m("concurrent-index-in-transaction", sql), 0);
        let mixed = format!("ALTER TABLE users ADD COLUMN n int;\n{sql}");
        assert_count(&m("concurrent-index-in-transaction", &mixed), 1);
        assert_count(
            &m(
                "concurrent-index-in-transaction",
                &format!("-- confiture: no-transaction\n{sql}"),
            ),
            0,
        );
    }

    #[test]
    fn drop_index_needs_concurrently() {
        let with_index = format!("{USERS}\nCREATE INDEX users_email ON users (email);");
        let found = migration(
            "require-concurrent-index-drop",
            &with_index,
            "DROP INDEX users_email;",
        );
        assert_count(&found, 1);
        let found = migration(
            "require-concurrent-index-drop",
            &with_index,
            "-- confiture: no-transaction\nDROP INDEX CONCURRENTLY users_email;",
        );
        assert_count(&found, 0);
    }

    #[test]
    fn not_null_column_without_default() {
        assert_count(
            &m(
                "adding-required-column",
                "ALTER TABLE users ADD COLUMN age int NOT NULL;",
            ),
            1,
        );
        assert_count(
            &m(
                "adding-required-column",
                "ALTER TABLE users ADD COLUMN age int NOT NULL DEFAULT 0;",
            ),
            0,
        );
    }

    #[test]
    fn volatile_defaults_and_serial() {
        let found = m(
            "volatile-default",
            "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();\n\
             ALTER TABLE users ADD COLUMN seq bigserial;",
        );
        assert_count(&found, 2);
        assert!(found[0].message.contains("gen_random_uuid()"));
        assert_count(
            &m(
                "volatile-default",
                "ALTER TABLE users ADD COLUMN created_at timestamptz DEFAULT now();\n\
                 ALTER TABLE users ADD COLUMN kind text DEFAULT 'a';",
            ),
            0,
        );
    }

    #[test]
    fn generated_columns_rewrite() {
        assert_count(
            &m(
                "adding-generated-column",
                "ALTER TABLE users ADD COLUMN n2 int GENERATED ALWAYS AS (n * 2) STORED;",
            ),
            1,
        );
        assert_count(
            &m(
                "adding-generated-column",
                "ALTER TABLE users ADD COLUMN n2 int;",
            ),
            0,
        );
    }

    #[test]
    fn set_not_null_unless_a_check_proves_it() {
        let found = m(
            "set-not-null",
            "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
        );
        assert_count(&found, 1);
        assert!(found[0].fix.as_deref().unwrap().contains("NOT VALID"));
        let found = migration(
            "set-not-null",
            &format!("{USERS}\nALTER TABLE users ADD CONSTRAINT e_nn CHECK (email IS NOT NULL);"),
            "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
        );
        assert_count(&found, 0);
    }

    #[test]
    fn constraints_need_not_valid() {
        let found = m(
            "constraint-missing-not-valid",
            "ALTER TABLE users ADD CONSTRAINT n_pos CHECK (n > 0);",
        );
        assert_count(&found, 1);
        assert_eq!(
            found[0].fix.as_deref(),
            Some("ALTER TABLE users ADD CONSTRAINT n_pos CHECK (n > 0) NOT VALID;")
        );
        assert_count(
            &m(
                "constraint-missing-not-valid",
                "ALTER TABLE users ADD CONSTRAINT n_pos CHECK (n > 0) NOT VALID;",
            ),
            0,
        );
    }

    #[test]
    fn validate_in_the_same_transaction() {
        let add = "ALTER TABLE users ADD CONSTRAINT n_pos CHECK (n > 0) NOT VALID;";
        let validate = "ALTER TABLE users VALIDATE CONSTRAINT n_pos;";
        assert_count(
            &m(
                "validate-in-same-transaction",
                &format!("{add}\n{validate}"),
            ),
            1,
        );
        assert_count(&m("validate-in-same-transaction", validate), 0);
    }

    #[test]
    fn unique_and_primary_key_constraints() {
        let found = m(
            "adding-unique-constraint",
            "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);",
        );
        assert_count(&found, 1);
        assert!(
            found[0]
                .fix
                .as_deref()
                .unwrap()
                .contains("UNIQUE USING INDEX")
        );
        assert_count(
            &m(
                "adding-unique-constraint",
                "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_idx;",
            ),
            0,
        );
        let schema = "CREATE TABLE t (id bigint NOT NULL);";
        assert_count(
            &migration(
                "adding-primary-key",
                schema,
                "ALTER TABLE t ADD PRIMARY KEY (id);",
            ),
            1,
        );
        assert_count(
            &migration(
                "adding-primary-key",
                schema,
                "CREATE TABLE t2 (id bigint NOT NULL);\nALTER TABLE t2 ADD PRIMARY KEY (id);",
            ),
            0,
        );
    }

    #[test]
    fn type_changes_renames_and_drops() {
        assert_count(
            &m(
                "changing-column-type",
                "ALTER TABLE users ALTER COLUMN n TYPE bigint;",
            ),
            1,
        );
        assert_count(
            &m(
                "changing-column-type",
                "ALTER TABLE users ALTER COLUMN email TYPE text;",
            ),
            0,
        );
        assert_count(
            &m(
                "renaming-column",
                "ALTER TABLE users RENAME COLUMN n TO count;",
            ),
            1,
        );
        assert_count(
            &m("renaming-column", "ALTER TABLE users ADD COLUMN c int;"),
            0,
        );
        assert_count(
            &m("renaming-table", "ALTER TABLE users RENAME TO people;"),
            1,
        );
        assert_count(
            &m("renaming-table", "ALTER TABLE users ADD COLUMN c int;"),
            0,
        );
        assert_count(&m("drop-column", "ALTER TABLE users DROP COLUMN n;"), 1);
        assert_count(&m("drop-column", "ALTER TABLE users ADD COLUMN c int;"), 0);
        assert_count(&m("drop-table", "DROP TABLE users;"), 1);
        assert_count(
            &m(
                "drop-table",
                "CREATE TABLE tmp (id bigint);\nDROP TABLE tmp;",
            ),
            0,
        );
    }

    #[test]
    fn truncate_and_transaction_nesting() {
        assert_count(&m("truncate", "TRUNCATE users CASCADE;"), 1);
        assert_count(&m("truncate", "DELETE FROM users WHERE n < 0;"), 0);
        assert_count(
            &m(
                "transaction-nesting",
                "BEGIN;\nALTER TABLE users ADD COLUMN c int;\nCOMMIT;",
            ),
            2,
        );
        assert_count(
            &m("transaction-nesting", "ALTER TABLE users ADD COLUMN c int;"),
            0,
        );
    }

    #[test]
    fn lock_timeout_only_when_the_runner_does_not_set_one() {
        let sql = "ALTER TABLE users ADD COLUMN c int;";
        let off = RuleOptions {
            runner_sets_lock_timeout: false,
            ..RuleOptions::default()
        };
        assert_count(&run_with("require-lock-timeout", &[USERS], &[sql], &off), 1);
        assert_count(
            &run_with(
                "require-lock-timeout",
                &[USERS],
                &[&format!("SET lock_timeout = '2s';\n{sql}")],
                &off,
            ),
            0,
        );
        assert_count(&m("require-lock-timeout", sql), 0);
    }

    #[test]
    fn keyword_and_replacement_helpers() {
        assert!(has_keyword("drop index concurrently x", "CONCURRENTLY"));
        assert!(!has_keyword("drop index \"concurrently\"", "concurrently"));
        assert_eq!(
            replace_first_keyword(
                "create unique index i on t (a)",
                "index",
                "INDEX CONCURRENTLY"
            ),
            "create unique INDEX CONCURRENTLY i on t (a)"
        );
    }
}
