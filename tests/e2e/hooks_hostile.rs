//! Hostile hook plugins against the real binary and database: whatever they send through the
//! `database` import, the migration's transaction, the host's session and everything beyond
//! the database stay out of reach, and what the output says is what the database holds.
//!
//! - `hostile-tx-escape` sends COMMIT, ROLLBACK and savepoint commands (plain, hidden behind
//!   comments, after another statement);
//! - `hostile-server-reach` tries COPY TO PROGRAM, server files, `pg_read_file`, killing the
//!   migration lock's connection, taking the role back, and leaving session state behind;
//! - `hostile-slow-sql` runs a ten-minute statement;
//! - a function the migration defines that leaks a session lock is caught by the check after
//!   the statement, and fails the run even under policy `ignore`.
//!
//! Each hostile plugin reports success whatever happened, under policy `warn`: the worst case.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::TestProject;
use crate::hooks_support::{exists, hostile_project, set_env, tracked};
use crate::plugins_support::grant_plugin_role;

fn both(run: &crate::harness::Run) -> String {
    format!("{}\n{}", run.stdout, run.stderr)
}

/// Nothing the plugin sent ran: each attempt was refused, none escaped.
fn all_refused(run: &crate::harness::Run, attempts: usize) {
    let text = both(run);
    assert!(!text.contains("ESCAPED"), "{text}");
    let refused = text
        .lines()
        .filter(|l| l.contains("info: refused: "))
        .count();
    assert!(refused >= attempts, "{refused} refusals:\n{text}");
}

