//! Test helpers shared by the strategies' tests.

use super::builtin;
use super::column::{ColumnType, check_value};
use super::params::Params;
use super::{KeyedHasher, Strategy, TextBatch};

/// A hasher keyed with `secret`.
pub(crate) fn hasher(secret: &str) -> Option<KeyedHasher> {
    KeyedHasher::new(secret.as_bytes())
}

/// Params from a YAML flow map, e.g. `{domain: x.org}`.
pub(crate) fn params(yaml: &str) -> Params {
    serde_yaml_ng::from_str(yaml).expect("test params are valid YAML")
}

/// Builds built-in `name` with `params` under `secret`.
pub(crate) fn build(name: &str, params_yaml: &str, secret: &str) -> std::sync::Arc<dyn Strategy> {
    builtin::build(name, &params(params_yaml), hasher(secret))
        .unwrap_or_else(|| panic!("no built-in `{name}`"))
        .unwrap_or_else(|error| panic!("{error:#}"))
}

/// `values` as [`run`] takes them, none NULL.
pub(crate) fn as_values(values: &[String]) -> Vec<Option<&str>> {
    values.iter().map(|v| Some(v.as_str())).collect()
}

/// Runs `strategy` on `values` for a column of `type_name`, checks the output batch is well
/// formed, has as many values, keeps NULLs, and that every value passes [`check_value`].
pub(crate) fn run(
    strategy: &dyn Strategy,
    type_name: &str,
    values: &[Option<&str>],
) -> Vec<Option<String>> {
    let column = ColumnType::parse(type_name);
    let input = TextBatch::from_values(values.iter().copied());
    let output = strategy
        .anonymize(&column, &input)
        .unwrap_or_else(|error| panic!("{} on {type_name}: {error:#}", strategy.name()));
    output.check(values.len()).expect("a well-formed batch");
    let out: Vec<Option<String>> = output.values().map(|v| v.map(str::to_string)).collect();
    for (before, after) in values.iter().zip(&out) {
        if strategy.name() != "null" {
            assert_eq!(
                before.is_none(),
                after.is_none(),
                "NULL must stay NULL ({})",
                strategy.name()
            );
        }
        if let Some(after) = after
            && let Err(problem) = check_value(&column, after)
        {
            panic!(
                "{} on {type_name}: output `{after}` {problem}",
                strategy.name()
            );
        }
    }
    out
}

/// The error `strategy` reports on `values` for `type_name`, as one line.
pub(crate) fn run_err(strategy: &dyn Strategy, type_name: &str, values: &[Option<&str>]) -> String {
    let input = TextBatch::from_values(values.iter().copied());
    match strategy.anonymize(&ColumnType::parse(type_name), &input) {
        Ok(_) => panic!("{} on {type_name} should fail", strategy.name()),
        Err(error) => format!("{error:#}"),
    }
}

/// Checks a keyed built-in: deterministic under one secret, different under another, and an
/// error without a secret.
pub(crate) fn assert_keyed(
    name: &str,
    params_yaml: &str,
    type_name: &str,
    values: &[Option<&str>],
) {
    let a = run(&*build(name, params_yaml, "secret-a"), type_name, values);
    let again = run(&*build(name, params_yaml, "secret-a"), type_name, values);
    let b = run(&*build(name, params_yaml, "secret-b"), type_name, values);
    assert_eq!(a, again, "{name} must be deterministic");
    assert_ne!(a, b, "{name} must depend on the secret");
    let error = builtin::build(name, &params(params_yaml), None)
        .expect("a built-in")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        error.contains("set ANONYMIZATION_SECRET"),
        "{name}: {error}"
    );
}
