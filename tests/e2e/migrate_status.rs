//! `migrate status`, `verify` and `baseline`.

use crate::harness::TestProject;
use crate::migrate_up::{exists, tracked, two_migrations};

#[test]
fn status_without_tracking_table_lists_everything_pending() {
    let p = TestProject::new();
    two_migrations(&p);
    let run = p.run(&["migrate", "status", "--format", "json"]);
    run.exits(2);
    let json = run.json();
    assert_eq!(json["tracking_table_exists"], false);
    assert_eq!(json["counts"]["pending"], 2);
    assert_eq!(json["migrations"][1]["state"], "pending");
    assert_eq!(json["table"], "tb_confiture");
    assert!(json["database"].as_str().unwrap().contains(&p.db.name));
    assert!(!exists(&p, "tb_confiture"), "status creates nothing");
}

#[test]
fn verify_reports_ok_changed_and_missing() {
    let p = TestProject::new();
    two_migrations(&p);
    p.run(&["migrate", "up"]).ok();
    let ok = p.run(&["migrate", "verify", "--format", "json"]);
    ok.ok();
    assert_eq!(ok.json()["ok"], true);

    p.write(
        "db/migrations/001_users.up.sql",
        "CREATE TABLE users (id int PRIMARY KEY); -- edited\n",
    );
    std::fs::remove_file(p.root().join("db/migrations/002_posts.up.sql")).unwrap();
    std::fs::remove_file(p.root().join("db/migrations/002_posts.down.sql")).unwrap();
    let drift = p.run(&["migrate", "verify", "--format", "json"]);
    assert_eq!(drift.code, 1);
    let json = drift.json();
    assert_eq!(json["ok"], false);
    assert_eq!(json["changed"][0]["version"], "001", "{json}");
    assert_eq!(json["missing"][0]["version"], "002");
    let text = p.run(&["migrate", "verify"]);
    assert_eq!(text.code, 1);
    assert!(text.stdout.contains("changed 001_users"), "{}", text.stdout);
    assert!(text.stdout.contains("missing 002_posts"), "{}", text.stdout);

    // `up` warns about the missing file but goes on.
    p.write(
        "db/migrations/001_users.up.sql",
        "CREATE TABLE users (id int PRIMARY KEY);\nINSERT INTO users VALUES (1);\n",
    );
    let up = p.run(&["migrate", "up"]);
    up.ok();
    assert!(up.stderr.contains("002_posts"), "{}", up.stderr);
}