#[test]
fn transaction_control_from_a_hook_changes_nothing() {
    for grant in ["db-read", "db-read, db-write"] {
        let p = hostile_project("tx-escape", grant, "warn", "");
        // A dry run stays a dry run: nothing is left, whatever the hook sends on every event.
        let run = p.run(&["migrate", "up", "--dry-run-execute"]);
        run.ok();
        all_refused(&run, 11);
        assert!(run.stdout.contains("nothing was changed"), "{}", run.stdout);
        assert!(!exists(&p, "t"), "{grant}: the dry run left table t");
        assert_eq!(
            p.db.scalar("SELECT count(*)::text FROM pg_tables WHERE tablename = 'tb_confiture'"),
            Some("0".into())
        );

        // Applied for real: what the report says is what the database holds.
        let run = p.run(&["migrate", "up", "--format", "json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let report = run.json();
        assert_eq!(report["applied"].as_array().unwrap().len(), 1, "{report:#}");
        assert!(
            report["hooks"]
                .as_array()
                .unwrap()
                .iter()
                .all(|h| h["failure"] == "refused"),
            "{report:#}"
        );
        assert_eq!(tracked(&p), 1);
        assert_eq!(
            p.db.scalar("SELECT count(*)::text FROM t"),
            Some("1".into())
        );
    }

    // Under `abort`, on the migration's own transaction, the refusal stops the run and the
    // migration rolls back, as reported.
    let p = hostile_project(
        "tx-escape",
        "db-read, db-write",
        "abort\n      events: [post-execute]",
        "",
    );
    let run = p.run(&["migrate", "up", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let failure = &run.json()["failure"];
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("was refused database access: transaction control belongs to the host"),
        "{failure:#}"
    );
    assert_eq!(
        failure["state"],
        "rolled back (the server confirmed it): the database and the tracking table are as they were before 001_t"
    );
    assert!(!exists(&p, "t"));
    assert_eq!(tracked(&p), 0);
}

#[test]
fn a_hook_cannot_reach_the_server_other_sessions_or_the_session_state() {
    let marker = std::env::temp_dir().join(format!("confiture-e2e-marker-{}", std::process::id()));
    let marker = marker.display().to_string();
    let p = hostile_project(
        "server-reach",
        "db-read, db-write",
        "warn",
        &format!("    config:\n      marker: {marker}\n"),
    );
    let run = p.run(&["migrate", "up"]);
    run.ok();
    all_refused(&run, 16);
    let text = both(&run);
    // The migration lock's connection survived (the run finished), no file was written, no
    // server file was read, no role was created.
    assert!(text.contains("Applied 1 migration(s)"), "{text}");
    for suffix in ["-program", "-file"] {
        assert!(
            !std::path::Path::new(&format!("{marker}{suffix}")).exists(),
            "{marker}{suffix} exists"
        );
    }
    assert!(!text.contains("root:"), "{text}");
    assert_eq!(
        p.db.scalar("SELECT count(*)::text FROM pg_roles WHERE rolname = 'hostile_superuser'"),
        Some("0".into())
    );
    assert_eq!(tracked(&p), 1);
    assert!(exists(&p, "t"));
}

#[test]
fn a_function_that_leaks_session_state_fails_the_run_under_every_policy() {
    // hook-recorder runs `SELECT leak()` after the migration, which defined `leak()`; the
    // statement passes the check (nothing in it is refused), runs as the plugin's role, and
    // leaves a session-level advisory lock: a breach, even under policy `ignore`.
    let p = TestProject::new();
    grant_plugin_role(&p.db);
    std::fs::create_dir_all(p.root().join("plugins")).unwrap();
    std::fs::copy(
        crate::plugins_support::component("hook-recorder"),
        p.root().join("plugins/hook-recorder.wasm"),
    )
    .unwrap();
    set_env(
        &p,
        "plugins:\n  hook-recorder:\n    grant: [db-read]\n    config:\n      query_sql: SELECT leak()\n\
         hooks:\n  plugins:\n    hook-recorder:\n      policy: ignore\n      events: [post-execute]\n",
    );
    p.write(
        "db/migrations/001_leak.up.sql",
        "CREATE TABLE t (id int);\n\
         CREATE FUNCTION leak() RETURNS void LANGUAGE sql AS $$ SELECT pg_advisory_lock(77) $$;\n",
    );
    let run = p.run(&["migrate", "up", "--format", "json"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let failure = &report["failure"];
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("host integrity failure: after a database call of plugin hook-recorder, advisory locks are held that were not before"),
        "{report:#}"
    );
    assert_eq!(report["hooks"][0]["failure"], "integrity", "{report:#}");
    // The transaction itself was intact, so the rollback is real, and says so.
    assert_eq!(
        failure["state"],
        "rolled back (the server confirmed it): the database and the tracking table are as they were before 001_leak"
    );
    assert!(!exists(&p, "t"));
    assert_eq!(tracked(&p), 0);
}

/// `backend` queries of `db` still running `pg_sleep`.
fn sleeping(p: &TestProject) -> i64 {
    p.db.scalar(&format!(
        "SELECT count(*)::text FROM pg_stat_activity WHERE datname = '{}' \
         AND query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid()",
        p.db.name
    ))
    .unwrap()
    .parse()
    .unwrap()
}

#[test]
fn a_slow_statement_stops_at_the_deadline_even_when_confiture_is_killed() {
    let p = hostile_project("slow-sql", "db-read", "warn", "    timeout_ms: 1000\n");
    let started = Instant::now();
    let run = p.run(&["migrate", "up"]);
    run.ok();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(
        both(&run).contains("canceling statement due to statement timeout"),
        "{}",
        both(&run)
    );
    assert_eq!(sleeping(&p), 0);
    assert_eq!(tracked(&p), 1);

    // Killed mid-statement: the server stops the statement at the deadline on its own.
    p.write("db/migrations/002_u.up.sql", "CREATE TABLE u (id int);\n");
    let env = std::fs::read_to_string(p.root().join("db/environments/local.yaml")).unwrap();
    p.write(
        "db/environments/local.yaml",
        &env.replace("timeout_ms: 1000", "timeout_ms: 4000"),
    );
    let mut child = p
        .command(&["migrate", "up"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start confiture");
    let waiting = Instant::now();
    while sleeping(&p) == 0 {
        assert!(
            waiting.elapsed() < Duration::from_secs(30),
            "the hook's statement never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("kill confiture");
    let killed = Instant::now();
    child.wait().unwrap();
    while sleeping(&p) > 0 {
        assert!(
            killed.elapsed() < Duration::from_secs(15),
            "the statement outlived confiture by {:?} (its deadline was 4 s)",
            killed.elapsed()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!exists(&p, "u"));
    assert_eq!(tracked(&p), 1);
}
