//! Test fixtures: lint SQL text through the real parser and model.

use crate::lint::rule::{LintContext, Rule, RuleOptions, Violation};
use crate::sql::parse_file;

/// Runs rule `id` over schema files (`db/schema/NN.sql`) then migration files
/// (`db/migrations/NN_m.up.sql`) with `options`.
pub fn run_with(
    id: &str,
    schema: &[&str],
    migrations: &[&str],
    options: &RuleOptions,
) -> Vec<Violation> {
    let mut files: Vec<_> = schema
        .iter()
        .enumerate()
        .map(|(i, sql)| parse_file(&format!("db/schema/{i:02}.sql"), sql, false))
        .collect();
    files.extend(
        migrations
            .iter()
            .enumerate()
            .map(|(i, sql)| parse_file(&format!("db/migrations/{:03}_m.up.sql", i + 1), sql, true)),
    );
    let settings = crate::risk::Settings {
        postgres_version: options.postgres_version,
    };
    let (model, risks) = crate::risk::assess_files(&files, settings);
    let ctx = LintContext::new(&model, &files, options, &risks);
    let rules = super::builtin();
    let rule = rules
        .iter()
        .find(|r| r.id() == id)
        .unwrap_or_else(|| panic!("no rule {id}"));
    rule.check(&ctx)
}

/// Rule `id` over one schema file with the default options.
pub fn schema(id: &str, sql: &str) -> Vec<Violation> {
    run_with(id, &[sql], &[], &RuleOptions::default())
}

/// Rule `id` over a schema file and one migration, default options.
pub fn migration(id: &str, schema: &str, migration: &str) -> Vec<Violation> {
    run_with(id, &[schema], &[migration], &RuleOptions::default())
}

/// Asserts that exactly `n` violations were found, showing them otherwise.
#[track_caller]
pub fn assert_count(found: &[Violation], n: usize) {
    assert_eq!(found.len(), n, "{found:#?}");
}
