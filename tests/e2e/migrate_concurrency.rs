//! The migration lock: concurrent runs apply each migration once; `--no-wait` and
//! `--lock-wait` fail with exit 6.

use std::process::Stdio;

use confiture::db::lock::lock_key;

use crate::harness::TestProject;
use crate::migrate_up::tracked;

#[test]
fn two_concurrent_runs_apply_each_migration_exactly_once() {
    let p = TestProject::new();
    p.db.client()
        .batch_execute("CREATE TABLE applied_log (version text)")
        .unwrap();
    for v in 1..=3 {
        p.write(
            &format!("db/migrations/00{v}_step{v}.up.sql"),
            &format!("SELECT pg_sleep(0.5);\nINSERT INTO applied_log VALUES ('{v}');\n"),
        );
    }
    let start = || {
        p.command(&["migrate", "up"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (start(), start());
    for child in [first, second] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    assert_eq!(
        p.db.scalar("SELECT string_agg(version, ',' ORDER BY version) FROM applied_log"),
        Some("1,2,3".into())
    );
    assert_eq!(tracked(&p), 3);
}

#[test]
fn no_wait_and_lock_wait_fail_with_exit_6_naming_the_holder() {
    let p = TestProject::new();
    p.write("db/migrations/001_a.up.sql", "CREATE TABLE a (id int);\n");
    let mut holder = p.db.client();
    holder
        .query("SELECT pg_advisory_lock($1)", &[&lock_key("tb_confiture")])
        .unwrap();

    let run = p.run(&["migrate", "up", "--no-wait", "--format", "json"]);
    assert_eq!(run.code, 6, "{run:?}");
    let message = run.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(message.contains("pid"), "{message}");

    let started = std::time::Instant::now();
    let run = p.run(&["migrate", "up", "--lock-wait", "1"]);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    assert!(
        run.stderr.contains("waiting for the migration lock"),
        "{}",
        run.stderr
    );
    assert_eq!(
        p.db.scalar("SELECT (to_regclass('a') IS NULL)::text"),
        Some("true".into())
    );

    holder
        .query(
            "SELECT pg_advisory_unlock($1)",
            &[&lock_key("tb_confiture")],
        )
        .unwrap();
    p.run(&["migrate", "up"]).ok();
}
