//! `confiture lint` configuration, suppressions, unparseable input and rule listing, through
//! the real binary.

use crate::lint_output::{INDEX_MIGRATION, LintProject, USERS};

fn rules_of(run: &crate::harness::Run) -> Vec<String> {
    run.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_release_notes_block_works_as_written() {
    let project = LintProject::new(&[
        (
            "db/environments/local.yaml",
            "linting:\n  rules:\n    security:\n      warn_plain_text_pii: true\n      \
             require_password_hash: true\n    performance:\n      warn_missing_indices: true\n",
        ),
        ("db/schema/10_users.sql", USERS),
    ]);
    let rules = rules_of(&project.lint(&["--format", "json"]));
    for rule in [
        "plain-text-pii",
        "password-not-hashed",
        "missing-lookup-index",
    ] {
        assert!(rules.iter().any(|r| r == rule), "{rule} in {rules:?}");
    }
    project.write(
        "db/environments/local.yaml",
        "linting:\n  rules:\n    security:\n      warn_plain_text_pii: false\n      \
         require_password_hash: false\n    performance:\n      warn_missing_indices: false\n",
    );
    let rules = rules_of(&project.lint(&["--format", "json"]));
    for rule in [
        "plain-text-pii",
        "password-not-hashed",
        "missing-lookup-index",
    ] {
        assert!(!rules.iter().any(|r| r == rule), "{rule} in {rules:?}");
    }
}

#[test]
fn severity_overrides_categories_and_exclusions() {
    let project = LintProject::new(&[
        (
            "db/environments/local.yaml",
            "linting:\n  rules:\n    migration: warning\n    security: off\n    \
             naming-reserved-word: critical\n  lookup_keys: [nickname]\n",
        ),
        ("db/schema/10_users.sql", USERS),
        (
            "db/migrations/20250101000000_email_index.up.sql",
            INDEX_MIGRATION,
        ),
    ]);
    let run = project.lint(&["--format", "json"]);
    assert_eq!(
        run.code, 0,
        "migration findings lowered to warnings: {}",
        run.stdout
    );
    let doc = run.json();
    let findings = doc["findings"].as_array().unwrap();
    let index = findings
        .iter()
        .find(|f| f["rule"] == "require-concurrent-index")
        .expect("index finding");
    assert_eq!(index["severity"], "warning");
    assert!(!findings.iter().any(|f| f["category"] == "security"));
    assert!(!findings.iter().any(|f| f["rule"] == "missing-lookup-index"));

    let run = project.lint(&[
        "--format",
        "json",
        "--exclude-rules",
        "require-concurrent-index,compliance",
    ]);
    let rules = rules_of(&run);
    assert!(
        !rules
            .iter()
            .any(|r| r == "require-concurrent-index" || r.starts_with("pii-")),
        "{rules:?}"
    );
}

#[test]
fn unknown_rule_names_in_config_are_errors_with_a_suggestion() {
    let project = LintProject::new(&[
        (
            "db/environments/local.yaml",
            "linting:\n  rules:\n    security:\n      warn_plain_txt_pii: true\n",
        ),
        ("db/schema/10_users.sql", USERS),
    ]);
    let run = project.lint(&[]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("db/environments/local.yaml:4: linting.rules.security: unknown rule `warn_plain_txt_pii`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("did you mean `warn_plain_text_pii`?"),
        "{}",
        run.stderr
    );

    project.write("db/environments/local.yaml", "linting:\n  rule: {}\n");
    let run = project.lint(&[]);
    assert_eq!(run.code, 5);
    assert!(
        run.stderr.contains("unknown key `linting.rule`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("did you mean `rules`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn suppressions_statement_file_and_unknown() {
    let project = LintProject::new(&[(
        "db/schema/a.sql",
        "-- confiture-lint: disable-file=timestamp-columns\n\
         -- confiture-lint: disable=require-primary-key\n\
         CREATE TABLE a (id bigint);\n\
         CREATE TABLE b (id bigint);\n\
         -- confiture-lint: disable=prefer-jsonn\n\
         CREATE TABLE c (id bigint PRIMARY KEY, doc json);\n",
    )]);
    let run = project.lint(&["--format", "json"]);
    let doc = run.json();
    let findings = doc["findings"].as_array().unwrap();
    let at = |rule: &str| -> Vec<u64> {
        findings
            .iter()
            .filter(|f| f["rule"] == rule)
            .map(|f| f["location"]["line"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(at("require-primary-key"), vec![4], "only b: {findings:#?}");
    assert!(at("timestamp-columns").is_empty());
    assert_eq!(at("unknown-suppression"), vec![5]);
    assert_eq!(at("prefer-jsonb"), vec![6]);
    let unknown = findings
        .iter()
        .find(|f| f["rule"] == "unknown-suppression")
        .unwrap();
    assert_eq!(unknown["suggestion"], "did you mean `prefer-jsonb`?");
    assert!(doc["summary"]["suppressed"].as_u64().unwrap() >= 4);
}

#[test]
fn unparseable_statements_are_reported_and_the_rest_is_linted() {
    let project = LintProject::new(&[(
        "db/schema/a.sql",
        "CREATE TABLE a (id bigint PRIMARY KEY, doc json, created_at timestamptz, \
         updated_at timestamptz);\n\
         CREATE FROBNICATOR nonsense WITH y;\n\
         CREATE TABLE b (id bigint, created_at timestamptz, updated_at timestamptz);\n",
    )]);
    let run = project.lint(&["--format", "json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let doc = run.json();
    let findings = doc["findings"].as_array().unwrap();
    let unparsed: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["rule"] == "unparsed")
        .collect();
    assert_eq!(unparsed.len(), 1, "{findings:#?}");
    assert_eq!(unparsed[0]["severity"], "info");
    assert_eq!(unparsed[0]["location"]["line"], 2);
    assert!(findings.iter().any(|f| f["rule"] == "prefer-jsonb"));
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "require-primary-key" && f["location"]["line"] == 3)
    );
}

#[test]
fn list_rules_shows_every_rule_with_the_configured_state() {
    let project = LintProject::new(&[(
        "db/environments/local.yaml",
        "linting:\n  rules:\n    truncate: off\n    drop-column: warning\n",
    )]);
    let run = project.lint(&["--list-rules", "--format", "json"]);
    assert_eq!(run.code, 0);
    let doc = run.json();
    let rules = doc["rules"].as_array().unwrap();
    assert!(rules.len() >= 40);
    let get = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap().clone();
    assert_eq!(get("truncate")["enabled"], false);
    assert_eq!(get("drop-column")["severity"], "warning");
    assert_eq!(get("drop-column")["default_severity"], "critical");
    let text = project.lint(&["--list-rules"]);
    assert!(text.stdout.contains("fk-without-index"), "{}", text.stdout);
}

#[test]
fn a_lone_file_outside_a_project_can_be_linted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.sql"), "CREATE TABLE t (id int);\n").unwrap();
    let run = crate::harness::Run::from(
        crate::harness::confiture_command(dir.path(), &["lint", "x.sql", "--format", "json"])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["files"][0], "x.sql");
}
