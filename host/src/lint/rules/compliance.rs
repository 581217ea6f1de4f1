//! Compliance: tables holding personal data must say why and for how long; audit columns.

use super::{name_has, quote, show_table};
use crate::lint::rule::{BuiltinRule, Category, LintContext, Severity, Violation};
use crate::sql::Table;

pub(super) fn rules() -> Vec<BuiltinRule> {
    vec![
        BuiltinRule {
            id: "pii-table-comment",
            category: Category::Compliance,
            severity: Severity::Warning,
            description: "A table holding personal data needs a documented purpose \
                          (COMMENT ON TABLE): GDPR-style records of processing start from \
                          knowing why each table keeps people's data.",
            check: comment,
        },
        BuiltinRule {
            id: "pii-retention-column",
            category: Category::Compliance,
            severity: Severity::Info,
            description: "A table holding personal data should record how long each row may \
                          be kept (linting.retention_columns, e.g. retention_until) so \
                          deletion can be automated.",
            check: retention,
        },
        BuiltinRule {
            id: "audit-columns",
            category: Category::Compliance,
            severity: Severity::Warning,
            description: "When linting.audit_columns is set (e.g. created_by, updated_by), \
                          every table must carry those columns so each change can be traced \
                          to a person.",
            check: audit,
        },
    ]
}

/// The PII columns of a table, by the configured patterns.
fn pii_columns<'a>(ctx: &LintContext<'_>, table: &'a Table) -> Vec<&'a str> {
    table
        .columns
        .iter()
        .filter(|c| ctx.options.pii_columns.iter().any(|p| name_has(&c.name, p)))
        .map(|c| c.name.as_str())
        .collect()
}

fn comment(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for table in ctx.model.tables.iter().filter(|t| t.comment.is_none()) {
        let pii = pii_columns(ctx, table);
        if pii.is_empty() {
            continue;
        }
        found.push(
            rule.at(
                &table.location,
                format!(
                    "table `{}` holds personal data ({}) but has no COMMENT saying why",
                    show_table(&table.qualified()),
                    pii.join(", ")
                ),
            )
            .suggest("document the purpose and legal basis in a table comment")
            .fix(format!(
                "COMMENT ON TABLE {} IS 'Purpose: ...; legal basis: ...; retention: ...';",
                quote(&table.name)
            )),
        );
    }
    found
}

fn retention(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let wanted = &ctx.options.retention_columns;
    let mut found = Vec::new();
    for table in &ctx.model.tables {
        if wanted.iter().any(|c| table.column(c).is_some()) {
            continue;
        }
        let pii = pii_columns(ctx, table);
        if pii.is_empty() {
            continue;
        }
        let column = wanted.first().map_or("retention_until", String::as_str);
        found.push(
            rule.at(
                &table.location,
                format!(
                    "table `{}` holds personal data ({}) but no retention column ({})",
                    show_table(&table.qualified()),
                    pii.join(", "),
                    wanted.join(", ")
                ),
            )
            .suggest("record until when each row may be kept, and purge past it")
            .fix(format!(
                "ALTER TABLE {} ADD COLUMN {} timestamptz;",
                quote(&table.name),
                quote(column)
            )),
        );
    }
    found
}

fn audit(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let wanted = &ctx.options.audit_columns;
    if wanted.is_empty() {
        return Vec::new();
    }
    let mut found = Vec::new();
    for table in &ctx.model.tables {
        let missing: Vec<&String> = wanted
            .iter()
            .filter(|c| table.column(c).is_none())
            .collect();
        if missing.is_empty() {
            continue;
        }
        let names: Vec<String> = missing.iter().map(|c| format!("`{c}`")).collect();
        let fix: Vec<String> = missing
            .iter()
            .map(|c| {
                format!(
                    "ALTER TABLE {} ADD COLUMN {} text;",
                    quote(&table.name),
                    quote(c)
                )
            })
            .collect();
        found.push(
            rule.at(
                &table.location,
                format!(
                    "table `{}` has no audit column {}",
                    show_table(&table.qualified()),
                    names.join(", ")
                ),
            )
            .suggest("add the audit columns and fill them from the application or a trigger")
            .fix(fix.join("\n")),
        );
    }
    found
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::lint::rule::RuleOptions;

    const USERS: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);";

    #[test]
    fn pii_tables_need_a_comment() {
        assert_count(&schema("pii-table-comment", USERS), 1);
        assert_count(
            &schema(
                "pii-table-comment",
                &format!("{USERS}\nCOMMENT ON TABLE users IS 'Accounts; contract.';"),
            ),
            0,
        );
        assert_count(
            &schema(
                "pii-table-comment",
                "CREATE TABLE t (id bigint PRIMARY KEY, n int);",
            ),
            0,
        );
    }

    #[test]
    fn pii_tables_need_a_retention_column() {
        assert_count(&schema("pii-retention-column", USERS), 1);
        assert_count(
            &schema(
                "pii-retention-column",
                "CREATE TABLE users (id bigint PRIMARY KEY, email text, retention_until timestamptz);",
            ),
            0,
        );
    }

    #[test]
    fn audit_columns_only_when_configured() {
        assert_count(&schema("audit-columns", USERS), 0);
        let options = RuleOptions {
            audit_columns: vec!["created_by".into(), "updated_by".into()],
            ..RuleOptions::default()
        };
        let found = run_with("audit-columns", &[USERS], &[], &options);
        assert_count(&found, 1);
        assert!(found[0].message.contains("`created_by`, `updated_by`"));
        let ok = "CREATE TABLE t (id bigint PRIMARY KEY, created_by text, updated_by text);";
        assert_count(&run_with("audit-columns", &[ok], &[], &options), 0);
    }
}
