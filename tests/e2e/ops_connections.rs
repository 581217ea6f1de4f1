//! Operations: the run's connections against hostile server settings and a DBA's scripts — the
//! server's idle timeouts never end the tool's own sessions (a run waiting on a slow migration
//! or on an operator survives them), and a lost migration lock stops the run before the next
//! migration with exit 6, the migrations applied before it listed.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::db_cluster::LocalProject;
use crate::harness::{Run, TestProject};
use crate::migrate_up::{exists, tracked};
use crate::pty::Pty;
use crate::wizard_lines::{ANA, applied, migration};

/// Sets the idle timeouts a server might give interactive users, on this test's database only
/// (sessions opened after this read them).
fn hostile_idle_timeouts(p: &TestProject) {
    p.db.client()
        .batch_execute(&format!(
            "ALTER DATABASE \"{0}\" SET idle_session_timeout = '1s'; \
             ALTER DATABASE \"{0}\" SET idle_in_transaction_session_timeout = '1s'",
            p.db.name
        ))
        .unwrap();
}

#[test]
fn ops_idle_timeouts_spare_the_run_and_a_lost_lock_stops_it_with_exit_6() {
    let p = TestProject::new();
    hostile_idle_timeouts(&p);
    // 001 keeps the work connection busy for longer than the idle timeout: the lock's
    // connection sits idle all that time.
    migration(
        &p,
        "001_slow",
        "SELECT pg_sleep(2.5);\nCREATE TABLE a (id int);\n",
    );
    migration(&p, "002_after", "CREATE TABLE b (id int);\n");
    let run = p.run(&["migrate", "up", "--format", "json"]);
    assert_eq!(
        run.code, 0,
        "the idle timeout ended a session of the run: {run:?}"
    );
    let report = run.json();
    assert_eq!(report["applied"].as_array().unwrap().len(), 2, "{report}");
    assert!(report["failure"].is_null(), "{report}");
    assert!(exists(&p, "a") && exists(&p, "b"));

    // A DBA's script ends the lock holder while 003 runs (here 003 is that script): 004 must
    // not start unprotected.
    migration(
        &p,
        "003_dba",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name LIKE 'confiture % lock';\n\
         CREATE TABLE c (id int);\n",
    );
    migration(&p, "004_next", "CREATE TABLE d (id int);\n");
    let run = p.run(&["migrate", "up", "--format", "json"]);
    assert_eq!(run.code, 6, "{run:?}");
    let report = run.json();
    let applied: Vec<&str> = report["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["version"].as_str().unwrap())
        .collect();
    assert_eq!(applied, ["003"], "{report}");
    let failure = &report["failure"];
    assert_eq!(failure["version"], "004", "{report}");
    assert_eq!(failure["lock_lost"], true, "{report}");
    assert_eq!(failure["left"]["left"], "not_started", "{report}");
    let message = failure["message"].as_str().unwrap();
    assert!(
        message.contains("migration lock for `tb_confiture` was lost")
            && message.contains("was closed"),
        "{message}"
    );
    assert!(
        exists(&p, "c") && !exists(&p, "d"),
        "004 ran without the lock"
    );
    assert_eq!(tracked(&p), 3);

    // In text, the run says what happened and what stayed.
    let killer = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                  WHERE datname = current_database() AND application_name LIKE 'confiture % lock';\n";
    std::fs::remove_file(p.root().join("db/migrations/004_next.up.sql")).unwrap();
    migration(&p, "004_dba_again", killer);
    migration(&p, "005_next", "CREATE TABLE e (id int);\n");
    let run = p.run(&["migrate", "up"]);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(run.stdout.contains("applied 004_dba_again"), "{run:?}");
    assert!(
        run.stderr.contains("was lost") && run.stderr.contains("005_next did not start"),
        "{}",
        run.stderr
    );
    assert!(!exists(&p, "e"));
    let run = p.run(&["migrate", "up"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(exists(&p, "e"));
}

/// A dry run holds one transaction open across every migration, and each migration's session
/// reset (`RESET ALL` inside it) brings back the database's idle timeouts: the tool's own
/// settings must be set again after it, or a hook that thinks for longer than the timeout gets
/// the rehearsal's connection killed (a mutant skipping that survived the applier's tests).
#[test]
fn ops_idle_timeouts_spare_a_dry_run_waiting_on_a_hook() {
    let p = crate::hooks_support::hostile_project(
        "endless-loop",
        "db-read",
        "warn",
        "    timeout_ms: 1200\n",
    );
    hostile_idle_timeouts(&p);
    // hostile_project wrote 001_t; a second migration runs after a reset inside the dry run.
    migration(&p, "002_u", "CREATE TABLE u (id int);\n");
    let started = Instant::now();
    let run = p.run(&["migrate", "up", "--dry-run-execute"]);
    let took = started.elapsed();
    assert_eq!(
        run.code, 0,
        "an idle timeout ended the dry run's session while a hook ran: {run:?}"
    );
    assert!(run.stdout.contains("nothing was changed"), "{}", run.stdout);
    assert!(
        run.stderr.contains("timed out after 1200 ms"),
        "{}",
        run.stderr
    );
    // Each hook call outlived the 1 s idle timeout while the transaction waited.
    assert!(took >= Duration::from_millis(2400), "{took:?}");
    assert!(!exists(&p, "t") && !exists(&p, "u"));
    assert!(!exists(&p, "tb_confiture") || tracked(&p) == 0);
}

#[test]
fn ops_wizard_survives_the_server_idle_timeouts_while_the_operator_thinks() {
    let p = TestProject::new();
    hostile_idle_timeouts(&p);
    migration(
        &p,
        "001_users",
        "CREATE TABLE users (id int PRIMARY KEY);\n",
    );
    migration(
        &p,
        "002_posts",
        "CREATE TABLE posts (id int PRIMARY KEY);\n",
    );
    let mut cmd = p.command(&["migrate", "wizard"]);
    cmd.env("CONFITURE_USER", ANA).env("TERM", "xterm-256color");
    let mut ui = Pty::spawn(cmd, 100, 30);
    let show = Duration::from_secs(20);
    ui.expect("Apply 001_users", show);
    // The operator reads for longer than the server lets an idle session live.
    std::thread::sleep(Duration::from_millis(2500));
    ui.send(b"y");
    ui.expect("applied 001_users", show);
    ui.expect("Apply 002_posts", show);
    std::thread::sleep(Duration::from_millis(2500));
    ui.send(b"y");
    let (code, screen) = ui.wait(show);
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("2 applied"), "{screen}");
    assert_eq!(applied(&p), ["001", "002"]);
}

/// Waits (up to 30 s) until `sleeping()` reports the run's `pg_sleep` statement running.
fn wait_for_sleep(mut sleeping: impl FnMut() -> bool) {
    let started = Instant::now();
    while !sleeping() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the migration's statement never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The run's output once it ends.
fn finished(child: Child) -> Run {
    Run::from(child.wait_with_output().expect("wait for confiture"))
}

/// The versions a JSON report lists under `key`.
fn versions(report: &serde_json::Value, key: &str) -> Vec<String> {
    report[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["version"].as_str().unwrap().to_string())
        .collect()
}

const SLEEPING: &str = "SELECT count(*)::text FROM pg_stat_activity \
     WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep(60)%'";

#[test]
fn ops_connection_killed_mid_migration_reports_the_verified_rollback_and_what_was_applied() {
    let p = TestProject::new();
    migration(&p, "001_first", "CREATE TABLE first (id int);\n");
    migration(
        &p,
        "002_slow",
        "CREATE TABLE second (id int);\nSELECT pg_sleep(60);\n",
    );
    migration(&p, "003_third", "CREATE TABLE third (id int);\n");
    let child = p
        .command(&["migrate", "up", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_sleep(|| p.db.scalar(SLEEPING).as_deref() != Some("0"));
    // A DBA (or a failover) ends the work connection; the lock's connection stays.
    p.db.client()
        .batch_execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep(60)%'",
        )
        .unwrap();
    let run = finished(child);
    assert_eq!(run.code, 3, "{run:?}");
    let report = run.json();
    assert_eq!(versions(&report, "applied"), ["001"], "{report}");
    assert_eq!(versions(&report, "not_run"), ["003"], "{report}");
    let failure = &report["failure"];
    assert_eq!(failure["version"], "002", "{report}");
    assert_eq!(failure["left"]["left"], "disconnected", "{report}");
    assert_eq!(failure["left"]["confirmed"], true, "{report}");
    assert!(
        failure["state"]
            .as_str()
            .unwrap()
            .contains("PostgreSQL rolled its transaction back (the server confirmed it"),
        "{report}"
    );
    assert!(exists(&p, "first") && !exists(&p, "second") && !exists(&p, "third"));
    assert_eq!(tracked(&p), 1);
}

#[test]
fn ops_server_stopped_mid_run_keeps_the_applied_list_and_loses_nothing() {
    let project = LocalProject::new();
    project.run(&["db", "start"]).ok();
    let write = |name: &str, sql: &str| {
        let path = project.root().join("db/migrations").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, sql).unwrap();
    };
    write("001_first.up.sql", "CREATE TABLE first (id int);\n");
    write(
        "002_slow.up.sql",
        "CREATE TABLE second (id int);\nSELECT pg_sleep(60);\n",
    );
    let url = project.run(&["db", "url"]);
    let url = url.ok().stdout.trim().to_string();
    let scalar = |sql: &str| -> Option<String> {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).ok()?;
        client.query_one(sql, &[]).ok()?.get(0)
    };
    let child =
        crate::harness::confiture_command(project.root(), &["migrate", "up", "--format", "json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
    wait_for_sleep(|| scalar(SLEEPING).is_some_and(|n| n != "0"));
    project.run(&["db", "stop"]).ok();
    let run = finished(child);
    assert_eq!(run.code, 3, "{run:?}");
    let report = run.json();
    assert_eq!(versions(&report, "applied"), ["001"], "{report}");
    let failure = &report["failure"];
    assert_eq!(failure["version"], "002", "{report}");
    assert_eq!(failure["left"]["left"], "disconnected", "{report}");
    assert_eq!(failure["left"]["confirmed"], false, "{report}");

    project.run(&["db", "start"]).ok();
    assert_eq!(
        scalar("SELECT string_agg(version, ',') FROM tb_confiture"),
        Some("001".into())
    );
    assert_eq!(
        scalar("SELECT (to_regclass('second') IS NULL)::text"),
        Some("true".into())
    );
}

/// Polls `sql` (a `SELECT …::text`) on `p`'s database until it returns a value, for at most
/// 20 s.
fn wait_for(p: &TestProject, what: &str, sql: &str) -> String {
    let started = Instant::now();
    loop {
        if let Some(value) = p.db.scalar(sql) {
            return value;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "waited 20 s for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn ops_statement_left_running_by_a_killed_run_is_named_and_holds_off_the_next() {
    let p = TestProject::new();
    migration(&p, "001_t", "CREATE TABLE t (id int);\n");
    p.run(&["migrate", "up"]).ok();
    // 002 takes t's ACCESS EXCLUSIVE lock, then sleeps in a statement holding a literal value.
    migration(
        &p,
        "002_slow",
        "ALTER TABLE t ADD COLUMN secret text;\n\
         SELECT pg_sleep(60) WHERE 'hunter2' <> '';\n",
    );
    let mut first = p
        .command(&["migrate", "up"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start migrate up");
    let sleeping = "SELECT pid::text FROM pg_stat_activity \
                    WHERE datname = current_database() AND state = 'active' \
                      AND query LIKE 'SELECT pg_sleep(60)%'";
    let pid = wait_for(&p, "the first run's statement", sleeping);
    let application =
        p.db.scalar(&format!(
            "SELECT application_name FROM pg_stat_activity WHERE pid = {pid}"
        ))
        .unwrap();
    assert!(application.starts_with("confiture "), "{application}");

    // While it runs, a second run gives up on the lock naming the holder and its statement.
    let (waiting, _) = p.run_bounded(
        &["migrate", "up", "--lock-wait", "1"],
        Duration::from_secs(20),
    );
    assert_eq!(waiting.code, 6, "{waiting:?}");
    let shown = "SELECT pg_sleep(?) WHERE ? <> ?";
    for expected in [
        "another run holds the migration lock for `tb_confiture`",
        &format!("{application} lock"),
        &format!("its run is running on pid {pid} ({application}, role postgres), active since"),
        shown,
    ] {
        assert!(
            waiting.stderr.contains(expected),
            "{expected}: {}",
            waiting.stderr
        );
    }

    // kill -9: the lock goes with the process, the statement keeps running on the server.
    first.kill().expect("kill -9");
    first.wait().expect("reap");
    wait_for(
        &p,
        "the killed run's lock to be released",
        "SELECT 'gone' WHERE NOT EXISTS (SELECT FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name LIKE 'confiture % lock')",
    );
    assert!(
        p.db.scalar(sleeping).is_some(),
        "the orphan is still running"
    );

    // The next run is refused before anything runs: the orphan holds t, which 002 uses.
    let run = p.run(&["migrate", "up"]);
    assert_eq!(run.code, 6, "{run:?}");
    for expected in [
        "a statement of another Confiture run",
        &format!("pid {pid} ({application}, role postgres), active since"),
        shown,
        "t (AccessExclusiveLock, used by 002_slow)",
        "nothing was run",
        &format!("SELECT pg_cancel_backend({pid});"),
        &format!("SELECT pg_terminate_backend({pid});"),
    ] {
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
    }
    for output in [&run.stderr, &run.stdout, &waiting.stderr] {
        assert!(!output.contains("hunter2"), "a value was shown: {output}");
    }
    assert_eq!(tracked(&p), 1, "002 is not recorded");
    assert_eq!(
        p.db.scalar(
            "SELECT count(*)::text FROM information_schema.columns WHERE column_name = 'secret'"
        )
        .as_deref(),
        Some("0"),
        "the orphan's transaction is not committed"
    );

    // A run that does not touch t goes on, with a warning naming the orphan.
    migration(&p, "002_slow", "CREATE TABLE u (id int);\n");
    let run = p.run(&["migrate", "up"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains(&format!("pid {pid} (")) && run.stderr.contains("so the run goes on"),
        "{}",
        run.stderr
    );
    assert_eq!(applied(&p), ["001", "002"]);

    // The printed command stops it, and its change is rolled back.
    p.db.client()
        .batch_execute(&format!("SELECT pg_cancel_backend({pid})"))
        .unwrap();
    wait_for(
        &p,
        "the cancelled orphan to end",
        &format!("SELECT 'gone' WHERE NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = {pid})"),
    );
    assert!(exists(&p, "u"));
    assert_eq!(
        p.db.scalar(
            "SELECT count(*)::text FROM information_schema.columns WHERE column_name = 'secret'"
        )
        .as_deref(),
        Some("0")
    );
    migration(&p, "003_more", "ALTER TABLE t ADD COLUMN n int;\n");
    let run = p.run(&["migrate", "up"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        !run.stderr.contains("another Confiture run"),
        "{}",
        run.stderr
    );
}

/// A statement cancelled by the `statement_timeout` in force is sent again, a few times: what
/// keeps a database whose timeout is a few milliseconds from refusing the tool's connections
/// on a busy server (the statements that lift the timeout can be cancelled by it). A statement
/// cancelled on every try still fails, with the server's 57014, after five tries.
#[test]
fn ops_statements_cancelled_by_the_timeout_in_force_are_sent_again() {
    use confiture::db::ConnectionSpec;
    use confiture::db::connect::execute_through_cancels;

    let db = crate::harness::TestDb::new();
    db.client()
        .batch_execute(&format!(
            "CREATE SEQUENCE tries; ALTER DATABASE \"{0}\" SET statement_timeout = '1ms'",
            db.name
        ))
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let spec = ConnectionSpec::from_url(&db.url).unwrap();
        // The tool's connections open under the database's 1 ms timeout.
        for _ in 0..20 {
            spec.connect()
                .await
                .expect("a connection despite statement_timeout = 1ms");
        }
        let client = spec.connect().await.unwrap();
        // Itself under the database's 1 ms timeout.
        execute_through_cancels(&client, "SET statement_timeout = '300ms'")
            .await
            .unwrap();
        // Cancelled twice, then through.
        execute_through_cancels(
            &client,
            "SELECT CASE WHEN nextval('tries') < 3 THEN pg_sleep(10) END",
        )
        .await
        .expect("the third try runs");
        let tries: i64 = client
            .query_one("SELECT last_value FROM tries", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(tries, 3);
        // Cancelled every time: the server's error, after five tries of 300 ms.
        let started = Instant::now();
        let error = execute_through_cancels(&client, "SELECT pg_sleep(10)")
            .await
            .expect_err("cancelled on every try");
        let elapsed = started.elapsed();
        assert_eq!(
            error.code(),
            Some(&tokio_postgres::error::SqlState::QUERY_CANCELED),
            "{error}"
        );
        assert!(
            elapsed >= Duration::from_millis(1500) && elapsed < Duration::from_secs(8),
            "five tries of 300 ms took {elapsed:?}"
        );
    });
}
