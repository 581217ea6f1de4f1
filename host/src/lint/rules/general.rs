//! Findings about the linting itself.

use crate::lint::rule::{BuiltinRule, Category, LintContext, Severity, Violation};
use crate::risk::Effect;
use crate::sql::{Statement, StatementKind, Unterminated};

/// Statements the parser could not read.
pub const UNPARSED: &str = "unparsed";
/// Suppression comments naming a rule that does not exist.
pub const UNKNOWN_SUPPRESSION: &str = "unknown-suppression";
/// Quotes, comments and bodies a file never closes.
pub const UNTERMINATED: &str = "unterminated";

pub(super) fn rules() -> Vec<BuiltinRule> {
    vec![
        BuiltinRule {
            id: UNPARSED,
            category: Category::General,
            severity: Severity::Info,
            description: "A statement the SQL parser could not read; it is kept as text and \
                          the rules that need its structure skip it. In a migration, one whose \
                          effect on a live table is not known either is a warning: review it \
                          by hand.",
            check: unparsed,
        },
        BuiltinRule {
            id: UNTERMINATED,
            category: Category::General,
            severity: Severity::Critical,
            description: "A quote, dollar quote or comment that is never closed (everything \
                          after it is one statement to PostgreSQL, so the rules cannot check the \
                          rest of the file either), or a parenthesis without its `)`: an error \
                          when PostgreSQL runs it, and a migration Confiture refuses to run.",
            check: unterminated,
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

fn unterminated(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    ctx.files
        .iter()
        .flat_map(|f| f.unterminated.iter().map(move |problem| (f, problem)))
        .map(|(f, problem)| {
            let location = crate::sql::Location {
                file: f.path.clone(),
                line: u32::try_from(problem.line).unwrap_or(u32::MAX),
                column: 1,
            };
            // The splitter goes back to cutting at semicolons after an unclosed parenthesis;
            // anything else swallows the rest of the file.
            let rest = match problem.what {
                Unterminated::Parenthesis => "its statement cannot run",
                _ => "the rest of the file is inside it",
            };
            rule.at(&location, format!("{problem}; {rest}"))
                .suggest("close it where it should end (a `'`, `$tag$`, `*/` or `)`)")
        })
        .collect()
}

fn unparsed(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let report = |s: &Statement, unanalysed: bool| {
        let kind = s.guessed_kind.as_deref().unwrap_or("statement");
        let mut v = rule
            .at(
                &s.location,
                format!("this {kind} could not be parsed; rules that need its structure skip it"),
            )
            .suggest(
                "nothing to do if PostgreSQL accepts it (in a migration: once you have checked \
                 what it locks); disable with `-- confiture-lint: disable=unparsed` above the \
                 statement",
            );
        if unanalysed {
            v.severity = Severity::Warning;
        }
        v
    };
    let mut found: Vec<Violation> = ctx
        .files
        .iter()
        .filter(|f| !f.statements.iter().any(|s| s.in_migration))
        .flat_map(|f| &f.statements)
        .filter(|s| s.kind == StatementKind::Unparsed)
        .map(|s| report(s, false))
        .collect();
    found.extend(
        ctx.migration_statements()
            .filter(|(s, _)| s.kind == StatementKind::Unparsed)
            .map(|(s, a)| report(s, a.reasons.iter().any(|r| r.effect == Effect::Unanalysed))),
    );
    found
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

    #[test]
    fn unterminated_constructs_are_critical_at_the_line_they_open() {
        let cases = [
            (
                "CREATE TABLE a (id int);\nSELECT $x$ never closed;\n",
                2,
                "dollar",
            ),
            (
                "CREATE TABLE a (id int);\n\n/* open\nSELECT 1;\n",
                3,
                "comment",
            ),
            ("SELECT 1;\nSELECT 'it''s open;\n", 2, "string"),
            ("SELECT (1;\nSELECT 2;\n", 1, "its statement cannot run"),
        ];
        for (sql, line, what) in cases {
            let found = schema("unterminated", sql);
            assert_count(&found, 1);
            assert_eq!(found[0].location.as_ref().unwrap().line, line, "{sql}");
            assert!(found[0].message.contains(what), "{}", found[0].message);
            assert_eq!(found[0].severity, crate::lint::rule::Severity::Critical);
        }
        // The twin: the same constructs closed.
        let closed = "SELECT $x$ closed $x$;\n/* closed */ SELECT 'it''s closed';\n";
        assert_count(&schema("unterminated", closed), 0);
    }
}
