//! `require-lock-timeout` and `require-statement-timeout`: a migration that takes strong locks,
//! or scans a table, without a time limit set first.

use crate::lint::rule::{BuiltinRule, Category, LintContext, Severity, Violation};
use crate::risk::{Effect, Reason};
use crate::sql::inspect::set_variable;
use crate::sql::{Statement, StatementKind};

/// `require-lock-timeout`.
pub(super) const REQUIRE_LOCK_TIMEOUT: BuiltinRule = BuiltinRule {
    id: "require-lock-timeout",
    category: Category::Migration,
    severity: Severity::Warning,
    description: "A migration that takes strong locks without a lock_timeout waits behind a long \
 query, and every later query on the table queues behind it: an outage. Applies \
 when the environment's `lock_timeout` is 0 (Confiture sets it otherwise).",
    check: lock_timeout,
};

/// `require-statement-timeout`.
pub(super) const REQUIRE_STATEMENT_TIMEOUT: BuiltinRule = BuiltinRule {
    id: "require-statement-timeout",
    category: Category::Migration,
    severity: Severity::Info,
    description: "A migration that scans or rewrites a table without a statement_timeout can run \
 (and hold its locks) for as long as the table is big.",
    check: statement_timeout,
};

/// True for statements that take an ACCESS EXCLUSIVE or SHARE lock on an existing table (even
/// briefly: queued behind a long query, the lock request itself blocks the table).
fn takes_strong_lock(reasons: &[Reason]) -> bool {
    reasons.iter().any(|r| {
        matches!(
            r.lock,
            Some(crate::risk::lock::ACCESS_EXCLUSIVE | crate::risk::lock::SHARE)
        )
    })
}

/// True when the statement sets the setting `name` itself (not a custom `x.name`).
fn sets(s: &Statement, name: &str) -> bool {
    s.kind == StatementKind::Set && s.ast.as_deref().and_then(set_variable).as_deref() == Some(name)
}

/// The first statement of each migration that needs `setting` and comes before any `SET` of
/// it, with the reasons it needs it.
fn first_needing<'a>(
    ctx: &LintContext<'a>,
    setting: &str,
    needs: fn(&[Reason]) -> bool,
) -> Vec<&'a Statement> {
    let mut found = Vec::new();
    for (file, risk) in ctx.migrations() {
        for (s, (_, assessment)) in file.statements.iter().zip(&risk.statements) {
            if sets(s, setting) {
                break;
            }
            if needs(&assessment.reasons) {
                found.push(s);
                break;
            }
        }
    }
    found
}

fn lock_timeout(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    if ctx.options.runner_sets_lock_timeout {
        return Vec::new();
    }
    first_needing(ctx, "lock_timeout", takes_strong_lock)
        .into_iter()
        .map(|s| {
            rule.at(
                &s.location,
                "this migration takes a strong lock without a lock_timeout: queued behind a \
                 long query, it blocks every query on the table",
            )
            .suggest(
                "set `lock_timeout` in the environment file (Confiture applies it to every \
                 migration), or start the migration with SET lock_timeout",
            )
            .fix("SET lock_timeout = '5s';")
        })
        .collect()
}

fn statement_timeout(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let slow = |reasons: &[Reason]| {
        reasons
            .iter()
            .any(|r| r.effect != Effect::None && r.scans_table)
    };
    first_needing(ctx, "statement_timeout", slow)
        .into_iter()
        .map(|s| {
            rule.at(
                &s.location,
                "this migration scans or rewrites a table without a statement_timeout",
            )
            .suggest("start the migration with SET statement_timeout")
            .fix("SET statement_timeout = '5min';")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::lint::rule::RuleOptions;
    use crate::lint::rules::testing::*;

    const USERS: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text, n int);";

    #[test]
    fn lock_timeout_only_when_the_runner_does_not_set_one() {
        let sql = "ALTER TABLE users ADD COLUMN c int DEFAULT random();";
        let off = RuleOptions {
            runner_sets_lock_timeout: false,
            ..RuleOptions::default()
        };
        assert_count(&run_with("require-lock-timeout", &[USERS], &[sql], &off), 1);
        assert_count(
            &run_with(
                "require-lock-timeout",
                &[USERS],
                &[&format!("SET lock_timeout = '2s';\n{sql}")],
                &off,
            ),
            0,
        );
        // A custom setting that only ends in `lock_timeout` is not it.
        assert_count(
            &run_with(
                "require-lock-timeout",
                &[USERS],
                &[&format!("SET foo.lock_timeout = '2s';\n{sql}")],
                &off,
            ),
            1,
        );
        assert_count(&migration("require-lock-timeout", USERS, sql), 0);
    }
}
