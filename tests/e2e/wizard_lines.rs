//! `migrate wizard` without a terminal: line prompts on a piped stdin (yes/no, empty = yes,
//! review, backup confirmation, `--auto`, `--timeout`, end of input), the refusal on a null
//! stdin, a failing migration, and the JSON report. Also the helpers `wizard_team` shares.

use std::io::{Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{Run, TestProject};
use crate::migrate_up::exists;

/// The operator in these tests.
pub(crate) const ANA: &str = "ana";

/// Writes `db/migrations/<slug>.up.sql`.
pub(crate) fn migration(p: &TestProject, slug: &str, sql: &str) {
    p.write(&format!("db/migrations/{slug}.up.sql"), sql);
}

/// `001_users` (LOW), `002_email_index` (HIGH: an index without CONCURRENTLY) and
/// `003_drop_email` (CRITICAL: a dropped column).
pub(crate) fn three_levels(p: &TestProject) {
    migration(
        p,
        "001_users",
        "CREATE TABLE users (id int PRIMARY KEY, email text);\n",
    );
    migration(
        p,
        "002_email_index",
        "CREATE INDEX users_email ON users (email);\n",
    );
    migration(
        p,
        "003_drop_email",
        "ALTER TABLE users DROP COLUMN email;\n",
    );
}

/// Three LOW migrations creating `users`, `posts` and `tags`.
pub(crate) fn three_low(p: &TestProject) {
    migration(p, "001_users", "CREATE TABLE users (id int PRIMARY KEY);\n");
    migration(p, "002_posts", "CREATE TABLE posts (id int PRIMARY KEY);\n");
    migration(p, "003_tags", "CREATE TABLE tags (id int PRIMARY KEY);\n");
}

/// Runs `confiture args` as `user` (`CONFITURE_USER`) with stdin null.
pub(crate) fn run_as(p: &TestProject, user: &str, args: &[&str]) -> Run {
    Run::from(
        p.command(args)
            .env("CONFITURE_USER", user)
            .output()
            .unwrap_or_else(|e| panic!("run confiture {args:?}: {e}")),
    )
}

/// Runs `confiture args` as `user` with `input` on a pipe as stdin, closed once written.
pub(crate) fn answer(p: &TestProject, user: &str, args: &[&str], input: &str) -> Run {
    let mut child = p
        .command(args)
        .env("CONFITURE_USER", user)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run confiture {args:?}: {e}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    // The binary may stop before reading it all: a broken pipe is fine.
    let _ = stdin.write_all(input.as_bytes());
    drop(stdin);
    Run::from(child.wait_with_output().expect("wait for confiture"))
}

/// The audit trail's entries (`migrate audit --format json` with `extra` arguments).
pub(crate) fn audit(p: &TestProject, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["migrate", "audit", "--format", "json"];
    args.extend_from_slice(extra);
    let run = run_as(p, "auditor", &args);
    run.ok();
    let json = run.json();
    assert_eq!(json["table"], "tb_confiture_audit", "{json}");
    json["entries"].as_array().expect("entries").clone()
}

/// `(event, version, outcome)` of every audit entry, oldest first.
pub(crate) fn events(p: &TestProject) -> Vec<(String, String, String)> {
    audit(p, &[])
        .iter()
        .map(|e| {
            let field = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (field("event"), field("version"), field("outcome"))
        })
        .collect()
}

/// The entries of one event kind.
pub(crate) fn entries_of(p: &TestProject, event: &str) -> Vec<Value> {
    audit(p, &[])
        .into_iter()
        .filter(|e| e["event"] == event)
        .collect()
}

/// The versions in the tracking table, in order (none when it does not exist yet).
pub(crate) fn applied(p: &TestProject) -> Vec<String> {
    if !exists(p, "tb_confiture") {
        return Vec::new();
    }
    p.db.scalar("SELECT coalesce(string_agg(version, ',' ORDER BY version), '') FROM tb_confiture")
        .unwrap_or_default()
        .split(',')
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

/// Shorthand for string-triple comparisons.
pub(crate) fn triple(event: &str, version: &str, outcome: &str) -> (String, String, String) {
    (event.into(), version.into(), outcome.into())
}

#[test]
fn wizard_lines_yes_then_no_stops_there() {
    let p = TestProject::new();
    three_low(&p);
    let run = answer(&p, ANA, &["migrate", "wizard"], "y\nn\ny\n");
    assert_eq!(run.code, 7, "{run:?}");
    let out = &run.stdout;
    assert!(out.contains("3 pending migration(s):"), "{out}");
    assert!(out.contains("1. 001_users [LOW]"), "{out}");
    // The piped answers are echoed after the questions.
    assert!(out.contains("Apply 001_users [LOW]? [Y/n] y\n"), "{out}");
    assert!(out.contains("Apply 002_posts [LOW]? [Y/n] n\n"), "{out}");
    assert!(
        !out.contains("Apply 003_tags"),
        "never asked after the no: {out}"
    );
    assert!(out.contains("Stopped (declined)"), "{out}");
    assert!(
        out.contains("1 applied, 0 scheduled, 2 not applied"),
        "{out}"
    );
    assert!(exists(&p, "users") && !exists(&p, "posts") && !exists(&p, "tags"));
    assert_eq!(applied(&p), ["001"]);
    assert_eq!(
        p.db.scalar("SELECT applied_by_identity FROM tb_confiture WHERE version = '001'"),
        Some(ANA.into())
    );
    assert_eq!(
        events(&p),
        [
            triple("applied", "001", "applied"),
            triple("declined", "002", "declined")
        ]
    );

    // The next run starts at the declined one.
    let run = answer(&p, ANA, &["migrate", "wizard"], "yes\nY\n");
    run.ok();
    assert!(
        run.stdout.contains("2 pending migration(s):"),
        "{}",
        run.stdout
    );
    assert_eq!(applied(&p), ["001", "002", "003"]);
    let run = answer(&p, ANA, &["migrate", "wizard"], "");
    run.ok();
    assert!(run.stdout.contains("up to date"), "{}", run.stdout);
}

#[test]
fn wizard_lines_empty_line_is_yes_and_other_text_asks_again() {
    let p = TestProject::new();
    three_low(&p);
    let run = answer(&p, ANA, &["migrate", "wizard"], "\nmaybe\n\n  YES \n");
    run.ok();
    let out = &run.stdout;
    assert!(out.contains("please answer y or n (got `maybe`)"), "{out}");
    assert_eq!(
        out.matches("Apply 002_posts [LOW]? [Y/n] ").count(),
        2,
        "{out}"
    );
    assert!(
        out.contains("3 applied, 0 scheduled, 0 not applied"),
        "{out}"
    );
    assert_eq!(applied(&p), ["001", "002", "003"]);
}

#[test]
fn wizard_lines_review_marks_risky_statements() {
    let p = TestProject::new();
    three_levels(&p);
    let run = answer(
        &p,
        ANA,
        &["migrate", "wizard", "--review", "--target", "002"],
        "y\ny\ny\nn\n",
    );
    assert_eq!(run.code, 7, "{run:?}");
    let out = &run.stdout;
    assert!(out.contains("2 pending migration(s):"), "{out}");
    assert!(
        out.contains("2. 002_email_index [HIGH]\n       - CREATE INDEX without CONCURRENTLY"),
        "the overview gives the reason: {out}"
    );
    assert!(out.contains("--- 002_email_index [HIGH]"), "{out}");
    assert!(
        out.contains(">> 1 | CREATE INDEX users_email ON users (email);"),
        "{out}"
    );
    assert!(
        out.contains("| ^ HIGH: CREATE INDEX without CONCURRENTLY locks writes"),
        "{out}"
    );
    // A low-risk file is listed without markers.
    assert!(
        out.contains("   1 | CREATE TABLE users (id int PRIMARY KEY, email text);"),
        "{out}"
    );
    assert!(!out.contains(">> 1 | CREATE TABLE"), "{out}");
    assert_eq!(out.matches("Reviewed; go on? [Y/n] y").count(), 2, "{out}");
    assert!(
        out.contains("Apply 002_email_index [HIGH]? [y/N] n"),
        "{out}"
    );
    assert!(!out.contains("003_drop_email"), "--target 002: {out}");
    assert_eq!(applied(&p), ["001"]);
    assert!(!exists(&p, "users_email"));
    assert_eq!(
        events(&p),
        [
            triple("review", "001", "reviewed"),
            triple("applied", "001", "applied"),
            triple("review", "002", "reviewed"),
            triple("declined", "002", "declined"),
        ]
    );

    // No at the review stops before the question.
    let run = answer(&p, ANA, &["migrate", "wizard", "--review"], "n\n");
    assert_eq!(run.code, 7, "{run:?}");
    assert!(!run.stdout.contains("Apply 002"), "{}", run.stdout);
    assert_eq!(
        events(&p).last(),
        Some(&triple("review", "002", "stopped at review"))
    );
    assert_eq!(applied(&p), ["001"]);
}

#[test]
fn wizard_lines_backup_confirmation_needs_the_database_name() {
    let p = TestProject::new();
    three_levels(&p);
    p.run(&["migrate", "up", "--target", "002"]).ok();
    let args = ["migrate", "wizard", "--require-backup"];

    let run = answer(&p, ANA, &args, "postgres\ny\n");
    assert_eq!(run.code, 7, "{run:?}");
    let name = &p.db.name;
    assert!(
        run.stdout.contains(&format!(
            "003_drop_email is CRITICAL. Type the database name `{name}` to confirm"
        )),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("Apply 003"), "{}", run.stdout);
    assert_eq!(applied(&p), ["001", "002"]);
    let backups = entries_of(&p, "backup_confirmation");
    assert_eq!(backups.len(), 1);
    assert_eq!(backups[0]["outcome"], "not confirmed");
    assert_eq!(backups[0]["risk"], "critical");
    assert_eq!(backups[0]["detail"], format!("database {name}"));

    let run = answer(&p, ANA, &args, &format!("{name}\ny\n"));
    run.ok();
    assert!(
        run.stdout
            .contains("Apply 003_drop_email [CRITICAL]? [y/N]"),
        "{}",
        run.stdout
    );
    assert_eq!(applied(&p), ["001", "002", "003"]);
    assert_eq!(
        p.db.scalar(
            "SELECT count(*)::text FROM information_schema.columns \
             WHERE table_name = 'users' AND column_name = 'email'"
        ),
        Some("0".into())
    );
    let backups = entries_of(&p, "backup_confirmation");
    assert_eq!(backups.len(), 2);
    assert_eq!(backups[1]["outcome"], "confirmed");
    assert_eq!(backups[1]["actor"], ANA);
}

#[test]
fn wizard_lines_auto_answers_only_low_risk() {
    let p = TestProject::new();
    migration(
        &p,
        "001_users",
        "CREATE TABLE users (id int, email text);\n",
    );
    migration(
        &p,
        "002_email_index",
        "CREATE INDEX users_email ON users (email);\n",
    );
    migration(&p, "003_tags", "CREATE TABLE tags (id int);\n");
    let run = answer(&p, ANA, &["migrate", "wizard", "--auto"], "n\n");
    assert_eq!(run.code, 7, "{run:?}");
    let out = &run.stdout;
    assert!(
        out.contains("auto: yes for 001_users (low risk, --auto)"),
        "{out}"
    );
    assert!(!out.contains("Apply 001_users"), "{out}");
    assert!(
        out.contains("Apply 002_email_index [HIGH]? [y/N] n"),
        "{out}"
    );
    assert!(!out.contains("003_tags (low"), "{out}");
    assert_eq!(applied(&p), ["001"]);

    let run = answer(&p, ANA, &["migrate", "wizard", "--auto"], "y\n");
    run.ok();
    assert_eq!(
        run.stdout.matches("? [").count(),
        1,
        "one question: {}",
        run.stdout
    );
    assert!(
        run.stdout.contains("auto: yes for 003_tags"),
        "{}",
        run.stdout
    );
    assert_eq!(applied(&p), ["001", "002", "003"]);
    assert!(exists(&p, "users_email") && exists(&p, "tags"));
}

#[test]
fn wizard_lines_timeout_on_an_open_pipe_means_no() {
    let p = TestProject::new();
    three_low(&p);
    let started = Instant::now();
    let mut child = p
        .command(&["migrate", "wizard", "--timeout", "1"])
        .env("CONFITURE_USER", ANA)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn confiture");
    // Held open, never written: the wizard has to give up on its own.
    let stdin = child.stdin.take().expect("piped stdin");
    let deadline = started + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the wizard still waits for an answer after 20 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let elapsed = started.elapsed();
    drop(stdin);
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("piped stdout")
        .read_to_string(&mut stdout)
        .expect("read stdout");
    assert_eq!(status.code(), Some(7), "{stdout}");
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    assert!(
        stdout.contains("Apply 001_users [LOW]? [Y/n] (no answer in 1 s: no)"),
        "{stdout}"
    );
    assert!(stdout.contains("Stopped (timed out)"), "{stdout}");
    assert!(applied(&p).is_empty());
    assert!(!exists(&p, "users"));
    assert_eq!(events(&p), [triple("declined", "001", "timed out")]);
}

#[test]
fn wizard_lines_end_of_input_means_no() {
    let p = TestProject::new();
    three_low(&p);
    let run = answer(&p, ANA, &["migrate", "wizard"], "y\n");
    assert_eq!(run.code, 7, "{run:?}");
    assert!(
        run.stdout
            .contains("Apply 002_posts [LOW]? [Y/n] (end of input: no)"),
        "{}",
        run.stdout
    );
    assert_eq!(applied(&p), ["001"]);
    assert_eq!(
        events(&p).last(),
        Some(&triple("declined", "002", "no input"))
    );
}

#[test]
fn wizard_lines_null_stdin_refuses_unless_auto_and_all_low() {
    let p = TestProject::new();
    three_low(&p);
    migration(
        &p,
        "004_posts_index",
        "CREATE INDEX posts_id ON posts (id);\n",
    );
    let run = run_as(&p, ANA, &["migrate", "wizard"]);
    assert_eq!(run.code, 7, "{run:?}");
    assert!(
        run.stderr.contains("no terminal and no stdin"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was applied"), "{}", run.stderr);
    assert!(applied(&p).is_empty() && !exists(&p, "users"));
    let declined = entries_of(&p, "declined");
    assert_eq!(declined.len(), 1);
    assert_eq!(declined[0]["outcome"], "no input");
    assert_eq!(declined[0]["actor"], ANA);

    // --auto is not enough while a pending migration is above LOW; it is named.
    let run = run_as(&p, ANA, &["migrate", "wizard", "--auto"]);
    assert_eq!(run.code, 7, "{run:?}");
    assert!(
        run.stderr.contains("004_posts_index (HIGH)"),
        "{}",
        run.stderr
    );
    assert!(applied(&p).is_empty() && !exists(&p, "users"));

    // --auto with only LOW ones pending (up to --target) applies them all.
    let run = run_as(&p, ANA, &["migrate", "wizard", "--auto", "--target", "003"]);
    run.ok();
    assert!(
        run.stdout.contains("auto: yes for 003_tags"),
        "{}",
        run.stdout
    );
    assert_eq!(applied(&p), ["001", "002", "003"]);
    assert!(!exists(&p, "posts_id"));
}

#[test]
fn wizard_lines_failure_stops_with_earlier_ones_applied() {
    let p = TestProject::new();
    migration(&p, "001_users", "CREATE TABLE users (id int);\n");
    migration(
        &p,
        "002_half",
        "CREATE TABLE half (id int);\nINSERT INTO half VALUES (1);\nSELECT 1/0;\n",
    );
    migration(&p, "003_tags", "CREATE TABLE tags (id int);\n");
    let run = answer(
        &p,
        ANA,
        &["migrate", "wizard", "--format", "json"],
        "y\ny\ny\n",
    );
    assert_eq!(run.code, 1, "{run:?}");
    let json = run.json();
    assert_eq!(json["stopped"]["reason"], "failed", "{json}");
    assert_eq!(json["stopped"]["version"], "002", "{json}");
    assert_eq!(json["stopped"]["error"]["sqlstate"], "22012", "{json}");
    let steps = json["steps"].as_array().unwrap();
    let outcomes: Vec<&str> = steps
        .iter()
        .map(|s| s["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["applied", "failed", "not run"], "{json}");
    assert!(
        steps[1]["detail"]
            .as_str()
            .unwrap()
            .contains("division by zero"),
        "{json}"
    );
    // Prompts and progress go to stderr under --format json.
    assert!(run.stderr.contains("failed 002_half"), "{}", run.stderr);
    assert!(!run.stderr.contains("Apply 003_tags"), "{}", run.stderr);
    assert!(exists(&p, "users") && !exists(&p, "half") && !exists(&p, "tags"));
    assert_eq!(applied(&p), ["001"]);
    let failed = entries_of(&p, "failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["version"], "002");
    assert_eq!(failed[0]["actor"], ANA);
    assert!(
        failed[0]["detail"]
            .as_str()
            .unwrap()
            .contains("division by zero"),
        "{failed:?}"
    );
    assert_eq!(
        events(&p)
            .into_iter()
            .filter(|(e, _, _)| e == "applied")
            .count(),
        1,
        "the failed one has no `applied` row"
    );
}

#[test]
fn wizard_lines_json_report_shape() {
    let p = TestProject::new();
    three_levels(&p);
    let run = answer(
        &p,
        "bo@example.org",
        &["migrate", "wizard", "--format", "json"],
        "\nno\n",
    );
    assert_eq!(run.code, 7, "{run:?}");
    let json = run.json();
    assert!(
        json["database"]
            .as_str()
            .unwrap()
            .starts_with("postgresql://"),
        "{json}"
    );
    assert_eq!(json["environment"], "local");
    assert_eq!(json["operator"], "bo@example.org");
    assert_eq!(
        json["stopped"],
        serde_json::json!({"reason": "answered", "answer": "declined"})
    );
    assert_eq!(json["hooks"], serde_json::json!([]));
    let steps = json["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3, "{json}");
    assert_eq!(steps[0]["version"], "001");
    assert_eq!(steps[0]["name"], "users");
    assert_eq!(steps[0]["risk"], "low");
    assert_eq!(steps[0]["outcome"], "applied");
    assert!(steps[0]["duration_ms"].is_u64(), "{json}");
    assert_eq!(steps[1]["risk"], "high");
    assert_eq!(steps[1]["outcome"], "declined");
    assert!(steps[1].get("duration_ms").is_none(), "{json}");
    assert_eq!(steps[2]["risk"], "critical");
    assert_eq!(steps[2]["outcome"], "not run");
    // The questions and the overview are on stderr, not in the JSON.
    assert!(
        run.stderr.contains("3 pending migration(s):"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("Apply 002_email_index [HIGH]? [y/N] no"),
        "{}",
        run.stderr
    );
    assert_eq!(applied(&p), ["001"]);

    // End of input and a timeout are told apart from a no.
    let run = answer(&p, ANA, &["migrate", "wizard", "--format", "json"], "");
    assert_eq!(run.code, 7, "{run:?}");
    assert_eq!(run.json()["stopped"]["answer"], "no input");
}

#[test]
fn wizard_lines_null_stdin_refuses_a_review_or_a_protected_environment() {
    let p = TestProject::new();
    three_low(&p);
    let run = run_as(&p, ANA, &["migrate", "wizard", "--auto", "--review"]);
    assert_eq!(run.code, 7, "{run:?}");
    assert!(
        run.stderr.contains("to read the --review"),
        "{}",
        run.stderr
    );
    crate::migrate_up::set_env(&p, "protected: true\n");
    let run = run_as(&p, ANA, &["migrate", "wizard", "--auto"]);
    assert_eq!(run.code, 7, "{run:?}");
    assert!(run.stdout.contains("(protected)"), "{}", run.stdout);
    assert!(
        run.stderr.contains("protected environment"),
        "{}",
        run.stderr
    );
    assert!(applied(&p).is_empty());
}
