//! `ALTER TABLE`, operation by operation.

use sqlparser::ast::{
    AlterColumnOperation, AlterTable, AlterTableOperation, ColumnDef, ColumnOption,
    GeneratedExpressionMode, TableConstraint,
};

use super::walk::Walk;
use super::{Effect, Level, Reason, lock, table_name};
use crate::sql::CheckConstraint;
use crate::sql::inspect::{
    default_of, has_keyword, is_generated, is_not_null, is_serial, not_null_columns, options,
    volatile_call,
};
use crate::sql::names::{ident, qualified};
use crate::sql::types::{binary_coercible, normalise};

pub(super) fn reasons(alter: &AlterTable, walk: &mut Walk<'_>) -> Vec<Reason> {
    let table = qualified(&alter.name);
    let shown = table_name(&alter.name);
    if !walk.existing(&table) {
        for op in &alter.operations {
            remember(&table, op, walk);
        }
        return vec![
            Reason::new(
                Level::Low,
                "ALTER TABLE of a table created in this migration (empty)",
            )
            .on(shown),
        ];
    }
    alter
        .operations
        .iter()
        .flat_map(|op| operation(&table, op, walk))
        .map(|reason| reason.on(shown.clone()))
        .collect()
}

/// Records what an operation adds for the statements after it (constraints, validations).
fn remember(table: &str, op: &AlterTableOperation, walk: &mut Walk<'_>) {
    match op {
        AlterTableOperation::AddConstraint {
            constraint,
            not_valid,
        } => {
            let check = match constraint {
                TableConstraint::Check(check) => Some(CheckConstraint {
                    name: check.name.as_ref().map(ident).unwrap_or_default(),
                    expr: check.expr.to_string(),
                    not_null_columns: not_null_columns(&check.expr),
                    validated: !not_valid,
                }),
                _ => None,
            };
            walk.add_constraint(table, constraint_name(constraint), *not_valid, check);
        }
        AlterTableOperation::ValidateConstraint { name } => {
            walk.validate(table, &ident(name));
        }
        _ => {}
    }
}

fn operation(table: &str, op: &AlterTableOperation, walk: &mut Walk<'_>) -> Vec<Reason> {
    let exclusive = |effect, level, message: String| {
        Reason::of(effect, level, message).lock(lock::ACCESS_EXCLUSIVE)
    };
    let one = match op {
        AlterTableOperation::AddColumn { column_def, .. } => return add_column(column_def, walk),
        AlterTableOperation::AlterColumn { column_name, op } => {
            return alter_column(table, &ident(column_name), op, walk)
                .into_iter()
                .collect();
        }
        AlterTableOperation::AddConstraint {
            constraint,
            not_valid,
        } => {
            remember(table, op, walk);
            return add_constraint(constraint, *not_valid).into_iter().collect();
        }
        AlterTableOperation::DropColumn { column_names, .. } => {
            let names: Vec<String> = column_names.iter().map(ident).collect();
            exclusive(
                Effect::DropColumn,
                Level::Critical,
                format!(
                    "DROP COLUMN {} destroys its data and breaks code still reading it",
                    names.join(", ")
                ),
            )
            .destructive()
        }
        AlterTableOperation::ValidateConstraint { name } => {
            let name = ident(name);
            if walk.validate(table, &name) {
                exclusive(
                    Effect::ValidationHoldsStrongLock,
                    Level::High,
                    format!(
                        "VALIDATE CONSTRAINT {name} in the transaction that added it NOT VALID \
                         keeps the add's strong lock for the whole validation"
                    ),
                )
                .scans()
            } else {
                Reason::new(
                    Level::Low,
                    format!(
                        "VALIDATE CONSTRAINT {name} scans the table but lets reads and writes \
                         through"
                    ),
                )
                .lock(lock::SHARE_UPDATE_EXCLUSIVE)
                .scans()
            }
        }
        AlterTableOperation::DropConstraint { name, .. } => exclusive(
            Effect::DropDependency,
            Level::High,
            format!(
                "DROP CONSTRAINT {} removes a guarantee that code and data may rely on",
                ident(name)
            ),
        ),
        AlterTableOperation::RenameTable { .. } => exclusive(
            Effect::RenameTable,
            Level::High,
            "RENAME table breaks running code that uses the old name".into(),
        ),
        AlterTableOperation::RenameColumn {
            old_column_name, ..
        } => exclusive(
            Effect::RenameColumn,
            Level::High,
            format!(
                "RENAME COLUMN {} breaks running code that uses the old name",
                ident(old_column_name)
            ),
        ),
        _ => return Vec::new(),
    };
    vec![one]
}

