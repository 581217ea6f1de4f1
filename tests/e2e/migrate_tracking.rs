//! A migration commits together with its tracking row and its audit entry, or not at all: a
//! trigger makes the server refuse the tracking-table write (or the audit-trail row written at
//! the same point) for `migrate up`, `migrate down`, the wizard on a terminal and
//! `run-scheduled`. Each run must fail with the server's message and SQLSTATE, leave the
//! migration's effects rolled back and the tracking table as it was, and run again once the
//! trigger is gone.

use std::time::Duration;

use crate::harness::{Run, TestProject};
use crate::migrate_up::{exists, two_migrations};
use crate::pty::Pty;
use crate::wizard_lines::{ANA, applied, entries_of, migration, run_as, three_low};
use crate::wizard_tty::{SHOW, wizard};

/// The SQLSTATE the refusing trigger raises (a code no real failure uses).
const REFUSED_STATE: &str = "CF042";
/// The refusing trigger's message (non-ASCII on purpose: it must come through intact).
const REFUSED_MESSAGE: &str = "écriture refusée par le test";

/// Makes the server refuse `op` (`INSERT`, `DELETE`) on `table` for the rows matching `when`
/// (a trigger `WHEN` condition, `true` for every row), with [`REFUSED_MESSAGE`].
fn refuse(p: &TestProject, table: &str, op: &str, when: &str) {
    p.db.client()
        .batch_execute(&format!(
            "CREATE OR REPLACE FUNCTION refuse_write() RETURNS trigger LANGUAGE plpgsql AS $f$ \
             BEGIN RAISE EXCEPTION '{REFUSED_MESSAGE}' USING ERRCODE = '{REFUSED_STATE}'; END $f$; \
             CREATE TRIGGER refuse_write BEFORE {op} ON {table} FOR EACH ROW WHEN ({when}) \
             EXECUTE FUNCTION refuse_write();"
        ))
        .unwrap();
}

/// Drops the trigger [`refuse`] put on `table`.
fn allow(p: &TestProject, table: &str) {
    p.db.client()
        .batch_execute(&format!("DROP TRIGGER refuse_write ON {table}"))
        .unwrap();
}

/// Asserts `text` carries the server's refusal: its SQLSTATE and its message.
fn assert_refusal_shown(text: &str) {
    assert!(
        text.contains(&format!("ERROR {REFUSED_STATE}: {REFUSED_MESSAGE}")),
        "the server's message and SQLSTATE are shown:\n{text}"
    );
}

/// Asserts the text run failed (exit 1) with the server's refusal, and says it was rolled back
/// as the server confirmed.
fn assert_refused_and_rolled_back(run: &Run) {
    assert_eq!(run.code, 1, "{run:?}");
    assert_refusal_shown(&run.stderr);
    assert!(
        run.stderr.contains("rolled back (the server confirmed it)"),
        "{}",
        run.stderr
    );
}

#[test]
fn tracking_write_refused_rolls_back_up_and_down() {
    let p = TestProject::new();
    two_migrations(&p);
    p.run(&["migrate", "up", "--target", "001"]).ok();

    // up: the tracking row of 002 is refused, so 002's table must not exist.
    refuse(&p, "tb_confiture", "INSERT", "true");
    let run = p.run(&["migrate", "up"]);
    assert_refused_and_rolled_back(&run);
    assert!(!exists(&p, "posts"), "002's change was rolled back");
    assert_eq!(applied(&p), ["001"]);
    let json = p.run(&["migrate", "up", "--format", "json"]);
    assert_eq!(json.code, 1, "{json:?}");
    let json = json.json();
    assert_eq!(json["failure"]["version"], "002", "{json}");
    assert_eq!(json["failure"]["left"]["left"], "nothing", "{json}");
    assert_refusal_shown(json["failure"]["message"].as_str().unwrap());
    assert!(json["applied"].as_array().unwrap().is_empty(), "{json}");
    assert!(!exists(&p, "posts"));
    assert_eq!(applied(&p), ["001"]);
    // Once the write is allowed, the same run applies it (nothing was left half-done).
    allow(&p, "tb_confiture");
    p.run(&["migrate", "up"]).ok();
    assert!(exists(&p, "posts"));
    assert_eq!(applied(&p), ["001", "002"]);

    // down: the tracking row of 002 cannot be deleted, so 002's table must still exist.
    refuse(&p, "tb_confiture", "DELETE", "true");
    let run = p.run(&["migrate", "down"]);
    assert_refused_and_rolled_back(&run);
    assert!(exists(&p, "posts"), "002's rollback was itself rolled back");
    assert_eq!(applied(&p), ["001", "002"]);
    allow(&p, "tb_confiture");
    p.run(&["migrate", "down"]).ok();
    assert!(!exists(&p, "posts") && exists(&p, "users"));
    assert_eq!(applied(&p), ["001"]);
}

