//! `require-schema-qualified` (opt-in): tables named without their schema.

use sqlparser::ast::Statement as Ast;

use super::super::last_part;
use crate::lint::rule::{BuiltinRule, Category, LintContext, Severity, Violation};

/// `require-schema-qualified`.
pub(super) const REQUIRE_SCHEMA_QUALIFIED: BuiltinRule = BuiltinRule {
    id: "require-schema-qualified",
    category: Category::Migration,
    severity: Severity::Info,
    description: "Tables a migration creates or alters without naming their schema land wherever \
 the search_path points at run time (opt-in rule).",
    check: schema_qualified,
};

fn schema_qualified(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for (s, _) in ctx.migration_statements() {
        let name = match s.ast.as_deref() {
            Some(Ast::CreateTable(create)) => &create.name,
            Some(Ast::AlterTable(alter)) => &alter.name,
            Some(Ast::CreateIndex(index)) => &index.table_name,
            _ => continue,
        };
        if name.0.len() < 2 {
            found.push(
                rule.at(
                    &s.location,
                    format!(
                        "`{}` is not schema-qualified: it resolves through the search_path at \
                         run time",
                        last_part(name)
                    ),
                )
                .suggest("name the schema, e.g. public.table"),
            );
        }
    }
    found
}
