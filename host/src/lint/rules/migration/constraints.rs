//! Constraints and keys added to an existing table: the scans and index builds they hold a
//! lock for, and the NOT VALID / USING INDEX forms that avoid them.

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, Statement as Ast, TableConstraint,
};

use super::super::{last_part, quote};
use super::{Advice, Advise, Safety, advice};
use crate::lint::rule::Severity;
use crate::risk::{Effect, Reason};
use crate::sql::Statement;
use crate::sql::names::ident;

pub(super) const SAFETY: &[Safety] = &[
    Safety {
        id: "set-not-null",
        check: None,
        effects: &[(Effect::NotNullScan, Severity::Warning)],
        description: "ALTER COLUMN ... SET NOT NULL scans the whole table under an ACCESS \
                      EXCLUSIVE lock, unless a validated CHECK (col IS NOT NULL) already \
                      proves it (PostgreSQL 12+).",
        advise: Advise::Builds(set_not_null),
    },
    Safety {
        id: "constraint-missing-not-valid",
        check: None,
        effects: &[(Effect::ConstraintValidation, Severity::Critical)],
        description: "ADD CONSTRAINT ... FOREIGN KEY/CHECK without NOT VALID checks every row \
                      while holding a lock that blocks writes (and, for a foreign key, writes \
                      to the referenced table too); so does an inline REFERENCES or CHECK on \
                      an added column.",
        advise: Advise::Builds(missing_not_valid),
    },
    Safety {
        id: "validate-in-same-transaction",
        check: None,
        effects: &[(Effect::ValidationHoldsStrongLock, Severity::Warning)],
        description: "VALIDATE CONSTRAINT in the same transaction as the ADD ... NOT VALID \
                      keeps the strong lock of the ADD for the whole validation, which defeats \
                      NOT VALID.",
        advise: Advise::Says("move the VALIDATE CONSTRAINT to a later migration (or transaction)"),
    },
    Safety {
        id: "adding-unique-constraint",
        check: None,
        effects: &[(Effect::UniqueIndexBuild, Severity::Critical)],
        description: "ADD CONSTRAINT ... UNIQUE/EXCLUDE (or ADD COLUMN ... UNIQUE) builds its \
                      index while blocking reads and writes; build the index CONCURRENTLY \
                      first and attach it with USING INDEX.",
        advise: Advise::Builds(|s, _| key_fix(s, "UNIQUE")),
    },
    Safety {
        id: "adding-primary-key",
        check: None,
        effects: &[(Effect::PrimaryKeyIndexBuild, Severity::Critical)],
        description: "ADD PRIMARY KEY (or ADD COLUMN ... PRIMARY KEY) on an existing table \
                      builds its index (and may scan for NULLs) under an ACCESS EXCLUSIVE \
                      lock; build a unique index CONCURRENTLY and attach it with USING INDEX.",
        advise: Advise::Builds(|s, _| key_fix(s, "PRIMARY KEY")),
    },
];

/// The `ALTER TABLE` of a statement: its table's last name part and its operations.
fn alter_of(s: &Statement) -> Option<(String, &[AlterTableOperation])> {
    match s.ast.as_deref() {
        Some(Ast::AlterTable(alter)) => Some((last_part(&alter.name), &alter.operations)),
        _ => None,
    }
}

fn set_not_null(s: &Statement, _: &Reason) -> Advice {
    let advice = advice(
        "prove it first with a NOT VALID CHECK, validate it (weak lock), then SET NOT NULL uses \
         the check and does not scan (PostgreSQL 12+)",
    );
    let Some((table, ops)) = alter_of(s) else {
        return advice;
    };
    let Some(column) = ops.iter().find_map(|op| match op {
        AlterTableOperation::AlterColumn {
            column_name,
            op: AlterColumnOperation::SetNotNull,
        } => Some(ident(column_name)),
        _ => None,
    }) else {
        return advice;
    };
    let t = quote(&table);
    let c = quote(&column);
    let check = quote(&format!("{table}_{column}_not_null"));
    advice.fix(format!(
        "ALTER TABLE {t} ADD CONSTRAINT {check} CHECK ({c} IS NOT NULL) NOT VALID;\n\
         -- next migration:\n\
         ALTER TABLE {t} VALIDATE CONSTRAINT {check};\n\
         ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;\n\
         ALTER TABLE {t} DROP CONSTRAINT {check};"
    ))
}

fn missing_not_valid(s: &Statement, _: &Reason) -> Advice {
    let advice = advice(
        "add it NOT VALID (instant), then VALIDATE CONSTRAINT in a later migration (a lock that \
         lets reads and writes through); for a new column, add the column first, then the \
         constraint NOT VALID",
    );
    let single_add = alter_of(s).is_some_and(|(_, ops)| {
        matches!(
            ops,
            [AlterTableOperation::AddConstraint {
                constraint: TableConstraint::ForeignKey(_) | TableConstraint::Check(_),
                not_valid: false,
            }]
        )
    });
    if single_add {
        advice.fix(format!("{} NOT VALID;", s.text.trim_end_matches(';')))
    } else {
        advice
    }
}

/// Advice for a key (`UNIQUE` or `PRIMARY KEY`) added to an existing table, with the
/// index-first fix when the statement names the key's columns.
fn key_fix(s: &Statement, key: &str) -> Advice {
    let advice = advice(format!(
        "create a unique index CONCURRENTLY first, then add the {key} USING INDEX (instant)"
    ));
    let Some((table, ops)) = alter_of(s) else {
        return advice;
    };
    let found = ops.iter().find_map(|op| match op {
        AlterTableOperation::AddConstraint {
            constraint: TableConstraint::Unique(u),
            ..
        } if key == "UNIQUE" => Some((
            u.name.as_ref().map(ident),
            u.columns
                .iter()
                .map(|c| c.column.expr.to_string())
                .collect(),
        )),
        AlterTableOperation::AddConstraint {
            constraint: TableConstraint::PrimaryKey(pk),
            ..
        } if key == "PRIMARY KEY" => Some((
            Some(format!("{table}_pkey")),
            pk.columns
                .iter()
                .map(|c| c.column.expr.to_string())
                .collect::<Vec<String>>(),
        )),
        _ => None,
    });
    let Some((name, columns)) = found else {
        return advice;
    };
    let name = name.unwrap_or_else(|| format!("{table}_{}_key", columns.join("_")));
    let index = quote(&format!("{name}_idx"));
    let t = quote(&table);
    advice.fix(format!(
        "CREATE UNIQUE INDEX CONCURRENTLY {index} ON {t} ({});\n\
         ALTER TABLE {t} ADD CONSTRAINT {} {key} USING INDEX {index};",
        columns.join(", "),
        quote(&name)
    ))
}
