//! `migrate up`, `generate`, dry runs, confirmations and upstream-table compatibility.

use crate::harness::TestProject;

/// Rewrites the project's `local.yaml` with its database URL plus `extra` YAML lines.
pub fn set_env(p: &TestProject, extra: &str) {
    p.write(
        "db/environments/local.yaml",
        &format!("database_url: {}\n{extra}", p.db.url),
    );
}

/// Two reversible migrations creating `users` and `posts`.
pub fn two_migrations(p: &TestProject) {
    p.write(
        "db/migrations/001_users.up.sql",
        "CREATE TABLE users (id int PRIMARY KEY);\nINSERT INTO users VALUES (1);\n",
    );
    p.write("db/migrations/001_users.down.sql", "DROP TABLE users;\n");
    p.write(
        "db/migrations/002_posts.up.sql",
        "CREATE TABLE posts (id int, user_id int REFERENCES users);\n",
    );
    p.write("db/migrations/002_posts.down.sql", "DROP TABLE posts;\n");
}

/// How many tracking rows there are.
pub fn tracked(p: &TestProject) -> usize {
    p.db.scalar("SELECT count(*)::text FROM tb_confiture")
        .unwrap()
        .parse()
        .unwrap()
}

/// True when the relation exists.
pub fn exists(p: &TestProject, relation: &str) -> bool {
    p.db.scalar(&format!(
        "SELECT (to_regclass('{relation}') IS NOT NULL)::text"
    ))
    .as_deref()
        == Some("true")
}

