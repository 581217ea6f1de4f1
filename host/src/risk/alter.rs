//! `ALTER TABLE`, operation by operation.

use sqlparser::ast::{
    AlterColumnOperation, AlterTable, AlterTableOperation, ColumnDef, TableConstraint,
};

use super::{Level, Reason, lock, table_name};
use crate::sql::SchemaModel;
use crate::sql::inspect::{default_of, is_generated, is_not_null, is_serial, volatile_call};
use crate::sql::names::{ident, qualified};
use crate::sql::types::normalise;

pub(super) fn reasons(alter: &AlterTable, model: Option<&SchemaModel>) -> Vec<Reason> {
    let table = qualified(&alter.name);
    alter
        .operations
        .iter()
        .filter_map(|op| operation(&table, op, model))
        .map(|reason| reason.on(table_name(&alter.name)))
        .collect()
}

fn operation(table: &str, op: &AlterTableOperation, model: Option<&SchemaModel>) -> Option<Reason> {
    let exclusive =
        |level, message: String| Reason::new(level, message).lock(lock::ACCESS_EXCLUSIVE);
    Some(match op {
        AlterTableOperation::AddColumn { column_def, .. } => add_column(column_def),
        AlterTableOperation::DropColumn { column_names, .. } => {
            let names: Vec<String> = column_names.iter().map(ident).collect();
            exclusive(
                Level::Critical,
                format!(
                    "DROP COLUMN {} destroys its data and breaks code still reading it",
                    names.join(", ")
                ),
            )
            .destructive()
        }
        AlterTableOperation::AlterColumn {
            column_name,
            op: AlterColumnOperation::SetDataType { data_type, .. },
        } => {
            let column = ident(column_name);
            let new = normalise(data_type).name;
            let old = model
                .and_then(|m| m.table(table))
                .and_then(|t| t.column(&column))
                .map(|c| c.type_name.clone());
            match old {
                Some(old) if binary_coercible(&old, &new) => exclusive(
                    Level::High,
                    format!(
                        "ALTER COLUMN {column} TYPE {new} (from {old}) needs no rewrite but takes \
                         an ACCESS EXCLUSIVE lock and breaks code expecting the old type"
                    ),
                ),
                _ => exclusive(
                    Level::Critical,
                    format!(
                        "ALTER COLUMN {column} TYPE {new} rewrites the table and its indexes \
                         under an ACCESS EXCLUSIVE lock"
                    ),
                )
                .rewrites(),
            }
        }
        AlterTableOperation::AlterColumn {
            column_name,
            op: AlterColumnOperation::SetNotNull,
        } => exclusive(
            Level::High,
            format!(
                "SET NOT NULL on {} scans the whole table under an ACCESS EXCLUSIVE lock",
                ident(column_name)
            ),
        )
        .scans(),
        AlterTableOperation::AddConstraint {
            constraint,
            not_valid,
        } => {
            let what = match constraint {
                TableConstraint::ForeignKey(_) => "FOREIGN KEY",
                TableConstraint::Check(_) => "CHECK",
                TableConstraint::Unique(_) | TableConstraint::PrimaryKey(_) => {
                    return Some(exclusive(
                        Level::High,
                        "ADD CONSTRAINT UNIQUE/PRIMARY KEY builds its index while blocking reads \
                         and writes"
                            .into(),
                    )
                    .scans());
                }
                _ => return None,
            };
            let lock = if what == "CHECK" {
                lock::ACCESS_EXCLUSIVE
            } else {
                lock::SHARE_ROW_EXCLUSIVE
            };
            if *not_valid {
                Reason::new(
                    Level::Low,
                    format!("ADD CONSTRAINT {what} NOT VALID is instant: no rows are checked"),
                )
                .lock(lock)
            } else {
                Reason::new(
                    Level::High,
                    format!(
                        "ADD CONSTRAINT {what} without NOT VALID checks every row while \
                         blocking writes"
                    ),
                )
                .lock(lock)
                .scans()
            }
        }
        AlterTableOperation::ValidateConstraint { name } => Reason::new(
            Level::Low,
            format!(
                "VALIDATE CONSTRAINT {} scans the table but lets reads and writes through",
                ident(name)
            ),
        )
        .lock(lock::SHARE_UPDATE_EXCLUSIVE)
        .scans(),
        AlterTableOperation::RenameTable { .. } => exclusive(
            Level::High,
            "RENAME table breaks running code that uses the old name".into(),
        ),
        AlterTableOperation::RenameColumn {
            old_column_name, ..
        } => exclusive(
            Level::High,
            format!(
                "RENAME COLUMN {} breaks running code that uses the old name",
                ident(old_column_name)
            ),
        ),
        _ => return None,
    })
}

fn add_column(column: &ColumnDef) -> Reason {
    let name = ident(&column.name);
    let exclusive =
        |level, message: String| Reason::new(level, message).lock(lock::ACCESS_EXCLUSIVE);
    let volatile = default_of(column)
        .and_then(volatile_call)
        .or_else(|| is_serial(column).then_some("nextval"));
    if let Some(f) = volatile {
        return exclusive(
            Level::Critical,
            format!(
                "ADD COLUMN {name} with a volatile default ({f}()) rewrites the whole table under \
                 an ACCESS EXCLUSIVE lock"
            ),
        )
        .rewrites();
    }
    if is_generated(column) {
        return exclusive(
            Level::Critical,
            format!("ADD COLUMN {name} (generated) rewrites the whole table under an ACCESS EXCLUSIVE lock"),
        )
        .rewrites();
    }
    if is_not_null(column) && default_of(column).is_none() {
        return exclusive(
            Level::Critical,
            format!("ADD COLUMN {name} NOT NULL without a DEFAULT fails on a table that has rows"),
        );
    }
    exclusive(
        Level::Low,
        format!(
            "ADD COLUMN {name} takes an ACCESS EXCLUSIVE lock briefly; no rewrite since \
             PostgreSQL 11"
        ),
    )
}

/// True when changing a column from `old` to `new` (canonical spellings) needs no rewrite:
/// `varchar(n)` to a longer `varchar(m)` or unbounded `varchar`/`text`, and `varchar`/`text`
/// to `text`.
fn binary_coercible(old: &str, new: &str) -> bool {
    const VARCHAR: &str = "character varying";
    let length = |t: &str| -> Option<Option<u32>> {
        let rest = t.strip_prefix(VARCHAR)?;
        if rest.is_empty() {
            return Some(None);
        }
        rest.strip_prefix('(')?
            .strip_suffix(')')?
            .parse()
            .ok()
            .map(Some)
    };
    let old_len = length(old);
    let old_is_string = old_len.is_some() || old == "text";
    if new == "text" {
        return old_is_string;
    }
    match (old_len, length(new)) {
        (Some(_), Some(None)) => true,
        (Some(Some(n)), Some(Some(m))) => m >= n,
        _ => false,
    }
}

#[cfg(test)]
pub(super) fn coercible_for_tests(old: &str, new: &str) -> bool {
    binary_coercible(old, new)
}