/// `migrate wizard` as ANA on a terminal, answering yes to each of `slugs`.
fn wizard_applying(p: &TestProject, slugs: &[&str]) -> Pty {
    let mut ui = wizard(p, &[]);
    for slug in slugs {
        ui.expect(&format!("Apply {slug}"), SHOW);
        ui.send(b"y");
    }
    ui
}

/// The events of the audit entries about `version`, oldest first.
fn audited(p: &TestProject, version: &str) -> Vec<String> {
    crate::wizard_lines::audit(p, &[])
        .iter()
        .filter(|e| e["version"] == version)
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn tracking_write_refused_rolls_back_the_wizard() {
    let p = TestProject::new();
    three_low(&p);
    let mut ui = wizard_applying(&p, &["001_users"]);
    ui.expect("Apply 002_posts", SHOW);
    ui.send(b"n");
    let (code, screen) = ui.wait(SHOW);
    assert_eq!(code, 7, "{screen}");
    assert_eq!(applied(&p), ["001"]);

    // The tracking row of 002 is refused.
    refuse(&p, "tb_confiture", "INSERT", "true");
    let mut ui = wizard_applying(&p, &["002_posts"]);
    ui.expect("failed 002_posts", SHOW);
    let (code, screen) = ui.wait(SHOW);
    assert_eq!(code, 1, "{screen}");
    assert!(screen.contains(REFUSED_STATE), "{screen}");
    assert!(screen.contains("rolled back"), "{screen}");
    assert!(!exists(&p, "posts") && !exists(&p, "tags"));
    assert_eq!(applied(&p), ["001"]);
    assert_eq!(audited(&p, "002"), ["declined", "failed"]);
    allow(&p, "tb_confiture");

    // The audit entry of 002's application is refused: it is written in the same transaction.
    refuse(&p, "tb_confiture_audit", "INSERT", "NEW.event = 'applied'");
    let mut ui = wizard_applying(&p, &["002_posts"]);
    ui.expect("failed 002_posts", SHOW);
    let (code, screen) = ui.wait(SHOW);
    assert_eq!(code, 1, "{screen}");
    assert!(screen.contains(REFUSED_STATE), "{screen}");
    assert!(!exists(&p, "posts"));
    assert_eq!(applied(&p), ["001"]);
    assert_eq!(audited(&p, "002"), ["declined", "failed", "failed"]);
    allow(&p, "tb_confiture_audit");

    let mut ui = wizard_applying(&p, &["002_posts", "003_tags"]);
    ui.expect("applied 003_tags", SHOW);
    let (code, screen) = ui.wait(SHOW);
    assert_eq!(code, 0, "{screen}");
    assert!(exists(&p, "posts") && exists(&p, "tags"));
    assert_eq!(applied(&p), ["001", "002", "003"]);
}

/// Schedules `version` one second from now (as ANA) and waits until it is due.
fn schedule_due(p: &TestProject, version: &str) {
    run_as(p, ANA, &["migrate", "schedule", version, "--at", "+1s"]).ok();
    std::thread::sleep(Duration::from_millis(1500));
}

/// `migrate run-scheduled --format json` as the cron user → (exit code, the run of `version`).
fn run_scheduled(p: &TestProject, version: &str) -> (i32, serde_json::Value) {
    let run = run_as(p, "cron", &["migrate", "run-scheduled", "--format", "json"]);
    let json = run.json();
    let runs = json["runs"].as_array().unwrap_or_else(|| panic!("{run:?}"));
    let found = runs.iter().find(|r| r["version"] == version);
    let found = found.unwrap_or_else(|| panic!("no run of {version}: {run:?}"));
    (run.code, found.clone())
}

/// A project of three migrations, the first applied by `run-scheduled` (which creates the
/// schedule and the audit trail).
fn with_001_run_on_schedule() -> TestProject {
    let p = TestProject::new();
    three_low(&p);
    schedule_due(&p, "001");
    let (code, run) = run_scheduled(&p, "001");
    assert_eq!((code, &run["outcome"]), (0, &"applied".into()), "{run}");
    p
}

#[test]
fn tracking_write_refused_rolls_back_a_scheduled_run() {
    let p = with_001_run_on_schedule();

    // The tracking row, then the audit entry of the application, is refused.
    for (table, when) in [
        ("tb_confiture", "true"),
        ("tb_confiture_audit", "NEW.event = 'applied'"),
    ] {
        refuse(&p, table, "INSERT", when);
        schedule_due(&p, "002");
        let (code, run) = run_scheduled(&p, "002");
        assert_eq!(code, 1, "{table}: {run}");
        assert_eq!(run["outcome"], "failed", "{table}: {run}");
        assert_refusal_shown(run["detail"].as_str().unwrap());
        assert!(!exists(&p, "posts"), "{table}");
        assert_eq!(applied(&p), ["001"], "{table}");
        allow(&p, table);
    }
    let failed = entries_of(&p, "failed");
    assert_eq!(failed.len(), 2, "each failure is in the trail: {failed:?}");
    assert!(
        failed
            .iter()
            .all(|f| f["detail"].as_str().unwrap().contains(REFUSED_STATE)),
        "{failed:?}"
    );
    assert_eq!(entries_of(&p, "applied").len(), 1, "only 001's");

    schedule_due(&p, "002");
    let (code, run) = run_scheduled(&p, "002");
    assert_eq!((code, &run["outcome"]), (0, &"applied".into()), "{run}");
    assert!(exists(&p, "posts"));
    assert_eq!(applied(&p), ["001", "002"]);
}

/// The audit trail refuses the entry of a failure while the connection is open: the run fails
/// on it and says so (never as a lost connection), after the migration's own failure and what
/// it left, which is rolled back.
#[test]
fn an_audit_trail_refusing_a_failure_stops_the_run_and_says_why() {
    let p = with_001_run_on_schedule();

    refuse(&p, "tb_confiture", "INSERT", "true");
    refuse(&p, "tb_confiture_audit", "INSERT", "NEW.event = 'failed'");
    schedule_due(&p, "002");
    let run = run_as(&p, "cron", &["migrate", "run-scheduled"]);
    assert_eq!(run.code, 1, "{run:?}");
    // The migration's own failure and what it left come first, then the trail's refusal.
    assert!(
        run.stderr.contains(&format!(
            "error: 002_posts failed (recording 002_posts in tb_confiture: ERROR {REFUSED_STATE}"
        )),
        "{run:?}"
    );
    assert!(
        run.stderr.contains(
            "rolled back (the server confirmed it): the database and the tracking table are as \
             they were before 002_posts; and the audit trail refused to record that failure"
        ),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("caused by: recording `failed` of 002_posts in the audit trail"),
        "{run:?}"
    );
    assert_refusal_shown(&run.stderr);
    assert!(!run.stderr.contains("connection is lost"), "{run:?}");
    assert!(!exists(&p, "posts"));
    assert_eq!(applied(&p), ["001"]);
    assert_eq!(entries_of(&p, "failed"), Vec::<serde_json::Value>::new());
}

/// A migration that ends its own connection fails; the audit entry of that failure cannot be
/// written on the lost connection, which is warned about (not made the run's error), and the
/// run fails.
#[test]
fn a_failure_on_a_lost_connection_warns_that_the_audit_trail_cannot_take_it() {
    let p = with_001_run_on_schedule();

    migration(
        &p,
        "002_posts",
        "SELECT pg_terminate_backend(pg_backend_pid());\n",
    );
    schedule_due(&p, "002");
    let run = run_as(&p, "cron", &["migrate", "run-scheduled"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "warning: 002_posts: not recorded in the audit trail (the connection is lost)"
        ),
        "{run:?}"
    );
    // As warned: no entry of the failure, and nothing of 002 recorded.
    assert_eq!(entries_of(&p, "failed"), Vec::<serde_json::Value>::new());
    assert_eq!(applied(&p), ["001"]);
}