#[test]
fn up_status_down_up_cycle() {
    let p = TestProject::new();
    two_migrations(&p);
    let run = p.run(&["migrate", "up", "--format", "json"]);
    run.ok();
    let json = run.json();
    assert_eq!(json["applied"].as_array().unwrap().len(), 2, "{json}");
    assert_eq!(json["applied"][0]["version"], "001");
    assert_eq!(json["applied"][1]["name"], "posts");
    assert!(json["applied"][0]["duration_ms"].is_u64());
    assert!(
        json["database"]
            .as_str()
            .unwrap()
            .starts_with("postgresql://")
    );
    assert!(json["database_source"].is_object());
    assert!(exists(&p, "posts"));
    assert_eq!(
        p.db.scalar(
            "SELECT (slug ~ '^users_001_[0-9]{8}_[0-9]{6}$') || ' ' || length(checksum) || ' ' \
             || (applied_by = current_user) || ' ' || (applied_by_identity IS NOT NULL) \
             FROM tb_confiture WHERE version = '001'"
        ),
        Some("true 64 true true".into())
    );

    let status = p.run(&["migrate", "status", "--format", "json"]).json();
    let states: Vec<&str> = status["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["applied", "applied"]);
    assert!(status["migrations"][0]["applied_at"].is_string());

    let down = p.run(&["migrate", "down", "--format", "json"]);
    down.ok();
    assert_eq!(down.json()["rolled_back"][0]["version"], "002");
    assert!(!exists(&p, "posts") && exists(&p, "users"));
    assert_eq!(tracked(&p), 1);

    let text = p.run(&["migrate", "status"]);
    text.exits(1);
    assert!(text.stdout.contains("pending"), "{}", text.stdout);
    assert!(text.stdout.contains("002_posts"), "{}", text.stdout);

    let again = p.run(&["migrate", "up"]);
    again.ok();
    assert!(again.stdout.contains("002_posts"), "{}", again.stdout);
    assert!(
        again.stdout.contains("Applied 1 migration(s)"),
        "{}",
        again.stdout
    );
    let noop = p.run(&["migrate", "up"]);
    noop.ok();
    assert!(noop.stdout.contains("up to date"), "{}", noop.stdout);
    assert_eq!(tracked(&p), 2);
}

#[test]
fn target_applies_up_to_a_version_and_unknown_is_a_config_error() {
    let p = TestProject::new();
    two_migrations(&p);
    p.run(&["migrate", "up", "--target", "001"]).ok();
    assert!(exists(&p, "users") && !exists(&p, "posts"));
    assert_eq!(p.run(&["migrate", "up", "--target", "7"]).code, 5);
    assert_eq!(tracked(&p), 1);
}

#[test]
fn generate_creates_timestamped_pair_and_validates_the_name() {
    let p = TestProject::new();
    let run = p.run(&["migrate", "generate", "Add_Email", "--format", "json"]);
    run.ok();
    let json = run.json();
    let version = json["version"].as_str().unwrap();
    assert_eq!(version.len(), 14, "{json}");
    assert_eq!(json["name"], "add_email");
    for ext in ["up", "down"] {
        let path = p
            .root()
            .join(format!("db/migrations/{version}_add_email.{ext}.sql"));
        assert!(path.is_file(), "{}", path.display());
    }
    assert_eq!(p.run(&["migrate", "generate", "bad;name"]).code, 5);
    // The generated template is only comments: it cannot be applied (nor recorded) until the
    // author adds the SQL.
    let up = p.run(&["migrate", "up"]);
    assert_eq!(up.code, 5, "{up:?}");
    assert!(
        up.stderr.contains(&format!(
            "edit db/migrations/{version}_add_email.up.sql and add the SQL"
        )),
        "{}",
        up.stderr
    );
    assert!(!exists(&p, "tb_confiture"), "nothing is recorded");
}

#[test]
fn dry_run_prints_the_plan_and_creates_nothing() {
    let p = TestProject::new();
    two_migrations(&p);
    let run = p.run(&["migrate", "up", "--dry-run", "--format", "json"]);
    run.ok();
    let json = run.json();
    assert_eq!(json["mode"], "dry_run");
    assert_eq!(json["not_run"].as_array().unwrap().len(), 2);
    assert!(!exists(&p, "tb_confiture") && !exists(&p, "users"));
    let text = p.run(&["migrate", "up", "--dry-run"]);
    assert!(text.stdout.contains("would apply 2"), "{}", text.stdout);
}

#[test]
fn dry_run_execute_runs_reports_times_and_leaves_nothing() {
    let p = TestProject::new();
    two_migrations(&p);
    p.write(
        "db/migrations/003_idx.up.sql",
        "-- confiture: no-transaction\nCREATE INDEX CONCURRENTLY posts_user ON posts (user_id);\n",
    );
    let run = p.run(&["migrate", "up", "--dry-run-execute", "--format", "json"]);
    run.ok();
    let json = run.json();
    assert_eq!(json["mode"], "dry_run_execute");
    assert_eq!(json["applied"].as_array().unwrap().len(), 2, "{json}");
    assert!(json["applied"][1]["duration_ms"].is_u64());
    assert_eq!(json["skipped"][0]["version"], "003");
    assert!(!exists(&p, "tb_confiture") && !exists(&p, "users"));

    // A failure is reported, and still nothing is left behind.
    p.write(
        "db/migrations/002_posts.up.sql",
        "CREATE TABLE posts (x nope_type);\n",
    );
    let run = p.run(&["migrate", "up", "--dry-run-execute", "--format", "json"]);
    assert_eq!(run.code, 1);
    let json = run.json();
    assert_eq!(json["failure"]["version"], "002", "{json}");
    assert_eq!(json["failure"]["error"]["sqlstate"], "42704");
    assert!(!exists(&p, "tb_confiture") && !exists(&p, "users"));
}

#[test]
fn confirmation_refused_without_terminal_unless_yes() {
    let p = TestProject::new();
    two_migrations(&p);
    let run = p.run(&["migrate", "up", "--require-confirmation"]);
    assert_eq!(run.code, 7, "{run:?}");
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    assert!(!exists(&p, "users"));
    p.run(&["migrate", "up", "--require-confirmation", "--yes"])
        .ok();
    assert!(exists(&p, "posts"));
}

#[test]
fn protected_environment_asks_the_same_way() {
    let p = TestProject::new();
    two_migrations(&p);
    set_env(&p, "protected: true\n");
    let run = p.run(&["migrate", "up", "--format", "json"]);
    assert_eq!(run.code, 7, "{run:?}");
    assert_eq!(run.json()["error"]["exit_code"], 7);
    assert!(!exists(&p, "users"));
    p.run(&["migrate", "up", "--yes"]).ok();
    assert!(exists(&p, "posts"));
}

#[test]
fn upstream_tracking_table_is_accepted_and_upgraded() {
    let p = TestProject::new();
    two_migrations(&p);
    let up = std::fs::read(p.root().join("db/migrations/001_users.up.sql")).unwrap();
    let checksum = confiture::migrate::files::sha256_hex(&up);
    let mut c = p.db.client();
    c.batch_execute(&format!(
        "CREATE TABLE users (id int PRIMARY KEY);
         CREATE TABLE tb_confiture (
             id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
             pk_confiture BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
             slug TEXT NOT NULL UNIQUE,
             version VARCHAR(255) NOT NULL UNIQUE,
             name VARCHAR(255) NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
             execution_time_ms INTEGER,
             checksum VARCHAR(64));
         INSERT INTO tb_confiture (slug, version, name, execution_time_ms, checksum)
         VALUES ('001_users', '001', 'users', 5, '{checksum}');"
    ))
    .unwrap();
    let status = p.run(&["migrate", "status", "--format", "json"]).json();
    assert_eq!(status["migrations"][0]["state"], "applied", "{status}");
    assert_eq!(status["migrations"][1]["state"], "pending");
    let run = p.run(&["migrate", "up", "--format", "json"]);
    run.ok();
    assert_eq!(run.json()["applied"].as_array().unwrap().len(), 1);
    assert_eq!(
        p.db.scalar(
            "SELECT (applied_by = current_user AND applied_by_identity IS NOT NULL \
                     AND archived_into IS NULL)::text FROM tb_confiture WHERE version = '002'"
        ),
        Some("true".into())
    );
    assert_eq!(
        p.db.scalar("SELECT coalesce(applied_by, 'null') FROM tb_confiture WHERE version = '001'"),
        Some("null".into())
    );
}

#[test]
fn applied_by_comes_from_confiture_user() {
    let p = TestProject::new();
    two_migrations(&p);
    let out = p
        .command(&["migrate", "up"])
        .env("CONFITURE_USER", "release-bot")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        p.db.scalar(
            "SELECT string_agg(DISTINCT applied_by_identity || ' as ' \
             || (applied_by = current_user), ',') FROM tb_confiture"
        ),
        Some("release-bot as true".into())
    );
}

