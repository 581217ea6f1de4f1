//! Unit tests of the migration rules beyond the case table (`cases.rs`): fixes, severities,
//! advice.

use super::super::testing::*;
use super::*;

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
    assert_eq!(found[0].severity, Severity::Critical);
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

/// Every built-in rule and its default severity before the one safety model (issue #17): no
/// default may be weaker now, so nothing that failed CI by default stops failing it.
const SEVERITY_BEFORE_ONE_SAFETY_MODEL: &[(&str, Severity)] = &[
    ("adding-generated-column", Severity::Critical),
    ("adding-primary-key", Severity::Critical),
    ("adding-required-column", Severity::Critical),
    ("adding-unique-constraint", Severity::Critical),
    ("audit-columns", Severity::Warning),
    ("changing-column-type", Severity::Critical),
    ("concurrent-index-in-transaction", Severity::Critical),
    ("constraint-missing-not-valid", Severity::Critical),
    ("drop-column", Severity::Warning),
    ("drop-table", Severity::Critical),
    ("duplicate-index", Severity::Warning),
    ("fk-without-index", Severity::Warning),
    ("naming-identifier-length", Severity::Critical),
    ("naming-reserved-word", Severity::Warning),
    ("naming-snake-case", Severity::Warning),
    ("pii-retention-column", Severity::Info),
    ("pii-table-comment", Severity::Warning),
    ("prefer-bigint-keys", Severity::Warning),
    ("prefer-identity", Severity::Warning),
    ("prefer-jsonb", Severity::Warning),
    ("prefer-text-over-char", Severity::Warning),
    ("prefer-timestamptz", Severity::Warning),
    ("redundant-index", Severity::Info),
    ("renaming-column", Severity::Warning),
    ("renaming-table", Severity::Warning),
    ("require-concurrent-index", Severity::Critical),
    ("require-concurrent-index-drop", Severity::Warning),
    ("require-lock-timeout", Severity::Warning),
    ("require-primary-key", Severity::Warning),
    ("secret-in-clear", Severity::Critical),
    ("sensitive-column-constraints", Severity::Info),
    ("set-not-null", Severity::Warning),
    ("timestamp-columns", Severity::Info),
    ("transaction-nesting", Severity::Warning),
    ("truncate", Severity::Critical),
    ("unknown-suppression", Severity::Warning),
    ("unparsed", Severity::Info),
    ("validate-in-same-transaction", Severity::Warning),
    ("volatile-default", Severity::Critical),
];

#[test]
fn no_default_severity_is_weaker_than_before_the_one_safety_model() {
    let rules = super::super::builtin();
    for &(id, before) in SEVERITY_BEFORE_ONE_SAFETY_MODEL {
        let rule = rules
            .iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("rule {id} still exists"));
        assert!(
            rule.severity >= before,
            "{id}: default {} is weaker than {before}",
            rule.severity
        );
        // Each effect's floor too: only a type change without a rewrite (binary coercible,
        // which the rule did not tell apart before) is reported below the rule's old default.
        for &(effect, floor) in effects_of(id) {
            if effect != Effect::TypeChangeBreaksReaders {
                assert!(floor >= before, "{id}: {effect:?} floor {floor} < {before}");
            }
        }
    }
}

#[test]
fn findings_that_failed_ci_before_still_fail_it() {
    for (id, sql) in [
        (
            "require-concurrent-index",
            "CREATE INDEX users_email ON users (email);",
        ),
        (
            "constraint-missing-not-valid",
            "ALTER TABLE users ADD CONSTRAINT n_pos CHECK (n > 0);",
        ),
        (
            "adding-unique-constraint",
            "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);",
        ),
        (
            "adding-primary-key",
            "ALTER TABLE users DROP CONSTRAINT users_pkey, ADD PRIMARY KEY (email);",
        ),
    ] {
        let found = m(id, sql);
        assert_count(&found, 1);
        assert_eq!(found[0].severity, Severity::Critical, "{id}: {sql}");
    }
    // A table the migration creates itself is new and empty: risk's low, lint's info.
    let fresh = m(
        "require-concurrent-index",
        "CREATE TABLE fresh (id bigint PRIMARY KEY, e text);\nCREATE INDEX fresh_e ON fresh (e);",
    );
    assert!(
        fresh.iter().all(|v| v.severity == Severity::Info),
        "{fresh:?}"
    );
}

#[test]
fn severity_follows_the_risk_level_above_the_floor() {
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
fn every_effect_is_reported_by_exactly_one_rule() {
    use std::collections::HashMap;
    let mut owners: HashMap<Effect, &str> = HashMap::new();
    for rule in safety_rules() {
        for (effect, _) in rule.effects {
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
        29,
        "every other effect has its rule: {owners:?}"
    );
}
