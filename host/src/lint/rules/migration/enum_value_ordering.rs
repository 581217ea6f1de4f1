//! `enum-value-ordering`: `ALTER TYPE ... ADD VALUE` without saying where the value sorts.

use crate::lint::rule::{BuiltinRule, Category, LintContext, Severity, Violation};
use crate::sql::guess_kind;
use crate::sql::inspect::has_keyword;

/// `enum-value-ordering`.
pub(super) const ENUM_VALUE_ORDERING: BuiltinRule = BuiltinRule {
    id: "enum-value-ordering",
    category: Category::Migration,
    severity: Severity::Info,
    description: "ALTER TYPE ... ADD VALUE without BEFORE/AFTER appends the value last, which \
 decides how the enum sorts; say where it goes.",
    check: enum_value_ordering,
};

fn enum_value_ordering(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    ctx.migration_statements()
        .filter(|(s, _)| {
            guess_kind(&s.text) == "alter-type"
                && has_keyword(&s.text, "add")
                && has_keyword(&s.text, "value")
                && !has_keyword(&s.text, "before")
                && !has_keyword(&s.text, "after")
        })
        .map(|(s, _)| {
            rule.at(
                &s.location,
                "ADD VALUE without BEFORE/AFTER puts the value last in the enum's sort order",
            )
            .suggest("say where it goes: ADD VALUE 'x' BEFORE 'y' (or AFTER)")
        })
        .collect()
}
