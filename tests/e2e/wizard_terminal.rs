//! `migrate wizard`'s terminal when things around it misbehave: stdout piped to `tee` with keys
//! typed ahead during a migration, and SIGTERM, SIGHUP or SIGINT during the review or a question.
//! Each run is started by bash on a pseudo-terminal, which afterwards prints the wizard's exit
//! code and `stty -a` of that terminal: what the operator's shell gets back.

use std::process::Command;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::harness::TestProject;
use crate::migrate_up::exists;
use crate::pty::{Pty, strip};
use crate::wizard_lines::{ANA, applied, events, migration, three_levels, triple};

/// How long the UI may take to show something.
const SHOW: Duration = Duration::from_secs(20);

/// Leaves the alternate screen.
const LEAVE_ALTERNATE_SCREEN: &[u8] = b"\x1b[?1049l";

/// Shows the cursor.
const SHOW_CURSOR: &[u8] = b"\x1b[?25h";

/// `confiture migrate wizard args` as ANA on a 100x30 pseudo-terminal, run by bash as
/// `confiture ... {pipe}`; then bash prints `wizard exit CODE` and `stty -a`, and exits with the
/// wizard's code.
fn wizard_in_shell(p: &TestProject, args: &[&str], pipe: &str) -> Pty {
    let mut all = vec!["migrate", "wizard"];
    all.extend_from_slice(args);
    let confiture = p.command(&all);
    let mut bash = Command::new("bash");
    bash.arg("-c")
        .arg(format!(
            r#""$@" {pipe}; code=${{PIPESTATUS[0]}}; echo "wizard exit $code"; stty -a; exit $code"#
        ))
        .arg("bash")
        .arg(confiture.get_program())
        .args(confiture.get_args());
    if let Some(dir) = confiture.get_current_dir() {
        bash.current_dir(dir);
    }
    for (key, value) in confiture.get_envs() {
        match value {
            Some(value) => bash.env(key, value),
            None => bash.env_remove(key),
        };
    }
    bash.env("CONFITURE_USER", ANA)
        .env("TERM", "xterm-256color");
    Pty::spawn(bash, 100, 30)
}

