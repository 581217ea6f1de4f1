//! Unit tests of the migration rules beyond the case table (`cases.rs`): fixes, severities,
//! advice.

use super::super::testing::*;
use super::*;
use crate::lint::rule::RuleOptions;

const USERS: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text, n int);";

fn m(id: &str, sql: &str) -> Vec<Violation> {
    migration(id, USERS, sql)
}

#[test]
fn fixes_are_mechanical_sql() {
    let found = m(
        "require-concurrent-index",
        "CREATE INDEX users_email ON users (email);",
    );
    assert_count(&found, 1);
    assert_eq!(
        found[0].fix.as_deref(),
        Some("CREATE INDEX CONCURRENTLY users_email ON users (email);")
    );
    assert_eq!(found[0].severity, Severity::Warning);
    let found = m(
        "constraint-missing-not-valid",
        "ALTER TABLE users ADD CONSTRAINT n_pos CHECK (n > 0);",
    );
    assert_eq!(
        found[0].fix.as_deref(),
        Some("ALTER TABLE users ADD CONSTRAINT n_pos CHECK (n > 0) NOT VALID;")
    );
    let found = m(
        "set-not-null",
        "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
    );
    assert!(found[0].fix.as_deref().unwrap().contains("NOT VALID"));
    let found = m(
        "adding-unique-constraint",
        "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);",
    );
    assert!(
        found[0]
            .fix
            .as_deref()
            .unwrap()
            .contains("UNIQUE USING INDEX")
    );
}

#[test]
fn severity_follows_the_risk_level() {
    let schema = "CREATE TABLE t (v varchar(20), n int);";
    let widen = migration(
        "changing-column-type",
        schema,
        "ALTER TABLE t ALTER COLUMN v TYPE varchar(40);",
    );
    assert_eq!(widen[0].severity, Severity::Warning);
    let rewrite = migration(
        "changing-column-type",
        schema,
        "ALTER TABLE t ALTER COLUMN n TYPE text;",
    );
    assert_eq!(rewrite[0].severity, Severity::Critical);
}

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
    assert_count(&m("require-lock-timeout", sql), 0);
}

#[test]
fn every_effect_is_reported_by_exactly_one_rule() {
    use std::collections::HashMap;
    let mut owners: HashMap<Effect, &str> = HashMap::new();
    for rule in SAFETY {
        for effect in rule.effects {
            assert!(
                owners.insert(*effect, rule.id).is_none(),
                "{effect:?} reported twice"
            );
        }
    }
    assert!(!owners.contains_key(&Effect::None));
    assert!(
        !owners.contains_key(&Effect::Unanalysed),
        "the unparsed rule reports it"
    );
    assert_eq!(
        owners.len(),
        28,
        "every other effect has its rule: {owners:?}"
    );
}

#[test]
fn keyword_and_replacement_helpers() {
    assert!(has_keyword("drop index concurrently x", "CONCURRENTLY"));
    assert!(!has_keyword("drop index \"concurrently\"", "concurrently"));
    assert_eq!(
        replace_first_keyword(
            "create unique index i on t (a)",
            "index",
            "INDEX CONCURRENTLY"
        ),
        "create unique INDEX CONCURRENTLY i on t (a)"
    );
}
