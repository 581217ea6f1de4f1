//! The rule examples of docs/guides/schema-linting.md: every rule has a bad example that
//! triggers it and a good one that does not.

use super::config::{Source, resolve};
use super::engine::lint;
use super::registry::Registry;
use super::rule::Category;
use crate::project::{settings::linting::LintingSettings, settings::linting::RuleSetting};
use crate::sql::parse_file;

const GUIDE: &str = include_str!("../../../docs/guides/schema-linting.md");

/// The schema the guide's migration examples run against.
const CONTEXT: &str = "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
                       email text, n int, created_at timestamptz, updated_at timestamptz);\n\
                       CREATE INDEX users_email_idx ON users (email);\n\
                       CREATE TABLE legacy (id bigint NOT NULL, note text);\n";
const MIGRATION: &str = "db/migrations/20250101000000_example.up.sql";

/// The SQL of the block starting with `-- {label}` in a rule's section (without that line).
fn block<'a>(section: &'a str, label: &str) -> Option<&'a str> {
    let marker = format!("```sql\n-- {label}\n");
    let start = section.find(&marker)? + marker.len();
    let len = section[start..].find("\n```")?;
    Some(&section[start..start + len])
}

/// How many findings of rule `id` the example produces (in the migration for migration rules).
fn findings(registry: &Registry, id: &str, category: Category, sql: &str) -> usize {
    // The rule under test is on even when it is opt-in.
    let settings = LintingSettings {
        audit_columns: Some(vec!["created_by".into(), "updated_by".into()]),
        rules: vec![(id.to_string(), RuleSetting::Switch(true))],
        ..LintingSettings::default()
    };
    let source = Source {
        shown: "local.yaml",
        text: "",
    };
    let config = resolve(&settings, registry, &source, &[], false).expect("config");
    let files = if category == Category::Migration {
        vec![
            parse_file("db/schema/context.sql", CONTEXT, false),
            parse_file(MIGRATION, sql, true),
        ]
    } else {
        vec![parse_file("db/schema/example.sql", sql, false)]
    };
    let report = lint(&files, registry, &config, super::Severity::Critical);
    report
        .findings
        .iter()
        .filter(|f| f.rule == id)
        .filter(|f| {
            category != Category::Migration
                || f.location.as_ref().is_some_and(|l| l.file == MIGRATION)
        })
        .count()
}

#[test]
fn every_rule_has_a_bad_example_that_fires_and_a_good_one_that_does_not() {
    let registry = Registry::builtin();
    let mut problems = Vec::new();
    for rule in registry.rules() {
        let heading = format!("\n#### `{}`\n", rule.id());
        let Some(at) = GUIDE.find(&heading) else {
            problems.push(format!("{}: no section in the guide", rule.id()));
            continue;
        };
        let section = &GUIDE[at + heading.len()..];
        let section = &section[..section.find("\n#### ").unwrap_or(section.len())];
        for (label, fires) in [("bad", true), ("good", false)] {
            let Some(sql) = block(section, label) else {
                problems.push(format!("{}: no `-- {label}` example", rule.id()));
                continue;
            };
            let n = findings(&registry, rule.id(), rule.category(), sql);
            if (n > 0) != fires {
                problems.push(format!(
                    "{}: the {label} example gives {n} finding(s):\n{sql}",
                    rule.id()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
