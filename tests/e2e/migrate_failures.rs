//! Failing migrations: half-way failures, drift, no-transaction failures, lock timeouts, and
//! refused Python files.

use std::time::Duration;

use crate::harness::TestProject;
use crate::migrate_up::{exists, set_env, tracked, two_migrations};

#[test]
fn a_migration_failing_half_way_leaves_nothing_and_stops() {
    let p = TestProject::new();
    p.write("db/migrations/001_ok.up.sql", "CREATE TABLE ok (id int);\n");
    p.write(
        "db/migrations/002_bad.up.sql",
        "-- creates a table, then fails\nCREATE TABLE half (id int);\n\nINSERT INTO half\n  SELECT * FROM nope;\n",
    );
    p.write(
        "db/migrations/003_later.up.sql",
        "CREATE TABLE later (id int);\n",
    );
    let run = p.run(&["migrate", "up"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("db/migrations/002_bad.up.sql:5: ERROR 42P01"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("\"nope\""), "{}", run.stderr);
    assert!(run.stderr.contains("as they were before"), "{}", run.stderr);
    assert!(exists(&p, "ok") && !exists(&p, "half") && !exists(&p, "later"));
    assert_eq!(tracked(&p), 1);

    let json = p.run(&["migrate", "up", "--format", "json"]);
    assert_eq!(json.code, 1);
    let json = json.json();
    let f = &json["failure"];
    assert_eq!(f["version"], "002", "{json}");
    assert_eq!(f["error"]["file"], "db/migrations/002_bad.up.sql");
    assert_eq!(f["error"]["statement_line"], 4);
    assert_eq!(f["error"]["line"], 5);
    assert_eq!(f["error"]["sqlstate"], "42P01");
    assert_eq!(json["not_run"][0]["version"], "003");
    assert!(json["applied"].as_array().unwrap().is_empty());
}

#[test]
fn detail_hint_object_and_the_line_inside_do_blocks_are_reported() {
    let p = TestProject::new();
    p.write(
        "db/migrations/001_dup.up.sql",
        "CREATE TABLE d (id int PRIMARY KEY);\nINSERT INTO d VALUES (1), (1);\n",
    );
    let run = p.run(&["migrate", "up"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains(":2: ERROR 23505"), "{}", run.stderr);
    assert!(
        run.stderr.contains("DETAIL: Key (id)=(1)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("OBJECT: table public.d, constraint d_pkey"),
        "{}",
        run.stderr
    );
    let json = p.run(&["migrate", "up", "--format", "json"]).json();
    assert_eq!(
        json["failure"]["error"]["object"],
        "table public.d, constraint d_pkey"
    );
    assert!(!exists(&p, "d"));
    std::fs::remove_file(p.root().join("db/migrations/001_dup.up.sql")).unwrap();

    // Errors inside a DO block point at their own line, not the block's first.
    let cases = [
        // A statement of the block fails (the server's position is inside that statement).
        (
            "SELECT 1;\nDO $$\nDECLARE\n  n int;\nBEGIN\n  n := 1;\n  PERFORM 1\n    FROM nope;\nEND\n$$;\n",
            8,
        ),
        // RAISE, after the block's opening line holds code.
        (
            "DO $$ BEGIN\n  PERFORM 1;\n  RAISE EXCEPTION 'boom';\nEND $$;\n",
            3,
        ),
        // A runtime error in an expression, with LANGUAGE before a named dollar quote.
        (
            "-- header\nDO LANGUAGE plpgsql\n$body$\nBEGIN\n  PERFORM 1 / 0;\nEND\n$body$;\n",
            5,
        ),
        // A function the block calls has its own line numbers: the block's call is named.
        (
            "CREATE FUNCTION boom() RETURNS int LANGUAGE plpgsql AS $f$\nBEGIN\n  RAISE EXCEPTION 'inner';\nEND $f$;\nDO $$\nBEGIN\n  PERFORM boom();\nEND $$;\n",
            7,
        ),
    ];
    for (sql, line) in cases {
        p.write("db/migrations/002_block.up.sql", sql);
        let run = p.run(&["migrate", "up"]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr
                .contains(&format!("db/migrations/002_block.up.sql:{line}: ERROR")),
            "line {line} expected for:\n{sql}\n{}",
            run.stderr
        );
    }
    assert_eq!(
        p.db.scalar("SELECT count(*)::text FROM pg_proc WHERE proname = 'boom'")
            .as_deref(),
        Some("0"),
        "rolled back"
    );
}

#[test]
fn changed_checksum_refuses_up_and_names_the_file() {
    let p = TestProject::new();
    two_migrations(&p);
    p.run(&["migrate", "up", "--target", "001"]).ok();
    p.write(
        "db/migrations/001_users.up.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY);\n",
    );
    let run = p.run(&["migrate", "up"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("db/migrations/001_users.up.sql"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("changed"), "{}", run.stderr);
    assert!(!exists(&p, "posts"));
}

#[test]
fn no_transaction_failure_reports_what_ran() {
    let p = TestProject::new();
    two_migrations(&p);
    p.write(
        "db/migrations/003_idx.up.sql",
        "-- confiture: no-transaction\nCREATE INDEX CONCURRENTLY a ON posts (user_id);\n\
         CREATE INDEX CONCURRENTLY b ON nope (x);\nCREATE INDEX CONCURRENTLY c ON users (id);\n",
    );
    let text = p.run(&["migrate", "up"]);
    assert_eq!(text.code, 1);
    assert!(
        text.stderr.contains(
            "the statement at line 2 ran before the one at line 3, which failed; the statement \
             at line 4 did not run"
        ),
        "{}",
        text.stderr
    );
    assert!(!text.stderr.contains("none"), "{}", text.stderr);
    assert!(text.stderr.contains(":3: ERROR 42P01"), "{}", text.stderr);
    assert!(exists(&p, "a") && !exists(&p, "c"));

    p.db.client().batch_execute("DROP INDEX a").unwrap();
    let run = p.run(&["migrate", "up", "--format", "json"]);
    assert_eq!(run.code, 1);
    let json = run.json();
    let f = &json["failure"];
    assert_eq!(f["no_transaction"], true, "{json}");
    assert_eq!(f["error"]["ran"], serde_json::json!([2]));
    assert_eq!(f["error"]["statement_line"], 3);
    assert_eq!(f["error"]["not_run"], serde_json::json!([4]));
    assert!(f["state"].as_str().unwrap().contains("partly changed"));
    assert!(exists(&p, "a") && !exists(&p, "c"));
    assert_eq!(tracked(&p), 2, "the failed migration is not recorded");
}

/// Holds an ACCESS EXCLUSIVE lock on `users` from a test connection for `hold`.
fn hold_table_lock(p: &TestProject, hold: Duration) -> std::thread::JoinHandle<()> {
    let mut c = p.db.client();
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let mut t = c.transaction().unwrap();
        t.batch_execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
            .unwrap();
        tx.send(()).unwrap();
        std::thread::sleep(hold);
        t.rollback().unwrap();
    });
    rx.recv().unwrap();
    handle
}

#[test]
fn lock_timeout_fails_with_55p03_without_retries() {
    let p = TestProject::new();
    two_migrations(&p);
    p.run(&["migrate", "up", "--target", "001"]).ok();
    set_env(&p, "lock_timeout: 200ms\nlock_retries: 0\n");
    let hold = Duration::from_secs(3);
    let holder = hold_table_lock(&p, hold);
    // Bounded: without its lock_timeout the run would wait for the lock, then apply.
    let (run, took) = p.run_bounded(&["migrate", "up", "--format", "json"], hold * 10);
    holder.join().unwrap();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        took >= Duration::from_millis(200) && took < hold,
        "gave up on the lock at its 200 ms limit, not when it was released: {took:?}"
    );
    let error = &run.json()["failure"]["error"];
    assert_eq!(error["sqlstate"], "55P03");
    // The session holding the lock is named, without values.
    let blocker = error["blocked_by"][0]
        .as_str()
        .unwrap_or_else(|| panic!("{error}"));
    assert!(
        blocker.contains("(no application name, role postgres), idle in transaction since")
            && blocker.ends_with(": `LOCK TABLE users IN ACCESS EXCLUSIVE MODE`"),
        "{blocker}"
    );
    assert!(!exists(&p, "posts"));
}

#[test]
fn lock_timeout_is_retried_until_the_lock_is_released() {
    let p = TestProject::new();
    two_migrations(&p);
    p.run(&["migrate", "up", "--target", "001"]).ok();
    set_env(&p, "lock_timeout: 200ms\nlock_retries: 5\n");
    let holder = hold_table_lock(&p, Duration::from_millis(700));
    let run = p.run(&["migrate", "up"]);
    holder.join().unwrap();
    run.ok();
    assert!(run.stderr.contains("55P03"), "{}", run.stderr);
    assert!(run.stderr.contains("retry 1/5"), "{}", run.stderr);
    assert!(
        run.stderr.contains("(blocked by pid "),
        "the holder is named: {}",
        run.stderr
    );
    assert!(exists(&p, "posts"));
    assert_eq!(tracked(&p), 2);
}

#[test]
fn lock_timeout_is_retried_exactly_as_often_as_allowed_with_a_doubling_backoff() {
    let p = TestProject::new();
    two_migrations(&p);
    p.run(&["migrate", "up", "--target", "001"]).ok();
    set_env(&p, "lock_timeout: 200ms\nlock_retries: 2\n");
    // Held far longer than three attempts and their backoffs (about 1.2 s) take.
    let hold = Duration::from_secs(4);
    let holder = hold_table_lock(&p, hold);
    let (run, took) = p.run_bounded(&["migrate", "up"], hold * 5);
    holder.join().unwrap();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(took < hold, "gave up after its retries: {took:?}");
    let retries: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("; rolled back, retry "))
        .collect();
    assert_eq!(retries.len(), 2, "{}", run.stderr);
    assert!(
        retries[0].ends_with("retry 1/2 in 200 ms"),
        "{}",
        run.stderr
    );
    assert!(
        retries[1].ends_with("retry 2/2 in 400 ms"),
        "{}",
        run.stderr
    );
    assert!(!exists(&p, "posts"));
    assert_eq!(tracked(&p), 1);
}

#[test]
fn python_migrations_are_refused() {
    let p = TestProject::new();
    p.write(
        "db/migrations/001_create_users.py",
        "class CreateUsers(Migration):\n    def up(self): self.execute('CREATE TABLE u (id int)')\n",
    );
    let run = p.run(&["migrate", "up"]);
    assert_eq!(run.code, 5, "{run:?}");
    assert!(
        run.stderr.contains("001_create_users.up.sql"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("down()"), "{}", run.stderr);
    assert!(!exists(&p, "tb_confiture"));
}

#[test]
fn sql_files_that_are_not_migrations_are_reported_and_left_alone() {
    // Upstream warns about these and applies the rest; so does Confiture.
    let p = TestProject::new();
    p.write(
        "db/migrations/create_users.sql",
        "CREATE TABLE u (id int);\n",
    );
    p.write("db/migrations/002_gone.down.sql", "DROP TABLE g;\n");
    p.write(
        "db/migrations/003_Add-Thing.up.sql",
        "CREATE TABLE thing (id int);\n",
    );
    let run = p.run(&["migrate", "up"]);
    run.ok();
    assert!(
        run.stderr
            .contains("db/migrations/create_users.sql: not a migration")
            && run.stderr.contains("rename it to create_users.up.sql"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("002_gone.down.sql: has no 002_gone.up.sql"),
        "{}",
        run.stderr
    );
    assert!(exists(&p, "thing") && !exists(&p, "u"));
    assert_eq!(
        p.db.scalar("SELECT version || ' ' || name FROM tb_confiture"),
        Some("003 Add-Thing".into())
    );
}

#[test]
fn an_empty_migration_is_refused_by_every_command_that_runs_one() {
    let p = TestProject::new();
    // What `migrate generate` writes: comments only.
    p.write(
        "db/migrations/001_todo.up.sql",
        "-- Migration 001_todo: apply. Crème brûlée ☕\n-- nothing yet\n\n",
    );
    let file = "db/migrations/001_todo.up.sql";
    let refused_for = |file: &str, run: &crate::harness::Run, what: &str| {
        assert_eq!(run.code, 5, "{what}: {run:?}");
        for expected in [
            format!("{file}:1: the migration file has no SQL statement"),
            format!("edit {file} and add the SQL"),
        ] {
            assert!(run.stderr.contains(&expected), "{what}: {}", run.stderr);
        }
        assert!(!run.stdout.contains("Applied"), "{what}: {}", run.stdout);
    };
    let refused = |run: &crate::harness::Run, what: &str| refused_for(file, run, what);
    let nothing_recorded = |what: &str| {
        assert!(
            !exists(&p, "tb_confiture") || tracked(&p) == 0,
            "{what}: the empty migration was recorded"
        );
    };
    refused(&p.run(&["migrate", "up"]), "up");
    nothing_recorded("up");
    refused(&p.run(&["migrate", "up", "--dry-run"]), "up --dry-run");
    refused(
        &p.run(&["migrate", "up", "--dry-run-execute"]),
        "up --dry-run-execute",
    );
    refused(
        &crate::wizard_lines::answer(&p, "ana", &["migrate", "wizard"], "y\ny\n"),
        "wizard",
    );
    nothing_recorded("wizard");
    crate::wizard_lines::run_as(&p, "ana", &["migrate", "schedule", "001", "--at", "+1s"]).ok();
    std::thread::sleep(Duration::from_millis(1500));
    refused(
        &crate::wizard_lines::run_as(&p, "cron", &["migrate", "run-scheduled"]),
        "run-scheduled",
    );
    nothing_recorded("run-scheduled");

    // Every way of holding no statement: blank, a block comment, CRLF and a byte order mark,
    // a lone semicolon, only the upstream `BEGIN; … COMMIT;` wrapper.
    for body in [
        "",
        "  \n\t\n",
        "/* later\n   maybe */\n",
        "\u{feff}-- windows\r\n\r\n",
        ";\n",
        "BEGIN;\n-- todo\nCOMMIT;\n",
    ] {
        p.write(file, body);
        refused(&p.run(&["migrate", "up"]), &format!("{body:?}"));
        nothing_recorded(&format!("{body:?}"));
    }

    // Rolling back with an empty .down.sql is refused the same way; the migration stays.
    p.write(file, "CREATE TABLE todo (id int);\n");
    p.run(&["migrate", "up"]).ok();
    p.write("db/migrations/001_todo.down.sql", "-- roll back\n");
    for args in [
        vec!["migrate", "down"],
        vec!["migrate", "down", "--dry-run"],
    ] {
        let run = p.run(&args);
        refused_for(
            "db/migrations/001_todo.down.sql",
            &run,
            &format!("{args:?}"),
        );
        assert!(
            run.stderr.contains("add the SQL that undoes its .up.sql"),
            "{}",
            run.stderr
        );
        assert!(exists(&p, "todo"));
        assert_eq!(tracked(&p), 1);
    }
}