fn alter_column(
    table: &str,
    column: &str,
    op: &AlterColumnOperation,
    walk: &Walk<'_>,
) -> Option<Reason> {
    let exclusive = |effect, level, message: String| {
        Reason::of(effect, level, message).lock(lock::ACCESS_EXCLUSIVE)
    };
    Some(match op {
        AlterColumnOperation::SetDataType {
            data_type, using, ..
        } => {
            let new = normalise(data_type).name;
            let old = walk
                .table_before(table)
                .and_then(|t| t.column(column))
                .map(|c| c.type_name.clone());
            match old {
                Some(old) if using.is_none() && binary_coercible(&old, &new) => exclusive(
                    Effect::TypeChangeBreaksReaders,
                    Level::High,
                    format!(
                        "ALTER COLUMN {column} TYPE {new} (from {old}) needs no rewrite but takes \
                         an ACCESS EXCLUSIVE lock and breaks code expecting the old type"
                    ),
                ),
                old => exclusive(
                    Effect::TypeChangeRewritesTable,
                    Level::Critical,
                    format!(
                        "ALTER COLUMN {column} TYPE {new}{} rewrites the table and its indexes \
                         under an ACCESS EXCLUSIVE lock",
                        match old {
                            Some(old) => format!(" (from {old})"),
                            None => " (old type unknown)".to_string(),
                        }
                    ),
                )
                .rewrites(),
            }
        }
        AlterColumnOperation::SetNotNull if walk.proves_not_null(table, column) => Reason::new(
            Level::Low,
            format!("SET NOT NULL on {column} uses a validated CHECK: no scan"),
        )
        .lock(lock::ACCESS_EXCLUSIVE),
        AlterColumnOperation::SetNotNull => exclusive(
            Effect::NotNullScan,
            Level::High,
            format!(
                "SET NOT NULL on {column} scans the whole table under an ACCESS EXCLUSIVE lock"
            ),
        )
        .scans(),
        AlterColumnOperation::DropNotNull => exclusive(
            Effect::DropNotNull,
            Level::High,
            format!("DROP NOT NULL on {column} breaks code that expects it never to be NULL"),
        ),
        AlterColumnOperation::DropDefault => exclusive(
            Effect::DropDependency,
            Level::High,
            format!("DROP DEFAULT on {column} breaks inserts that rely on the default"),
        ),
        _ => return None,
    })
}

/// `ADD CONSTRAINT`: what it locks and checks.
fn add_constraint(constraint: &TableConstraint, not_valid: bool) -> Option<Reason> {
    let using_index = |text: String| has_keyword(&text, "using") && has_keyword(&text, "index");
    let (what, lock) = match constraint {
        TableConstraint::ForeignKey(_) => ("FOREIGN KEY", lock::SHARE_ROW_EXCLUSIVE),
        TableConstraint::Check(_) => ("CHECK", lock::ACCESS_EXCLUSIVE),
        TableConstraint::Unique(_) | TableConstraint::PrimaryKey(_)
            if using_index(constraint.to_string()) =>
        {
            return Some(
                Reason::new(
                    Level::Low,
                    "ADD CONSTRAINT ... USING INDEX attaches an index built beforehand: instant",
                )
                .lock(lock::ACCESS_EXCLUSIVE),
            );
        }
        TableConstraint::PrimaryKey(_) => {
            return Some(
                Reason::of(
                    Effect::PrimaryKeyIndexBuild,
                    Level::High,
                    "ADD PRIMARY KEY builds its index (and checks for NULLs) while blocking reads \
                     and writes",
                )
                .lock(lock::ACCESS_EXCLUSIVE)
                .scans(),
            );
        }
        TableConstraint::Unique(_) | TableConstraint::Exclude(_) => {
            return Some(
                Reason::of(
                    Effect::UniqueIndexBuild,
                    Level::High,
                    "ADD CONSTRAINT UNIQUE/EXCLUDE builds its index while blocking reads and \
                     writes",
                )
                .lock(lock::ACCESS_EXCLUSIVE)
                .scans(),
            );
        }
        _ => return None,
    };
    Some(if not_valid {
        Reason::new(
            Level::Low,
            format!("ADD CONSTRAINT {what} NOT VALID is instant: no rows are checked"),
        )
        .lock(lock)
    } else {
        Reason::of(
            Effect::ConstraintValidation,
            Level::High,
            format!(
                "ADD CONSTRAINT {what} without NOT VALID checks every row while blocking writes"
            ),
        )
        .lock(lock)
        .scans()
    })
}