#[test]
fn no_transaction_create_index_concurrently_applies() {
    let p = TestProject::new();
    two_migrations(&p);
    p.write(
        "db/migrations/003_idx.up.sql",
        "-- confiture: no-transaction\nCREATE INDEX CONCURRENTLY posts_user ON posts (user_id);\n\
         CREATE INDEX CONCURRENTLY users_id ON users (id);\n",
    );
    let run = p.run(&["migrate", "up"]);
    run.ok();
    assert!(exists(&p, "posts_user") && exists(&p, "users_id"));
    assert_eq!(tracked(&p), 3);
    assert_eq!(
        p.db.scalar(
            "SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'posts_user'::regclass"
        ),
        Some("true".into())
    );
}

#[test]
fn schema_qualified_tracking_table() {
    let p = TestProject::new();
    two_migrations(&p);
    set_env(&p, "migrations_table: ops.ledger\n");
    p.run(&["migrate", "up"]).ok();
    assert_eq!(
        p.db.scalar("SELECT count(*)::text FROM ops.ledger"),
        Some("2".into())
    );
    assert!(!exists(&p, "tb_confiture"));
    let status = p.run(&["migrate", "status", "--format", "json"]).json();
    assert_eq!(status["table"], "ops.ledger");
    assert_eq!(status["counts"]["applied"], 2);
}
