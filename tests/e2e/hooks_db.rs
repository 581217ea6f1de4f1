//! Hooks and the database: grants enforced on the migration's own transaction; a `db-read`
//! hook cannot leave a write behind; an ungranted query is refused; `db-write` writes stay in
//! (and roll back with) the migration; the email-not-null example blocks a bad migration; a
//! grant on a superuser connection needs a least-privilege role.

use crate::hooks_support::{RECORDER, exists, project_with, recorded, tracked};
use crate::plugins_support::PLUGIN_ROLE;

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
    // A write through `query` under db-read is refused before it runs; `execute` is refused.
    let p = audit_project(
        "    grant: [db-read]\n",
        "      query_sql: INSERT INTO audit VALUES (1) RETURNING id\n",
        "warn",
    );
    let run = p.run(&["migrate", "up"]);
    run.ok();
    assert!(
        run.stderr
            .contains("the statement writes, and the plugin is granted only `db-read`"),
        "{}",
        run.stderr
    );
    assert_eq!(count(&p, "SELECT count(*)::text FROM audit"), 0);
    assert_eq!(tracked(&p), 1);

    // A write hidden in a query passes the statement check, and the read-only savepoint stops
    // it.
    let p = audit_project(
        "    grant: [db-read]\n",
        "      query_sql: SELECT nextval('audit_ids')\n",
        "warn",
    );
    p.write(
        "db/migrations/001_audit.up.sql",
        "CREATE TABLE audit (id int);\nCREATE SEQUENCE audit_ids;\n",
    );
    let run = p.run(&["migrate", "up"]);
    run.ok();
    assert!(
        run.stderr.contains("read-only transaction"),
        "{}",
        run.stderr
    );
    assert_eq!(
        p.db.scalar("SELECT is_called::text FROM audit_ids"),
        Some("false".into())
    );
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

#[test]
fn a_grant_on_a_superuser_connection_needs_a_least_privilege_role() {
    // The suite connects as the `postgres` superuser. Without a role, the hook's query is
    // refused before it runs, and the migration rolls back under `abort`.
    let p = audit_project(
        "    grant: [db-read]\n",
        "      query_sql: SELECT 1\n",
        "abort",
    );
    let env = |extra: &str| {
        p.write(
            "db/environments/local.yaml",
            &format!(
                "database_url: {}\nplugins:\n  hook-recorder:\n    grant: [db-read]\n{extra}    \
                 config:\n      query_sql: SELECT 1 WHERE current_user = '{PLUGIN_ROLE}'\n\
                 hooks:\n  plugins:\n    hook-recorder:\n      events: [post-execute]\n",
                p.db.url
            ),
        )
    };
    env("");
    let run = p.run(&["migrate", "up", "--format", "json"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let message = report["failure"]["message"].as_str().unwrap();
    assert!(
        message.contains("the connection's user `postgres` has SUPERUSER"),
        "{message}"
    );
    assert!(message.contains("plugins.hook-recorder.role"), "{message}");
    assert_eq!(report["hooks"][0]["failure"], "refused", "{report:#}");
    assert_eq!(
        report["failure"]["state"],
        "rolled back (the server confirmed it): the database and the tracking table are as they were before 001_audit"
    );
    assert!(!exists(&p, "audit"));
    assert_eq!(tracked(&p), 0);
    assert!(!run.stderr.contains("query returned"), "{}", run.stderr);

    // A role that does not exist, and one as powerful as the connection, are refused too.
    env("    role: no_such_confiture_role\n");
    let run = p.run(&["migrate", "up"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("`confiture plugins create-role no_such_confiture_role`"),
        "{}",
        run.stderr
    );
    env("    role: postgres\n");
    let run = p.run(&["migrate", "up"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the role `postgres` configured for plugin hook-recorder has SUPERUSER"),
        "{}",
        run.stderr
    );
    assert_eq!(tracked(&p), 0);

    // The plugin's own role: its statement runs as that role, and the migration applies.
    env(&format!("    role: {PLUGIN_ROLE}\n"));
    let run = p.run(&["migrate", "up"]);
    run.ok();
    assert!(
        run.stderr.contains("query returned 1 row(s)"),
        "{}",
        run.stderr
    );
    assert!(exists(&p, "audit"));
    assert_eq!(tracked(&p), 1);
}

/// The `run-id` a hook is given is the run's own: the id its connections carry in
/// `application_name` (`confiture <run id>`), so a hook's records and `pg_stat_activity` name
/// the same run.
#[test]
fn the_run_id_a_hook_sees_names_the_runs_connections() {
    let p = project_with(
        &[RECORDER],
        concat!(
            "plugins:\n  hook-recorder:\n    grant: [db-write]\n    config:\n",
            "      execute_sql: INSERT INTO seen SELECT current_setting('application_name')\n",
            "hooks:\n  plugins:\n    hook-recorder:\n      policy: abort\n",
            "      events: [post-execute]\n",
        ),
    );
    p.write(
        "db/migrations/001_seen.up.sql",
        "CREATE TABLE seen (app text);\n",
    );
    let run = p.run(&["migrate", "up"]);
    run.ok();
    let app =
        p.db.scalar("SELECT app FROM seen")
            .expect("the hook wrote its connection's application_name");
    let calls = recorded(&run);
    let [call] = calls.as_slice() else {
        panic!("one post-execute call: {}", run.stderr);
    };
    let run_id = call
        .get("metadata")
        .split(',')
        .find_map(|kv| kv.strip_prefix("run-id="))
        .expect("a run-id")
        .to_string();
    assert_eq!(run_id.len(), 8, "{run_id}");
    assert_eq!(app, format!("confiture {run_id}"));
}
