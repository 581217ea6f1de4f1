//! `prefer-text-over-varchar`: `varchar(n)` columns, whose limit is a schema change to widen.

use sqlparser::ast::{AlterColumnOperation, AlterTableOperation, Statement as Ast};

use crate::lint::rule::{BuiltinRule, Category, LintContext, Severity, Violation};
use crate::sql::names::ident;
use crate::sql::types::normalise;

/// `prefer-text-over-varchar`.
pub(super) const PREFER_TEXT_OVER_VARCHAR: BuiltinRule = BuiltinRule {
    id: "prefer-text-over-varchar",
    category: Category::Migration,
    severity: Severity::Info,
    description: "varchar(n) in a migration: widening it later is a schema change; text with a \
 CHECK (length(col) <= n) changes with a NOT VALID constraint instead.",
    check: prefer_text,
};

fn prefer_text(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let bounded = |t: &sqlparser::ast::DataType| {
        let name = normalise(t).name;
        name.starts_with("character varying(")
    };
    let mut found = Vec::new();
    for (s, _) in ctx.migration_statements() {
        let columns: Vec<(String, bool)> = match s.ast.as_deref() {
            Some(Ast::CreateTable(create)) => create
                .columns
                .iter()
                .map(|c| (ident(&c.name), bounded(&c.data_type)))
                .collect(),
            Some(Ast::AlterTable(alter)) => alter
                .operations
                .iter()
                .filter_map(|op| match op {
                    AlterTableOperation::AddColumn { column_def, .. } => {
                        Some((ident(&column_def.name), bounded(&column_def.data_type)))
                    }
                    AlterTableOperation::AlterColumn {
                        column_name,
                        op: AlterColumnOperation::SetDataType { data_type, .. },
                    } => Some((ident(column_name), bounded(data_type))),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        for (column, _) in columns.into_iter().filter(|(_, b)| *b) {
            found.push(
                rule.at(
                    &s.location,
                    format!("column `{column}` is varchar(n): changing n later is a schema change"),
                )
                .suggest("use text with a CHECK (length(col) <= n) if the limit matters"),
            );
        }
    }
    found
}
