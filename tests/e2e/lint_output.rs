//! `confiture lint` through the real binary: each output format, `--output`, exit codes.
//! Linting reads files only, so these projects have no database.

use std::path::Path;

use crate::harness::{Run, confiture_command};

/// A project directory (no database) with `files` written under it.
pub struct LintProject {
    dir: tempfile::TempDir,
}

impl LintProject {
    /// A project with `db/schema/`, `db/migrations/` and the given files.
    pub fn new(files: &[(&str, &str)]) -> LintProject {
        let project = LintProject {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        for dir in ["db/schema", "db/migrations", "db/environments"] {
            std::fs::create_dir_all(project.root().join(dir)).expect("create dirs");
        }
        for (path, text) in files {
            project.write(path, text);
        }
        project
    }

    /// The project directory.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file under the project.
    pub fn write(&self, path: &str, text: &str) {
        let path = self.root().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create parent");
        std::fs::write(path, text).expect("write");
    }

    /// Runs `confiture lint ARGS` in the project.
    pub fn lint(&self, args: &[&str]) -> Run {
        let mut all = vec!["lint"];
        all.extend_from_slice(args);
        Run::from(
            confiture_command(self.root(), &all)
                .output()
                .expect("run confiture"),
        )
    }
}

/// A schema with findings of every severity, and a migration with a critical one.
pub const USERS: &str = "CREATE TABLE users (\n  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n  \
                         email text NOT NULL,\n  password text,\n  created_at timestamptz,\n  \
                         updated_at timestamptz\n);\n";
/// A migration building an index without CONCURRENTLY.
pub const INDEX_MIGRATION: &str = "CREATE INDEX users_email_idx ON users (email);\n";

fn standard() -> LintProject {
    LintProject::new(&[
        ("db/schema/10_users.sql", USERS),
        (
            "db/migrations/20250101000000_email_index.up.sql",
            INDEX_MIGRATION,
        ),
    ])
}

#[test]
fn text_is_grouped_by_file_with_positions_and_a_summary() {
    let run = standard().lint(&[]);
    assert_eq!(
        run.code, 1,
        "critical findings fail\n{}{}",
        run.stdout, run.stderr
    );
    let out = &run.stdout;
    let schema_at = out.find("\ndb/schema/10_users.sql\n").expect(out);
    let migration_at = out
        .find("db/migrations/20250101000000_email_index.up.sql\n")
        .expect(out);
    assert!(migration_at < schema_at, "files in path order:\n{out}");
    assert!(
        out.contains("db/schema/10_users.sql:4:3  critical  password-not-hashed"),
        "{out}"
    );
    assert!(out.contains("      help: "), "{out}");
    assert!(
        out.contains("fix:  CREATE INDEX CONCURRENTLY users_email_idx ON users (email);"),
        "{out}"
    );
    let summary = out.lines().last().unwrap();
    assert!(
        summary.starts_with("✗ failed: findings at or above critical"),
        "{summary}"
    );
    assert!(summary.contains("2 critical"), "{summary}");
    assert!(!out.contains('\u{1b}'), "NO_COLOR: no escape codes");
}

#[test]
fn json_has_a_versioned_stable_shape() {
    let run = standard().lint(&["--format", "json"]);
    assert_eq!(run.code, 1);
    let doc = run.json();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["fail_level"], "critical");
    assert_eq!(doc["failed"], true);
    assert_eq!(doc["files"].as_array().unwrap().len(), 2);
    let findings = doc["findings"].as_array().unwrap();
    let password = findings
        .iter()
        .find(|f| f["rule"] == "password-not-hashed")
        .expect("password finding");
    assert_eq!(password["severity"], "critical");
    assert_eq!(password["category"], "security");
    assert_eq!(password["location"]["file"], "db/schema/10_users.sql");
    assert_eq!(password["location"]["line"], 4);
    assert_eq!(password["location"]["column"], 3);
    assert!(password["suggestion"].is_string());
    let counted = ["critical", "warning", "info"]
        .iter()
        .map(|k| doc["summary"][k].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(counted as usize, findings.len());
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let run = standard().lint(&["--format", "sarif"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let log = run.json();
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/sarif-schema-2.1.0.json"))
            .expect("schema is JSON");
    let validator = jsonschema::draft4::new(&schema).expect("a valid draft-04 schema");
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF errors: {errors:#?}");

    let run0 = &log["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().any(|r| {
        r["id"] == "require-concurrent-index"
            && r["help"]["text"]
                .as_str()
                .unwrap()
                .contains("blocks every write")
    }));
    let result = run0["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "require-concurrent-index")
        .expect("index result");
    assert_eq!(
        result["level"], "error",
        "an index build blocking writes fails CI"
    );
    let index = result["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[index]["id"], "require-concurrent-index");
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "db/migrations/20250101000000_email_index.up.sql"
    );
    assert_eq!(location["region"]["startLine"], 1);
    assert_eq!(location["region"]["startColumn"], 1);

    // The validator catches a broken log (so the check above could fail).
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&broken));
}

#[test]
fn github_annotations() {
    let run = standard().lint(&["--format", "github"]);
    assert_eq!(run.code, 1);
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains("title=require-concurrent-index"))
        .expect(&run.stdout);
    assert!(
        line.starts_with(
            "::error file=db/migrations/20250101000000_email_index.up.sql,line=1,col=1,\
             title=require-concurrent-index (critical)::CREATE INDEX without CONCURRENTLY locks \
             writes"
        ),
        "{line}"
    );
    assert!(line.contains("%0Afix: CREATE INDEX CONCURRENTLY"), "{line}");
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("::warning file=db/schema/10_users.sql,")),
        "{}",
        run.stdout
    );
}

