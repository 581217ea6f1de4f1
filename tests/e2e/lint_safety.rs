//! `confiture lint` fails CI by default on the migrations that block a busy table: each
//! hazard alone in a migration makes the run exit 1 with a critical finding, and its safe form
//! on the same schema passes (so the check can fail both ways). An unclosed quote or comment
//! fails it too.

use crate::lint_output::LintProject;

/// A schema with no finding at or above critical: two tables, one without a primary key.
const SCHEMA: &str = "CREATE TABLE owners (\n  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n  \
                      created_at timestamptz NOT NULL DEFAULT now(),\n  \
                      updated_at timestamptz NOT NULL DEFAULT now()\n);\n\
                      CREATE TABLE accounts (\n  id bigint NOT NULL,\n  owner_id bigint,\n  \
                      code text NOT NULL,\n  n int,\n  \
                      created_at timestamptz NOT NULL DEFAULT now(),\n  \
                      updated_at timestamptz NOT NULL DEFAULT now()\n);\n";

const NO_TRANSACTION: &str = "-- confiture: no-transaction\n";

/// Lints a project with [`SCHEMA`] and `migration` as its only migration (JSON output).
fn lint(migration: &str) -> (i32, serde_json::Value) {
    let project = LintProject::new(&[
        ("db/schema/10_tables.sql", SCHEMA),
        ("db/migrations/20250101000000_change.up.sql", migration),
    ]);
    let run = project.lint(&["--format", "json"]);
    (run.code, run.json())
}

#[test]
fn blocking_migrations_fail_by_default_and_their_safe_forms_pass() {
    let hazards = [
        (
            "require-concurrent-index",
            "CREATE INDEX accounts_code_idx ON accounts (code);\n".to_string(),
            format!(
                "{NO_TRANSACTION}CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_code_idx \
                 ON accounts (code);\n"
            ),
        ),
        (
            "constraint-missing-not-valid",
            "ALTER TABLE accounts ADD CONSTRAINT accounts_owner_fk FOREIGN KEY (owner_id) \
             REFERENCES owners (id);\n"
                .to_string(),
            "ALTER TABLE accounts ADD CONSTRAINT accounts_owner_fk FOREIGN KEY (owner_id) \
             REFERENCES owners (id) NOT VALID;\n"
                .to_string(),
        ),
        (
            "constraint-missing-not-valid",
            "ALTER TABLE accounts ADD CONSTRAINT accounts_n_positive CHECK (n > 0);\n".to_string(),
            "ALTER TABLE accounts ADD CONSTRAINT accounts_n_positive CHECK (n > 0) NOT VALID;\n"
                .to_string(),
        ),
        (
            "adding-unique-constraint",
            "ALTER TABLE accounts ADD CONSTRAINT accounts_code_key UNIQUE (code);\n".to_string(),
            format!(
                "{NO_TRANSACTION}CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \
                 accounts_code_key_idx ON accounts (code);\n"
            ),
        ),
        (
            "adding-primary-key",
            "ALTER TABLE accounts ADD PRIMARY KEY (id);\n".to_string(),
            format!(
                "{NO_TRANSACTION}CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \
                 accounts_pkey_idx ON accounts (id);\n"
            ),
        ),
        (
            "volatile-default",
            "ALTER TABLE accounts ADD COLUMN token uuid DEFAULT gen_random_uuid();\n".to_string(),
            "ALTER TABLE accounts ADD COLUMN region text DEFAULT 'eu';\n".to_string(),
        ),
        (
            "changing-column-type",
            "ALTER TABLE accounts ALTER COLUMN n TYPE bigint;\n".to_string(),
            "ALTER TABLE accounts ADD COLUMN n_big bigint;\n".to_string(),
        ),
        (
            "unterminated",
            "ALTER TABLE accounts ADD COLUMN note text;\nCOMMENT ON TABLE accounts IS 'open;\n"
                .to_string(),
            "ALTER TABLE accounts ADD COLUMN note text;\nCOMMENT ON TABLE accounts IS 'closed';\n"
                .to_string(),
        ),
    ];
    for (rule, hazard, safe) in &hazards {
        let (code, doc) = lint(hazard);
        let findings = doc["findings"].as_array().expect("findings");
        let finding = findings
            .iter()
            .find(|f| f["rule"] == *rule)
            .unwrap_or_else(|| panic!("{rule} reports `{hazard}`: {findings:#?}"));
        assert_eq!(finding["severity"], "critical", "{rule}: `{hazard}`");
        assert_eq!(
            finding["location"]["file"],
            "db/migrations/20250101000000_change.up.sql"
        );
        assert_eq!(code, 1, "{rule}: `{hazard}` fails the run: {doc:#}");
        assert_eq!(doc["failed"], true);

        let (code, doc) = lint(safe);
        assert_eq!(code, 0, "the safe form `{safe}` passes: {doc:#}");
        assert_eq!(doc["failed"], false);
        assert!(
            !doc["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .any(|f| f["rule"] == *rule && f["severity"] != "info"),
            "{rule}: `{safe}`: {doc:#}"
        );
    }

    // An unclosed construct is reported where it opens, not where the file ends.
    let (_, doc) = lint("SELECT 1;\n\nCREATE FUNCTION f() RETURNS int AS $body$ SELECT 1;\n\n");
    let open = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "unterminated");
    assert_eq!(
        open.map(|f| f["location"]["line"].clone()),
        Some(3.into()),
        "{doc:#}"
    );

    // The same hazards on a table the migration creates itself: new and empty, nothing fails.
    let (code, doc) = lint(
        "CREATE TABLE fresh (id bigint NOT NULL, code text NOT NULL);\n\
         CREATE INDEX fresh_code_idx ON fresh (code);\n\
         ALTER TABLE fresh ADD PRIMARY KEY (id);\n\
         ALTER TABLE fresh ADD CONSTRAINT fresh_code_key UNIQUE (code);\n",
    );
    assert_eq!(code, 0, "{doc:#}");
}
