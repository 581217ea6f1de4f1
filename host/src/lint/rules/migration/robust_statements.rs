//! `robust-statements`: in a no-transaction migration, statements that cannot run again after
//! a failure part-way.

use crate::lint::rule::{BuiltinRule, Category, LintContext, Severity, Violation};
use crate::sql::guess_kind;
use crate::sql::inspect::has_keyword;

/// `robust-statements`.
pub(super) const ROBUST_STATEMENTS: BuiltinRule = BuiltinRule {
    id: "robust-statements",
    category: Category::Migration,
    severity: Severity::Info,
    description: "In a no-transaction migration a failure leaves the statements before it applied: \
 CREATE ... IF NOT EXISTS and DROP ... IF EXISTS let the migration run again.",
    check: robust_statements,
};

fn robust_statements(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for (file, _) in ctx.migrations() {
        if !file.statements.first().is_some_and(|s| s.no_transaction) {
            continue;
        }
        for s in &file.statements {
            let kind = guess_kind(&s.text);
            let guarded = has_keyword(&s.text, "exists");
            let what = match kind.as_str() {
                "create-table" | "create-index" | "create-schema" | "create-sequence"
                | "create-extension" => "IF NOT EXISTS",
                "drop-table" | "drop-index" | "drop-view" | "drop-sequence" | "drop-type"
                | "drop-function" | "drop-schema" | "drop-extension" => "IF EXISTS",
                _ => continue,
            };
            if !guarded {
                found.push(
                    rule.at(
                        &s.location,
                        format!(
                            "without {what}, this no-transaction migration cannot run again if \
                             it fails after this statement"
                        ),
                    )
                    .suggest(format!("add {what}")),
                );
            }
        }
    }
    found
}