#[test]
fn output_file_receives_the_report() {
    let project = standard();
    let run = project.lint(&["--format", "json", "--output", "report.json"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(run.stderr.contains("report.json"), "{}", run.stderr);
    let text = std::fs::read_to_string(project.root().join("report.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["version"], 1);
}

#[test]
fn exit_codes_follow_the_fail_level() {
    // Only warnings: passes at the default fail level, fails at `warning`.
    let project = LintProject::new(&[(
        "db/schema/a.sql",
        "CREATE TABLE a (id bigint PRIMARY KEY, doc json, created_at timestamptz, \
         updated_at timestamptz);\n",
    )]);
    let run = project.lint(&[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("prefer-jsonb"), "{}", run.stdout);
    assert!(run.stdout.contains("✓ passed"), "{}", run.stdout);
    assert_eq!(project.lint(&["--fail-level", "warning"]).code, 1);
    assert_eq!(project.lint(&["--fail-level", "loud"]).code, 5);
    assert_eq!(project.lint(&["no/such/dir"]).code, 5);
}

#[test]
fn sarif_and_github_formats_are_refused_by_other_commands() {
    let project = standard();
    let run = Run::from(
        confiture_command(project.root(), &["migrate", "status", "--format", "sarif"])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 5);
    assert!(
        run.stderr.contains("only for `confiture lint`"),
        "{}",
        run.stderr
    );
}

/// Hostile names — a file name with a newline and a workflow command, an identifier with an
/// escape sequence — reach no output raw: the text report has no control character, GitHub
/// output no line a name could start, and SARIF stays valid with relative, encoded URIs.
#[test]
fn hostile_file_names_and_identifiers_are_neutralised_in_every_format() {
    let file = "db/schema/a\n::add-mask::b.sql";
    let project = LintProject::new(&[(
        file,
        "CREATE TABLE \"\x1b]0;pwned\x07\" (id int, password text);\n",
    )]);
    let text = project.lint(&[]);
    assert!(!text.stdout.contains('\x1b'), "{:?}", text.stdout);
    assert!(!text.stdout.contains('\x07'), "{:?}", text.stdout);
    assert!(
        text.stdout
            .lines()
            .all(|l| !l.trim_start().starts_with("::")),
        "{:?}",
        text.stdout
    );
    assert!(
        text.stdout.contains("\\x1b]0;pwned\\x07"),
        "{:?}",
        text.stdout
    );

    let github = project.lint(&["--format", "github"]);
    assert!(!github.stdout.contains('\x1b'), "{:?}", github.stdout);
    assert!(
        github
            .stdout
            .lines()
            .all(|l| !l.starts_with("::add-mask::")),
        "{:?}",
        github.stdout
    );

    let sarif = project.lint(&["--format", "sarif"]).json();
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::draft4::new(&schema).unwrap();
    assert!(validator.is_valid(&sarif), "{sarif:#}");
    for result in sarif["runs"][0]["results"].as_array().unwrap() {
        let location = &result["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"].as_str().unwrap();
        assert!(!uri.contains('\n') && !uri.starts_with('/'), "{uri}");
        assert!(uri == "db/schema/a%0A%3A%3Aadd-mask%3A%3Ab.sql", "{uri}");
        assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
    }
}