/// The `confiture` process that bash (`shell`) started.
fn confiture_under(shell: u32) -> Pid {
    for entry in std::fs::read_dir("/proc").expect("read /proc") {
        let Ok(pid) = entry
            .expect("a /proc entry")
            .file_name()
            .to_string_lossy()
            .parse()
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`; comm may contain spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let parent = stat[close + 1..].split_whitespace().nth(1);
        if &stat[open + 1..close] == "confiture" && parent == Some(&shell.to_string()) {
            return Pid::from_raw(pid);
        }
    }
    panic!("no confiture process under bash {shell}");
}

/// Where `needle` last occurs in `haystack`.
fn last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// Asserts that `stty -a`, printed by bash after the wizard, shows echo and canonical input on.
fn terminal_is_cooked(screen: &str) {
    let stty = &screen[screen.rfind("wizard exit").expect("bash's report")..];
    let flags: Vec<&str> = stty.split_whitespace().collect();
    for flag in ["echo", "icanon", "isig"] {
        assert!(
            flags.contains(&flag),
            "the terminal was left without `{flag}`:\n{stty}"
        );
    }
}

/// Sends `signal` to the wizard under `ui` and returns its exit code, raw and stripped output.
fn stop_with(ui: Pty, signal: Signal) -> (i32, Vec<u8>, String) {
    kill(confiture_under(ui.pid()), signal).expect("signal the wizard");
    let (code, raw) = ui.wait_raw(SHOW);
    let screen = strip(&raw);
    (code, raw, screen)
}

#[test]
fn wizard_terminal_stdout_not_a_terminal_typed_ahead_keys_answer_nothing() {
    let p = TestProject::new();
    migration(
        &p,
        "001_keep",
        "CREATE TABLE keep_me (id int);\nSELECT pg_sleep(2);\n",
    );
    migration(&p, "002_drop_keep", "DROP TABLE keep_me;\n");
    let log = p.root().join("wizard.log");
    let mut ui = wizard_in_shell(
        &p,
        &["--timeout", "3"],
        &format!("| tee '{}'", log.display()),
    );
    ui.expect("Apply 001_keep", SHOW);
    ui.send(b"y");
    ui.expect("applying 001_keep", SHOW);
    // Typed while 001 runs: yes to the critical question that follows, and a word to be echoed.
    ui.send(b"y\rXYZZY\ry");
    ui.expect("Apply 002_drop_keep [CRITICAL]? [y/N]", SHOW);
    ui.expect("(no answer in 3 s: no)", SHOW);
    let (code, screen) = ui.wait(SHOW);
    assert_eq!(code, 7, "the typed-ahead y did not answer:\n{screen}");
    assert!(screen.contains("wizard exit 7"), "{screen}");
    // The order of tee's lines and the question is not asserted: tee writes when the scheduler
    // lets it (the wizard only waits for it to read them).
    assert!(
        !screen.contains("XYZZY"),
        "keys typed during the apply were echoed:\n{screen}"
    );
    assert_eq!(applied(&p), ["001"]);
    assert!(exists(&p, "keep_me"), "the DROP ran without being asked");
    assert_eq!(
        events(&p),
        [
            triple("applied", "001", "applied"),
            triple("declined", "002", "timed out"),
        ]
    );
    // The run's output went through tee; the questions went to the terminal only.
    let logged = std::fs::read_to_string(&log).expect("tee's file");
    assert!(logged.contains("applied 001_keep"), "{logged}");
    assert!(logged.contains("Wizard: 1 applied"), "{logged}");
    assert!(!logged.contains("Apply 002_drop_keep"), "{logged}");
    terminal_is_cooked(&screen);

    // stdout redirected to a file under --format json: the question on the terminal, the file
    // the JSON report alone.
    let report = p.root().join("wizard.json");
    let mut ui = wizard_in_shell(
        &p,
        &["--format", "json"],
        &format!("> '{}'", report.display()),
    );
    ui.expect("1 pending migration(s)", SHOW);
    ui.expect("Apply 002_drop_keep [CRITICAL]? [y/N]", SHOW);
    ui.send(b"n");
    let (code, screen) = ui.wait(SHOW);
    assert_eq!(code, 7, "{screen}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("the report"))
            .expect("stdout holds the JSON report only");
    assert_eq!(json["stopped"]["answer"], "declined", "{json}");
    assert!(exists(&p, "keep_me"));
}

#[test]
fn wizard_terminal_signals_restore_the_terminal() {
    let p = TestProject::new();
    three_levels(&p);

    // SIGTERM during the review: the main screen, the cursor and the settings are back.
    let mut ui = wizard_in_shell(&p, &["--review"], "");
    ui.expect("CREATE TABLE users", SHOW);
    ui.expect("Enter/a: done", SHOW);
    let (code, raw, screen) = stop_with(ui, Signal::SIGTERM);
    assert_eq!(code, 143, "{screen}");
    assert!(screen.contains("stopped by SIGTERM (exit 143)"), "{screen}");
    let frame = last(&raw, b"Enter/a: done").expect("a review frame");
    for (what, sequence) in [
        ("leave the alternate screen", LEAVE_ALTERNATE_SCREEN),
        ("show the cursor", SHOW_CURSOR),
    ] {
        assert!(
            last(&raw, sequence).is_some_and(|at| at > frame),
            "no sequence to {what} after the last frame:\n{screen}"
        );
    }
    terminal_is_cooked(&screen);
    assert!(applied(&p).is_empty(), "{screen}");
    assert!(!exists(&p, "users"));
    assert!(events(&p).is_empty());

    // SIGTERM at a question after one migration: it stays applied, the next never ran.
    let mut ui = wizard_in_shell(&p, &[], "");
    ui.expect("Apply 001_users", SHOW);
    ui.send(b"y");
    ui.expect("applied 001_users", SHOW);
    ui.expect("Apply 002_email_index", SHOW);
    let (code, raw, screen) = stop_with(ui, Signal::SIGTERM);
    assert_eq!(code, 143, "{screen}");
    let question = last(&raw, b"Apply 002_email_index").expect("the question");
    assert!(
        last(&raw, SHOW_CURSOR).is_some_and(|at| at > question),
        "{screen}"
    );
    terminal_is_cooked(&screen);
    assert_eq!(applied(&p), ["001"]);
    assert!(!exists(&p, "users_email"));

    // SIGHUP (a closed SSH session) and SIGINT at the same question: the same, 128 + n.
    for (signal, code_wanted, name) in [
        (Signal::SIGHUP, 129, "SIGHUP"),
        (Signal::SIGINT, 130, "SIGINT"),
    ] {
        let mut ui = wizard_in_shell(&p, &[], "");
        ui.expect("Apply 002_email_index", SHOW);
        let (code, _, screen) = stop_with(ui, signal);
        assert_eq!(code, code_wanted, "{screen}");
        assert!(screen.contains(&format!("stopped by {name}")), "{screen}");
        terminal_is_cooked(&screen);
        assert_eq!(applied(&p), ["001"]);
    }
    assert_eq!(events(&p), [triple("applied", "001", "applied")]);
}

#[test]
fn wizard_terminal_sigterm_during_a_migration_commits_nothing() {
    let p = TestProject::new();
    migration(
        &p,
        "001_slow",
        "CREATE TABLE half_made (id int);\nSELECT pg_sleep(3);\n",
    );
    let mut ui = wizard_in_shell(&p, &[], "");
    ui.expect("Apply 001_slow", SHOW);
    ui.send(b"y");
    ui.expect("applying 001_slow", SHOW);
    // Typed during the apply, while echo is off: not shown, discarded when the wizard stops (the
    // shell never reads them), and echo is back afterwards.
    ui.send(b"XYZZY");
    let (code, _, screen) = stop_with(ui, Signal::SIGTERM);
    assert_eq!(code, 143, "{screen}");
    assert!(screen.contains("stopped by SIGTERM (exit 143)"), "{screen}");
    assert!(!screen.contains("XYZZY"), "{screen}");
    terminal_is_cooked(&screen);
    assert!(applied(&p).is_empty(), "{screen}");
    assert!(
        !exists(&p, "half_made"),
        "the interrupted migration was rolled back"
    );
}
