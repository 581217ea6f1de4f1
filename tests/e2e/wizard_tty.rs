//! `migrate wizard` on a real pseudo-terminal: the crossterm UI driven by keys, its screen read
//! back — review (scrolling, marked statements), confirm, decline, timeout, `--auto`, the typed
//! backup confirmation, and a failing migration.

use std::time::Duration;

use crate::harness::TestProject;
use crate::migrate_up::exists;
use crate::pty::Pty;
use crate::wizard_lines::{ANA, applied, events, migration, three_levels, triple};

/// How long the UI may take to show something (a first run compiles nothing, but CI is slow).
pub(crate) const SHOW: Duration = Duration::from_secs(20);

/// The wizard with `args` on a 100x30 terminal, as ANA.
pub(crate) fn wizard(p: &TestProject, args: &[&str]) -> Pty {
    let mut all = vec!["migrate", "wizard"];
    all.extend_from_slice(args);
    let mut cmd = p.command(&all);
    cmd.env("CONFITURE_USER", ANA).env("TERM", "xterm-256color");
    Pty::spawn(cmd, 100, 30)
}

#[test]
fn wizard_tty_review_then_confirm_then_decline() {
    let p = TestProject::new();
    three_levels(&p);
    let mut ui = wizard(&p, &["--review"]);
    ui.expect("3 pending migration(s)", SHOW);
    // The review of 001: its SQL, then Enter ends it.
    ui.expect("001_users", SHOW);
    ui.expect("CREATE TABLE users", SHOW);
    ui.send(b"j");
    ui.send(b"\r");
    ui.expect("Apply 001_users", SHOW);
    ui.send(b"y");
    ui.expect("applied 001_users", SHOW);
    // The review of 002 marks the index build with its reason.
    ui.expect("CREATE INDEX users_email", SHOW);
    ui.expect("without CONCURRENTLY", SHOW);
    ui.send(b"a");
    ui.expect("Apply 002_email_index", SHOW);
    ui.send(b"n");
    let (code, screen) = ui.wait(SHOW);
    assert_eq!(code, 7, "a no stops the wizard with exit 7:\n{screen}");
    assert_eq!(applied(&p), ["001"]);
    assert!(
        !exists(&p, "users_email"),
        "the declined index was not built"
    );
    assert_eq!(
        events(&p),
        [
            triple("review", "001", "reviewed"),
            triple("applied", "001", "applied"),
            triple("review", "002", "reviewed"),
            triple("declined", "002", "declined"),
        ]
    );
}

#[test]
fn wizard_tty_quit_from_review_applies_nothing() {
    let p = TestProject::new();
    three_levels(&p);
    let mut ui = wizard(&p, &["--review"]);
    ui.expect("CREATE TABLE users", SHOW);
    ui.send(b"q");
    let (code, screen) = ui.wait(SHOW);
    assert_eq!(code, 7, "{screen}");
    assert!(applied(&p).is_empty());
    assert_eq!(events(&p), [triple("review", "001", "stopped at review")]);
}

#[test]
fn wizard_tty_enter_is_yes_and_everything_applies() {
    let p = TestProject::new();
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
    let mut ui = wizard(&p, &[]);
    ui.expect("Apply 001_users", SHOW);
    ui.send(b"\r");
    ui.expect("applied 001_users", SHOW);
    ui.expect("Apply 002_posts", SHOW);
    ui.send(b"Y");
    let (code, screen) = ui.wait(SHOW);
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("2 applied"), "{screen}");
    assert_eq!(applied(&p), ["001", "002"]);
}

#[test]
fn wizard_tty_timeout_means_no() {
    let p = TestProject::new();
    three_levels(&p);
    let mut ui = wizard(&p, &["--timeout", "1"]);
    ui.expect("Apply 001_users", SHOW);
    let (code, screen) = ui.wait(SHOW);
    assert_eq!(code, 7, "{screen}");
    assert!(screen.contains("no answer in 1 s"), "{screen}");
    assert!(applied(&p).is_empty());
    assert_eq!(events(&p), [triple("declined", "001", "timed out")]);
}

#[test]
fn wizard_tty_auto_answers_low_and_asks_for_the_rest() {
    let p = TestProject::new();
    three_levels(&p);
    let mut ui = wizard(&p, &["--auto"]);
    ui.expect("auto: yes for 001_users", SHOW);
    ui.expect("applied 001_users", SHOW);
    ui.expect("Apply 002_email_index", SHOW);
    ui.send(b"y");
    ui.expect("applied 002_email_index", SHOW);
    ui.expect("Apply 003_drop_email", SHOW);
    ui.send(b"n");
    let (code, screen) = ui.wait(SHOW);
    assert_eq!(code, 7, "{screen}");
    assert_eq!(applied(&p), ["001", "002"]);
}

#[test]
fn wizard_tty_backup_confirmation_needs_the_database_name() {
    let p = TestProject::new();
    three_levels(&p);
    // A wrong name stops before the critical migration.
    let mut ui = wizard(&p, &["--auto", "--require-backup"]);
    ui.expect("Apply 002_email_index", SHOW);
    ui.send(b"y");
    ui.expect("Type the database name", SHOW);
    ui.send(b"not-the-name\r");
    let (code, screen) = ui.wait(SHOW);
    assert_eq!(code, 7, "{screen}");
    assert_eq!(applied(&p), ["001", "002"]);
    // The right name (with a typo corrected by Backspace), then yes.
    let mut ui = wizard(&p, &["--require-backup"]);
    ui.expect("Type the database name", SHOW);
    ui.send(format!("{}x\x7f\r", p.db.name).as_bytes());
    ui.expect("Apply 003_drop_email", SHOW);
    ui.send(b"y");
    let (code, screen) = ui.wait(SHOW);
    assert_eq!(code, 0, "{screen}");
    assert_eq!(applied(&p), ["001", "002", "003"]);
    let backups: Vec<_> = events(&p)
        .into_iter()
        .filter(|(event, _, _)| event == "backup_confirmation")
        .collect();
    assert_eq!(
        backups,
        [
            triple("backup_confirmation", "003", "not confirmed"),
            triple("backup_confirmation", "003", "confirmed"),
        ]
    );
}

#[test]
fn wizard_tty_failure_stops_with_the_database_as_before() {
    let p = TestProject::new();
    migration(
        &p,
        "001_users",
        "CREATE TABLE users (id int PRIMARY KEY);\n",
    );
    migration(
        &p,
        "002_broken",
        "CREATE TABLE posts (id int PRIMARY KEY);\nSELECT 1 / 0;\n",
    );
    migration(&p, "003_tags", "CREATE TABLE tags (id int PRIMARY KEY);\n");
    let mut ui = wizard(&p, &[]);
    ui.expect("Apply 001_users", SHOW);
    ui.send(b"y");
    ui.expect("Apply 002_broken", SHOW);
    ui.send(b"y");
    ui.expect("failed 002_broken", SHOW);
    ui.expect("division by zero", SHOW);
    let (code, screen) = ui.wait(SHOW);
    assert_eq!(code, 1, "{screen}");
    assert!(screen.contains("rolled back"), "{screen}");
    assert_eq!(applied(&p), ["001"]);
    assert!(!exists(&p, "posts"), "the failed migration left nothing");
    assert!(!exists(&p, "tags"), "nothing after the failure ran");
    let last = events(&p).pop().unwrap();
    assert_eq!(last, triple("failed", "002", "failed"));
}
