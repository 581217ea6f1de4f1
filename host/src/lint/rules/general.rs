//! Findings about the linting itself.

use crate::lint::rule::{BuiltinRule, Category, LintContext, Severity, Violation};
use crate::sql::StatementKind;

/// Statements the parser could not read.
pub const UNPARSED: &str = "unparsed";
/// Suppression comments naming a rule that does not exist.
pub const UNKNOWN_SUPPRESSION: &str = "unknown-suppression";

pub(super) fn rules() -> Vec<BuiltinRule> {
    vec![
        BuiltinRule {
            id: UNPARSED,
            category: Category::General,
            severity: Severity::Info,
            description: "A statement the SQL parser could not read; it is kept as text and \
                          the rules that need its structure skip it.",
            check: unparsed,
        },
        BuiltinRule {
            id: UNKNOWN_SUPPRESSION,
            category: Category::General,
            severity: Severity::Warning,
            description: "A `confiture-lint: disable=` comment names a rule that does not \
                          exist, so it suppresses nothing (often a typo).",
            check: |_, _| Vec::new(),
        },
    ]
}

fn unparsed(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    ctx.statements()
        .filter(|s| s.kind == StatementKind::Unparsed)
        .map(|s| {
            let kind = s.guessed_kind.as_deref().unwrap_or("statement");
            rule.at(
                &s.location,
                format!("this {kind} could not be parsed; rules that need its structure skip it"),
            )
            .suggest(
                "nothing to do if PostgreSQL accepts it; disable with \
                 `-- confiture-lint: disable=unparsed` above the statement",
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn unparsed_statements_are_reported_once_each() {
        let found = schema(
            "unparsed",
            "CREATE TABLE a (id bigint PRIMARY KEY);\nCREATE FROBNICATOR x WITH y;\n",
        );
        assert_count(&found, 1);
        assert_eq!(found[0].location.as_ref().unwrap().line, 2);
        assert_count(
            &schema("unparsed", "CREATE TABLE a (id bigint PRIMARY KEY);"),
            0,
        );
    }
}
