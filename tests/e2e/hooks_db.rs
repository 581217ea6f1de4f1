//! Hooks and the database: grants enforced on the migration's own transaction; a `db-read`
//! hook cannot leave a write behind; an ungranted query is refused; `db-write` writes stay in
//! (and roll back with) the migration; the email-not-null example blocks a bad migration.

use crate::hooks_support::{RECORDER, exists, project_with, recorded, tracked};

fn count(p: &crate::harness::TestProject, sql: &str) -> i64 {
    p.db.scalar(sql).unwrap().parse().unwrap()
}

/// One migration creating `audit`; the recorder runs `config` on per-migration events.
fn audit_project(grant: &str, config: &str, policy: &str) -> crate::harness::TestProject {
    let p = project_with(
        &[RECORDER],
        &format!(
            "plugins:\n  hook-recorder:\n{grant}    config:\n{config}\
             hooks:\n  plugins:\n    hook-recorder:\n      policy: {policy}\n      events: [post-execute]\n"
        ),
    );
    p.write(
        "db/migrations/001_audit.up.sql",
        "CREATE TABLE audit (id int);\n",
    );
    p
}

#[test]
fn a_db_read_hook_that_tries_to_write_leaves_nothing() {
    // `query` of a write under db-read runs in a read-only savepoint; `execute` is refused.
    let p = audit_project(
        "    grant: [db-read]\n",
        "      query_sql: INSERT INTO audit VALUES (1) RETURNING id\n",
        "warn",
    );
    let run = p.run(&["migrate", "up"]);
    run.ok();
    assert!(
        run.stderr.contains("read-only transaction"),
        "{}",
        run.stderr
    );
    assert_eq!(count(&p, "SELECT count(*)::text FROM audit"), 0);
    assert_eq!(tracked(&p), 1);

    let p = audit_project(
        "    grant: [db-read]\n",
        "      execute_sql: INSERT INTO audit VALUES (1)\n",
        "warn",
    );
    let run = p.run(&["migrate", "up"]);
    run.ok();
    assert!(run.stderr.contains("not-granted"), "{}", run.stderr);
    assert_eq!(count(&p, "SELECT count(*)::text FROM audit"), 0);

    // A db-read query sees the migration's uncommitted table.
    let p = audit_project(
        "    grant: [db-read]\n",
        "      query_sql: SELECT count(*) FROM audit\n",
        "abort",
    );
    let run = p.run(&["migrate", "up"]);
    run.ok();
    assert!(
        run.stderr.contains("query returned 1 row(s)"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_ungranted_query_is_refused() {
    let p = audit_project("", "      query_sql: SELECT 1\n", "abort");
    let run = p.run(&["migrate", "up", "--format", "json"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let message = run.json()["failure"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("not-granted"), "{message}");
    assert!(message.contains("db-read"), "{message}");
    assert!(!exists(&p, "audit"));
    assert_eq!(tracked(&p), 0);
}

#[test]
fn db_write_stays_in_the_migration_transaction() {
    let p = audit_project(
        "    grant: [db-read, db-write]\n",
        "      execute_sql: INSERT INTO audit VALUES (42)\n",
        "abort",
    );
    let run = p.run(&["migrate", "up"]);
    run.ok();
    assert_eq!(
        count(&p, "SELECT count(*)::text FROM audit WHERE id = 42"),
        1
    );

    // With a failing post-execute after the write, the write rolls back with the migration.
    let p = project_with(
        &[RECORDER],
        concat!(
            "plugins:\n  hook-recorder:\n    grant: [db-write]\n    config:\n",
            "      execute_sql: INSERT INTO audit VALUES (7)\n      fail_on: post-execute\n",
            "hooks:\n  plugins:\n    hook-recorder:\n      events: [post-execute]\n",
        ),
    );
    p.db.client()
        .batch_execute("CREATE TABLE audit (id int)")
        .unwrap();
    p.write(
        "db/migrations/001_log.up.sql",
        "CREATE TABLE log (id int);\n",
    );
    let run = p.run(&["migrate", "up"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("execute affected 1 row(s)"),
        "{}",
        run.stderr
    );
    assert!(!exists(&p, "log"));
    assert_eq!(count(&p, "SELECT count(*)::text FROM audit"), 0);
    assert_eq!(recorded(&run).len(), 1);
}

#[test]
fn email_not_null_example_blocks_a_migration_that_leaves_null_emails() {
    let p = project_with(
        &["email-not-null-hook"],
        "plugins:\n  email-not-null-hook:\n    grant: [db-read]\n",
    );
    p.write(
        "db/migrations/001_users.up.sql",
        "CREATE TABLE users (id int PRIMARY KEY, email text);\nINSERT INTO users VALUES (1, 'a@x.org');\n",
    );
    p.write(
        "db/migrations/002_import.up.sql",
        "INSERT INTO users VALUES (2, NULL), (3, NULL);\n",
    );
    let run = p.run(&["migrate", "up"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("2 row(s) of users have a NULL email after migration 002_import"),
        "{}",
        run.stderr
    );
    assert_eq!(count(&p, "SELECT count(*)::text FROM users"), 1);
    assert_eq!(tracked(&p), 1);

    // Fixed migration: passes.
    p.write(
        "db/migrations/002_import.up.sql",
        "INSERT INTO users VALUES (2, 'b@x.org');\n",
    );
    p.run(&["migrate", "up"]).ok();
    assert_eq!(tracked(&p), 2);
}

#[test]
fn no_transaction_migrations_give_hooks_autocommit_access() {
    let p = project_with(
        &[RECORDER],
        concat!(
            "plugins:\n  hook-recorder:\n    grant: [db-read]\n    config:\n",
            "      query_sql: SELECT indexname FROM pg_indexes WHERE indexname = 'users_id_ix'\n",
            "hooks:\n  plugins:\n    hook-recorder:\n      events: [post-execute]\n",
        ),
    );
    p.write(
        "db/migrations/001_users.up.sql",
        "CREATE TABLE users (id int);\n",
    );
    p.write(
        "db/migrations/002_index.up.sql",
        "-- confiture: no-transaction\nCREATE INDEX CONCURRENTLY users_id_ix ON users (id);\n",
    );
    let run = p.run(&["migrate", "up"]);
    run.ok();
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("query returned"))
        .collect();
    // Before the index: no row; after the no-transaction migration: the index is visible.
    assert_eq!(
        lines,
        [
            "[plugin hook-recorder] info: query returned 0 row(s)",
            "[plugin hook-recorder] info: query returned 1 row(s)"
        ],
        "{}",
        run.stderr
    );
    assert_eq!(tracked(&p), 2);
}