#[test]
fn verify_run_checks_each_verify_file() {
    let p = TestProject::new();
    two_migrations(&p);
    p.write(
        "db/migrations/001_users.verify.sql",
        "-- the seed row is there\nSELECT count(*) = 1 FROM users;\n",
    );
    p.run(&["migrate", "up"]).ok();
    let run = p.run(&["migrate", "verify", "--run", "--format", "json"]);
    run.ok();
    let json = run.json();
    assert_eq!(json["verified"][0]["ok"], true, "{json}");

    p.db.client()
        .batch_execute("INSERT INTO users VALUES (2)")
        .unwrap();
    let run = p.run(&["migrate", "verify", "--run"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("db/migrations/001_users.verify.sql: returned false"),
        "{}",
        run.stdout
    );

    p.write(
        "db/migrations/001_users.verify.sql",
        "SELECT NULL::boolean;\n",
    );
    // Editing the verify file is not drift; NULL is a failure.
    let run = p.run(&["migrate", "verify", "--run", "--format", "json"]);
    assert_eq!(run.code, 1);
    assert!(
        run.json()["verified"][0]["error"]
            .as_str()
            .unwrap()
            .contains("NULL")
    );
}

#[test]
fn baseline_marks_migrations_applied_without_running_them() {
    let p = TestProject::new();
    two_migrations(&p);
    p.write(
        "db/migrations/003_tags.up.sql",
        "CREATE TABLE tags (id int);\n",
    );
    let run = p.run(&[
        "migrate",
        "baseline",
        "--through",
        "002",
        "--format",
        "json",
    ]);
    run.ok();
    assert_eq!(run.json()["recorded"].as_array().unwrap().len(), 2);
    assert!(!exists(&p, "users"), "baseline runs nothing");
    assert_eq!(tracked(&p), 2);
    assert_eq!(
        p.db.scalar(
            "SELECT string_agg((slug ~ ('^' || name || '_' || version || '_[0-9_]{15}_baseline$')) \
             || ' ' || (checksum IS NOT NULL), ',' ORDER BY version) FROM tb_confiture"
        ),
        Some("true true,true true".into()),
        "upstream's slug and the file's checksum"
    );
    assert_eq!(p.run(&["migrate", "baseline", "--through", "9"]).code, 5);
    p.run(&["migrate", "up"]).ok();
    assert!(exists(&p, "tags") && !exists(&p, "users"));
    assert_eq!(tracked(&p), 3);
}

#[test]
fn status_shows_the_risk_of_pending_migrations() {
    let p = TestProject::new();
    p.write(
        "db/migrations/001_users.up.sql",
        "CREATE TABLE users (id int PRIMARY KEY, email text);\n",
    );
    p.write(
        "db/migrations/002_index.up.sql",
        "SET lock_timeout = '5s';\nCREATE INDEX users_email ON users (email);\n",
    );
    let run = p.run(&["migrate", "status", "--format", "json"]);
    run.exits(2);
    let json = run.json();
    assert_eq!(json["migrations"][0]["risk"], "low", "{json}");
    assert_eq!(json["migrations"][1]["risk"], "high", "{json}");
    let reason = json["migrations"][1]["risk_reasons"][0].as_str().unwrap();
    assert!(
        reason.contains("CONCURRENTLY") && reason.ends_with("(line 2)"),
        "{reason}"
    );
    assert_eq!(json["migrations"][1]["state"], "pending");
    let dry = p.run(&["migrate", "up", "--dry-run", "--format", "json"]);
    dry.ok();
    assert_eq!(dry.json()["not_run"][1]["risk"], "high", "{}", dry.json());
    let text = p.run(&["migrate", "status"]);
    assert!(
        text.stdout
            .contains("HIGH: CREATE INDEX without CONCURRENTLY"),
        "{}",
        text.stdout
    );
}

#[test]
fn status_classifies_for_the_servers_version_unless_one_is_set() {
    let p = TestProject::new();
    p.write(
        "db/migrations/001_users.up.sql",
        "CREATE TABLE users (id int PRIMARY KEY);\n",
    );
    p.write(
        "db/migrations/002_plan.up.sql",
        "ALTER TABLE users ADD COLUMN plan text DEFAULT 'free';\n",
    );
    let major: u32 =
        p.db.scalar("SELECT (current_setting('server_version_num')::int / 10000)::text")
            .unwrap()
            .parse()
            .unwrap();
    assert!(major >= 11, "the test server is PostgreSQL {major}");
    let risk = |p: &TestProject| {
        let run = p.run(&["migrate", "status", "--format", "json"]);
        run.exits(2);
        let json = run.json();
        (
            json["migrations"][1]["risk"].as_str().unwrap().to_string(),
            json["migrations"][1]["risk_reasons"].to_string(),
        )
    };
    let lint_version = |p: &TestProject| {
        let run = p.run(&["lint", "--format", "json"]);
        run.json()["postgres_version"].as_u64()
    };
    // No setting: status uses the server's version (a constant default is instant from 11);
    // lint, which never connects, says it assumed 15.
    assert_eq!(risk(&p).0, "low");
    assert_eq!(lint_version(&p), Some(15));
    let lint = p.run(&["lint"]);
    assert!(
        lint.stdout.contains("rules, PostgreSQL 15, "),
        "{}",
        lint.stdout
    );

    // Set to 10: the same file rewrites the table, in status, the dry run and lint alike.
    crate::migrate_up::set_env(&p, "linting:\n  postgres_version: 10\n");
    let (level, reasons) = risk(&p);
    assert_eq!(level, "critical", "{reasons}");
    assert!(
        reasons.contains("rewrites the whole table before PostgreSQL 11 (version assumed: 10)"),
        "{reasons}"
    );
    let dry = p.run(&["migrate", "up", "--dry-run", "--format", "json"]);
    dry.ok();
    assert_eq!(
        dry.json()["not_run"][1]["risk"],
        "critical",
        "{}",
        dry.json()
    );
    assert_eq!(lint_version(&p), Some(10));
    let sarif = p.run(&["lint", "--format", "sarif"]).json();
    assert_eq!(
        sarif["runs"][0]["properties"]["postgresVersion"], 10,
        "{sarif}"
    );
}