fn add_column(column: &ColumnDef, walk: &Walk<'_>) -> Vec<Reason> {
    let name = ident(&column.name);
    let exclusive = |effect, level, message: String| {
        Reason::of(effect, level, message).lock(lock::ACCESS_EXCLUSIVE)
    };
    let mut found = Vec::new();
    // PostgreSQL 18 computes a generated column on read unless it says STORED.
    let virtual_generated = options(column).any(|o| match o {
        ColumnOption::Generated {
            generation_expr: Some(_),
            generation_expr_mode,
            ..
        } => match generation_expr_mode {
            Some(GeneratedExpressionMode::Virtual) => true,
            Some(GeneratedExpressionMode::Stored) => false,
            None => walk.settings.postgres_version >= 18,
        },
        _ => false,
    });
    let volatile = default_of(column)
        .and_then(volatile_call)
        .or_else(|| is_serial(column).then(|| "nextval".to_string()));
    let constant_default = default_of(column).is_some_and(|d| d.to_string() != "NULL");
    if let Some(f) = volatile {
        found.push(
            exclusive(
                Effect::DefaultRewritesTable,
                Level::Critical,
                format!(
                    "ADD COLUMN {name} with a volatile default ({f}()) rewrites the whole table \
                     under an ACCESS EXCLUSIVE lock"
                ),
            )
            .rewrites(),
        );
    } else if constant_default && walk.settings.postgres_version < 11 {
        found.push(
            exclusive(
                Effect::DefaultRewritesTable,
                Level::Critical,
                format!(
                    "ADD COLUMN {name} with a default rewrites the whole table before PostgreSQL \
                     11 (version assumed: {})",
                    walk.settings.postgres_version
                ),
            )
            .rewrites(),
        );
    }
    if is_generated(column) && !virtual_generated {
        found.push(
            exclusive(
                Effect::GeneratedColumnRewritesTable,
                Level::Critical,
                format!(
                    "ADD COLUMN {name} (stored generated or identity) rewrites the whole table \
                     under an ACCESS EXCLUSIVE lock"
                ),
            )
            .rewrites(),
        );
    }
    if is_not_null(column)
        && default_of(column).is_none()
        && !is_generated(column)
        && !is_serial(column)
    {
        found.push(exclusive(
            Effect::RequiredColumnFails,
            Level::Critical,
            format!("ADD COLUMN {name} NOT NULL without a DEFAULT fails on a table that has rows"),
        ));
    }
    for option in options(column) {
        found.extend(match option {
            ColumnOption::PrimaryKey(_) => Some(
                exclusive(
                    Effect::PrimaryKeyIndexBuild,
                    Level::High,
                    format!(
                        "ADD COLUMN {name} ... PRIMARY KEY builds the key's index while blocking \
                         reads and writes"
                    ),
                )
                .scans(),
            ),
            ColumnOption::Unique(_) => Some(
                exclusive(
                    Effect::UniqueIndexBuild,
                    Level::High,
                    format!(
                        "ADD COLUMN {name} ... UNIQUE builds its index while blocking reads and \
                         writes"
                    ),
                )
                .scans(),
            ),
            ColumnOption::ForeignKey(_) => Some(
                Reason::of(
                    Effect::ConstraintValidation,
                    Level::High,
                    format!(
                        "ADD COLUMN {name} ... REFERENCES locks the referenced table against \
                         writes (SHARE ROW EXCLUSIVE) while it is added"
                    ),
                )
                .lock(lock::SHARE_ROW_EXCLUSIVE),
            ),
            ColumnOption::Check(_) => Some(
                exclusive(
                    Effect::ConstraintValidation,
                    Level::High,
                    format!("ADD COLUMN {name} ... CHECK checks every row while blocking writes"),
                )
                .scans(),
            ),
            _ => None,
        });
    }
    if found.is_empty() {
        found.push(exclusive(
            Effect::None,
            Level::Low,
            format!(
                "ADD COLUMN {name} takes an ACCESS EXCLUSIVE lock briefly; no rewrite since \
                 PostgreSQL 11"
            ),
        ));
    }
    found
}

/// The name a constraint is given in the SQL, if any.
pub(crate) fn constraint_name(constraint: &TableConstraint) -> Option<String> {
    let name = match constraint {
        TableConstraint::ForeignKey(c) => c.name.as_ref(),
        TableConstraint::Check(c) => c.name.as_ref(),
        TableConstraint::Unique(c) => c.name.as_ref(),
        TableConstraint::PrimaryKey(c) => c.name.as_ref(),
        _ => None,
    };
    name.map(ident)
}
