//! Team features around the wizard: approvals bound to a checksum and to other people,
//! per-level approval counts, schedules (`migrate schedule`, `wizard --schedule`,
//! `migrate run-scheduled`), and the append-only audit trail.

use std::time::Duration;

use serde_json::Value;

use crate::harness::TestProject;
use crate::migrate_up::{exists, set_env};
use crate::wizard_lines::{
    ANA, answer, applied, audit, entries_of, events, migration, run_as, three_levels, three_low,
    triple,
};

/// Waits until a schedule made with `--at +1s` is due.
fn until_due() {
    std::thread::sleep(Duration::from_millis(1500));
}

/// `migrate schedule list [extra] --format json` → its `scheduled` entries.
fn schedules(p: &TestProject, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["migrate", "schedule", "list", "--format", "json"];
    args.extend_from_slice(extra);
    let run = run_as(p, ANA, &args);
    run.ok();
    run.json()["scheduled"]
        .as_array()
        .expect("scheduled")
        .clone()
}

/// `migrate run-scheduled --format json` as the cron user → (exit code, its `runs`).
fn run_scheduled(p: &TestProject, extra: &[&str]) -> (i32, Vec<Value>) {
    let mut args = vec!["migrate", "run-scheduled", "--format", "json"];
    args.extend_from_slice(extra);
    let run = run_as(p, "cron", &args);
    let runs = run.json()["runs"]
        .as_array()
        .unwrap_or_else(|| panic!("{run:?}"))
        .clone();
    (run.code, runs)
}

/// `(version, outcome)` of each run.
fn outcomes(runs: &[Value]) -> Vec<(String, String)> {
    runs.iter()
        .map(|r| {
            (
                r["version"].as_str().unwrap().to_string(),
                r["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pair(version: &str, outcome: &str) -> (String, String) {
    (version.into(), outcome.into())
}

/// `migrate approve VERSION --as WHO` (text output).
fn approve(p: &TestProject, version: &str, who: &str) {
    run_as(p, ANA, &["migrate", "approve", version, "--as", who]).ok();
}

#[test]
fn wizard_team_own_approval_does_not_count_anothers_does() {
    let p = TestProject::new();
    three_low(&p);
    let run = run_as(
        &p,
        ANA,
        &[
            "migrate",
            "approve",
            "001",
            "--comment",
            "mine",
            "--format",
            "json",
        ],
    );
    run.ok();
    let json = run.json();
    assert_eq!(json["approver"], ANA, "CONFITURE_USER names the approver");
    assert_eq!(json["already_approved"], false);
    assert_eq!(json["checksum"].as_str().unwrap().len(), 64);

    let args = ["migrate", "wizard", "--collaborative", "--target", "001"];
    let run = answer(&p, ANA, &args, "y\n");
    assert_eq!(run.code, 7, "{run:?}");
    assert!(
        run.stdout.contains(
            "blocked 001_users needs 1 approval(s) from someone other than ana: 0 of 1; \
             1 more needed; ana's own approval does not count"
        ),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("Apply 001_users"), "{}", run.stdout);
    assert!(applied(&p).is_empty() && !exists(&p, "users"));
    let blocked = entries_of(&p, "blocked");
    assert_eq!(blocked.len(), 1);
    assert_eq!(blocked[0]["actor"], ANA);
    assert_eq!(blocked[0]["outcome"], "approvals missing");

    let run = run_as(
        &p,
        ANA,
        &[
            "migrate",
            "approve",
            "001",
            "--as",
            "bo",
            "--comment",
            "checked",
            "--format",
            "json",
        ],
    );
    run.ok();
    let json = run.json();
    assert_eq!(json["approver"], "bo");
    assert_eq!(json["version"], "001");
    // Approving twice records nothing new.
    let again = run_as(&p, "bo", &["migrate", "approve", "001", "--format", "json"]);
    again.ok();
    assert_eq!(again.json()["already_approved"], true);
    let approvals = entries_of(&p, "approval");
    let who: Vec<&str> = approvals
        .iter()
        .map(|a| a["actor"].as_str().unwrap())
        .collect();
    assert_eq!(who, ["ana", "bo"]);
    assert_eq!(approvals[1]["detail"], "checked");
    assert_eq!(approvals[1]["risk"], "low");

    // bo's approval counts for ana.
    let run = answer(&p, ANA, &args, "y\n");
    run.ok();
    assert!(
        run.stdout.contains("approvals: 1 of 1; approved by bo"),
        "{}",
        run.stdout
    );
    assert_eq!(applied(&p), ["001"]);
    // Without --collaborative and without a policy, no approval is needed.
    answer(&p, "cy", &["migrate", "wizard"], "y\ny\n").ok();
    assert_eq!(applied(&p), ["001", "002", "003"]);
}

#[test]
fn wizard_team_a_changed_file_voids_approvals() {
    let p = TestProject::new();
    three_low(&p);
    approve(&p, "001", "bo");
    migration(
        &p,
        "001_users",
        "CREATE TABLE users (id int PRIMARY KEY, admin boolean);\n",
    );
    let args = ["migrate", "wizard", "--collaborative", "--target", "001"];
    let run = answer(&p, ANA, &args, "y\n");
    assert_eq!(run.code, 7, "{run:?}");
    assert!(
        run.stdout.contains("void since the file changed: bo"),
        "{}",
        run.stdout
    );
    assert!(applied(&p).is_empty());

    approve(&p, "001", "bo");
    let approvals = entries_of(&p, "approval");
    assert_eq!(approvals.len(), 2, "a new approval of the new checksum");
    assert_ne!(approvals[0]["checksum"], approvals[1]["checksum"]);
    let run = answer(&p, ANA, &args, "y\n");
    run.ok();
    assert!(!run.stdout.contains("void"), "{}", run.stdout);
    assert_eq!(applied(&p), ["001"]);
    assert_eq!(
        p.db.scalar(
            "SELECT count(*)::text FROM information_schema.columns \
             WHERE table_name = 'users' AND column_name = 'admin'"
        ),
        Some("1".into()),
        "the approved (changed) file was applied"
    );
}

#[test]
fn wizard_team_approvals_required_per_level() {
    let p = TestProject::new();
    three_levels(&p);
    set_env(
        &p,
        "wizard:\n  approvals_required:\n    high: 1\n    critical: 2\n",
    );
    let run = run_as(&p, ANA, &["migrate", "approve", "003", "--as", "bo"]);
    run.ok();
    assert!(
        run.stdout
            .contains("this environment requires 2 at critical risk"),
        "{}",
        run.stdout
    );
    approve(&p, "002", "bo");

    // LOW needs none, HIGH has its one, CRITICAL has one of two.
    let run = answer(
        &p,
        ANA,
        &["migrate", "wizard", "--format", "json"],
        "y\ny\ny\n",
    );
    assert_eq!(run.code, 7, "{run:?}");
    let json = run.json();
    assert_eq!(json["stopped"]["reason"], "blocked", "{json}");
    let steps = json["steps"].as_array().unwrap();
    assert_eq!(steps[0]["outcome"], "applied", "{json}");
    assert_eq!(steps[1]["outcome"], "applied", "{json}");
    assert_eq!(steps[2]["outcome"], "blocked", "{json}");
    assert_eq!(
        steps[2]["detail"], "1 of 2; approved by bo; 1 more needed",
        "{json}"
    );
    assert!(
        run.stderr
            .contains("blocked 003_drop_email needs 2 approval(s)"),
        "{}",
        run.stderr
    );
    assert_eq!(applied(&p), ["001", "002"]);

    approve(&p, "003", "cy");
    let run = answer(&p, ANA, &["migrate", "wizard"], "y\n");
    run.ok();
    assert_eq!(applied(&p), ["001", "002", "003"]);

    // An applied migration cannot be approved; an unknown one is a configuration error.
    let run = run_as(&p, ANA, &["migrate", "approve", "003", "--as", "dee"]);
    assert_eq!(run.code, 7, "{run:?}");
    assert!(run.stderr.contains("already applied"), "{}", run.stderr);
    assert_eq!(
        run_as(&p, ANA, &["migrate", "approve", "999", "--as", "dee"]).code,
        5
    );
    assert_eq!(entries_of(&p, "approval").len(), 3);
}

#[test]
fn wizard_team_schedule_list_and_cancel() {
    let p = TestProject::new();
    three_low(&p);
    let run = run_as(
        &p,
        ANA,
        &[
            "migrate", "schedule", "001", "--at", "+2h", "--format", "json",
        ],
    );
    run.ok();
    let made = &run.json()["scheduled"][0];
    assert_eq!(made["version"], "001");
    assert_eq!(made["status"], "pending");
    assert_eq!(made["scheduled_by"], ANA);
    assert_eq!(made["approvals_required"], 0);

    // One pending schedule per version; past times are refused.
    let dup = run_as(&p, ANA, &["migrate", "schedule", "001", "--at", "+3h"]);
    assert_eq!(dup.code, 7, "{dup:?}");
    assert!(dup.stderr.contains("already scheduled"), "{}", dup.stderr);
    let past = run_as(
        &p,
        ANA,
        &["migrate", "schedule", "002", "--at", "2020-01-01 00:00"],
    );
    assert_eq!(past.code, 5, "{past:?}");
    assert!(past.stderr.contains("in the past"), "{}", past.stderr);
    assert_eq!(
        run_as(&p, ANA, &["migrate", "schedule", "002", "--at", "soon"]).code,
        5
    );

    let run = run_as(
        &p,
        ANA,
        &[
            "migrate",
            "schedule",
            "002",
            "--at",
            "2099-12-03T02:00:00+01:00",
            "--collaborative",
            "--as",
            "bo",
        ],
    );
    run.ok();
    assert!(
        run.stdout.contains(
            "2099-12-03 01:00:00 UTC  002_posts  [low]  pending  by bo; needs 1 approval(s)"
        ),
        "{}",
        run.stdout
    );
    let list = schedules(&p, &[]);
    let versions: Vec<&str> = list
        .iter()
        .map(|s| s["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["001", "002"], "by time");
    assert_eq!(list[1]["run_at"], "2099-12-03T01:00:00Z");
    assert_eq!(list[1]["scheduled_by"], "bo");
    assert_eq!(list[1]["approvals_required"], 1);

    run_as(&p, "cy", &["migrate", "schedule", "cancel", "001"]).ok();
    let list = schedules(&p, &[]);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["version"], "002");
    let all = schedules(&p, &["--all"]);
    let cancelled: Vec<&Value> = all.iter().filter(|s| s["version"] == "001").collect();
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0]["status"], "cancelled");
    assert_eq!(cancelled[0]["detail"], "cancelled by cy");
    // Nothing left to cancel; and it can be scheduled again.
    assert_eq!(
        run_as(&p, ANA, &["migrate", "schedule", "cancel", "001"]).code,
        5
    );
    run_as(&p, ANA, &["migrate", "schedule", "001", "--at", "+1d"]).ok();
    assert_eq!(schedules(&p, &[]).len(), 2);
    assert_eq!(schedules(&p, &["--all"]).len(), 3);

    let kinds: Vec<(String, String)> = events(&p)
        .into_iter()
        .map(|(event, version, _)| (event, version))
        .collect();
    assert_eq!(
        kinds,
        [
            pair("scheduled", "001"),
            pair("scheduled", "002"),
            pair("schedule_cancelled", "001"),
            pair("scheduled", "001"),
        ]
    );
    let cancelled = entries_of(&p, "schedule_cancelled");
    assert_eq!(cancelled[0]["actor"], "cy");
    assert!(applied(&p).is_empty(), "scheduling applies nothing");
}

#[test]
fn wizard_team_run_scheduled_applies_what_is_due() {
    let p = TestProject::new();
    three_low(&p);
    run_as(&p, ANA, &["migrate", "schedule", "002", "--at", "+2h"]).ok();
    // Not due yet.
    let (code, runs) = run_scheduled(&p, &[]);
    assert_eq!((code, runs.len()), (0, 0), "{runs:?}");
    assert!(applied(&p).is_empty());

    run_as(&p, ANA, &["migrate", "schedule", "001", "--at", "+1s"]).ok();
    until_due();
    let (code, runs) = run_scheduled(&p, &[]);
    assert_eq!(code, 0, "{runs:?}");
    assert_eq!(outcomes(&runs), [pair("001", "applied")]);
    assert_eq!(runs[0]["scheduled_by"], ANA);
    assert!(runs[0]["duration_ms"].is_u64(), "{runs:?}");
    assert_eq!(applied(&p), ["001"]);
    assert!(exists(&p, "users") && !exists(&p, "posts"));
    assert_eq!(
        p.db.scalar("SELECT applied_by_identity FROM tb_confiture WHERE version = '001'"),
        Some("cron".into())
    );
    let done = schedules(&p, &["--all"]);
    assert_eq!(done[0]["version"], "001");
    assert_eq!(done[0]["status"], "applied");
    assert_eq!(done[1]["status"], "pending");
    let applied_rows = entries_of(&p, "applied");
    assert_eq!(applied_rows.len(), 1);
    assert_eq!(applied_rows[0]["actor"], "cron");
    let detail = applied_rows[0]["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("scheduled by ana; ") && detail.ends_with(" ms"),
        "{detail}"
    );

    // Done once: the next run has nothing due.
    let run = run_as(&p, "cron", &["migrate", "run-scheduled"]);
    run.ok();
    assert!(
        run.stdout.contains("Nothing scheduled is due"),
        "{}",
        run.stdout
    );
}

#[test]
fn wizard_team_run_scheduled_blocked_then_waiting() {
    let p = TestProject::new();
    three_low(&p);
    let args = [
        "migrate",
        "schedule",
        "001",
        "--at",
        "+1s",
        "--collaborative",
    ];
    run_as(&p, ANA, &args).ok();
    run_as(&p, ANA, &["migrate", "schedule", "002", "--at", "+1s"]).ok();
    // The one who scheduled it approving it does not count.
    approve(&p, "001", ANA);
    until_due();

    let (code, runs) = run_scheduled(&p, &[]);
    assert_eq!(code, 7, "{runs:?}");
    assert_eq!(
        outcomes(&runs),
        [pair("001", "blocked"), pair("002", "waiting")]
    );
    assert!(
        runs[0]["detail"]
            .as_str()
            .unwrap()
            .contains("ana's own approval does not count"),
        "{runs:?}"
    );
    assert_eq!(
        runs[1]["detail"],
        "waits for the earlier pending migration 001_users"
    );
    assert!(applied(&p).is_empty());
    assert_eq!(schedules(&p, &[]).len(), 2, "both still pending");
    let blocked = entries_of(&p, "blocked");
    assert_eq!(blocked.len(), 1);
    assert_eq!(blocked[0]["version"], "001");
    assert_eq!(blocked[0]["actor"], "cron");
    // Cron runs again: still blocked, but the trail does not grow by a row per run.
    let (code, _) = run_scheduled(&p, &[]);
    assert_eq!(code, 7);
    assert_eq!(entries_of(&p, "blocked").len(), 1, "the same block once");

    approve(&p, "001", "bo");
    let (code, runs) = run_scheduled(&p, &[]);
    assert_eq!(code, 0, "{runs:?}");
    assert_eq!(
        outcomes(&runs),
        [pair("001", "applied"), pair("002", "applied")]
    );
    assert_eq!(applied(&p), ["001", "002"]);
    assert!(schedules(&p, &[]).is_empty());
}

#[test]
fn wizard_team_run_scheduled_collaborative_flag_and_already_applied() {
    let p = TestProject::new();
    three_low(&p);
    run_as(&p, ANA, &["migrate", "schedule", "001", "--at", "+1s"]).ok();
    run_as(&p, ANA, &["migrate", "schedule", "003", "--at", "+1s"]).ok();
    until_due();
    // --collaborative requires an approval even of a schedule made without it.
    let (code, runs) = run_scheduled(&p, &["--collaborative"]);
    assert_eq!(code, 7, "{runs:?}");
    assert_eq!(
        outcomes(&runs),
        [pair("001", "blocked"), pair("003", "waiting")]
    );
    // Applied by other means in the meantime: the schedule is closed as such.
    run_as(&p, ANA, &["migrate", "up"]).ok();
    let (code, runs) = run_scheduled(&p, &["--collaborative"]);
    assert_eq!(code, 0, "{runs:?}");
    assert_eq!(
        outcomes(&runs),
        [
            pair("001", "already applied"),
            pair("003", "already applied")
        ]
    );
    let all = schedules(&p, &["--all"]);
    assert!(all.iter().all(|s| s["status"] == "applied"), "{all:?}");
}

#[test]
fn wizard_team_run_scheduled_fails_a_changed_file() {
    let p = TestProject::new();
    three_low(&p);
    run_as(&p, ANA, &["migrate", "schedule", "001", "--at", "+1s"]).ok();
    migration(
        &p,
        "001_users",
        "CREATE TABLE users (id int PRIMARY KEY, sneaky text);\n",
    );
    until_due();
    let (code, runs) = run_scheduled(&p, &[]);
    assert_eq!(code, 1, "{runs:?}");
    assert_eq!(outcomes(&runs), [pair("001", "failed")]);
    assert!(
        runs[0]["detail"]
            .as_str()
            .unwrap()
            .contains("001_users changed since it was scheduled"),
        "{runs:?}"
    );
    assert!(applied(&p).is_empty() && !exists(&p, "users"));
    let all = schedules(&p, &["--all"]);
    assert_eq!(all[0]["status"], "failed");
    let failed = entries_of(&p, "failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["version"], "001");
    assert_eq!(
        failed[0]["checksum"], all[0]["checksum"],
        "the audit names the scheduled checksum"
    );
    // Failed schedules are finished: nothing is due any more.
    let (code, runs) = run_scheduled(&p, &[]);
    assert_eq!((code, runs.len()), (0, 0), "{runs:?}");
}

#[test]
fn wizard_team_wizard_schedule_records_instead_of_applying() {
    let p = TestProject::new();
    three_low(&p);
    let past = answer(
        &p,
        ANA,
        &["migrate", "wizard", "--schedule", "2001-01-01 00:00"],
        "y\n",
    );
    assert_eq!(past.code, 5, "{past:?}");

    // Approvals are for the time it runs: --collaborative does not block scheduling.
    let run = answer(
        &p,
        ANA,
        &["migrate", "wizard", "--schedule", "+2h", "--collaborative"],
        "y\nn\n",
    );
    assert_eq!(run.code, 7, "{run:?}");
    let out = &run.stdout;
    assert!(
        out.contains("Schedule 001_users [LOW] for ") && out.contains(" UTC? [Y/n] y"),
        "{out}"
    );
    assert!(out.contains("scheduled 001_users for "), "{out}");
    assert!(
        out.contains("Schedule 002_posts [LOW] for ") && out.contains(" UTC? [Y/n] n"),
        "{out}"
    );
    assert!(
        out.contains("0 applied, 1 scheduled, 2 not applied"),
        "{out}"
    );
    assert!(applied(&p).is_empty() && !exists(&p, "users"));
    let list = schedules(&p, &[]);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["version"], "001");
    assert_eq!(list[0]["scheduled_by"], ANA);
    assert_eq!(list[0]["approvals_required"], 1);
    assert_eq!(
        events(&p),
        [
            triple("scheduled", "001", "scheduled"),
            triple("declined", "002", "declined")
        ]
    );
}

#[test]
fn wizard_team_audit_records_every_kind() {
    let p = TestProject::new();
    three_levels(&p);
    migration(&p, "004_broken", "INSERT INTO no_such_table VALUES (1);\n");
    let name = p.db.name.clone();

    assert_eq!(answer(&p, ANA, &["migrate", "wizard"], "n\n").code, 7); // declined 001
    approve(&p, "001", "bo"); // approval 001
    run_as(&p, ANA, &["migrate", "schedule", "001", "--at", "+2h"]).ok(); // scheduled
    run_as(&p, ANA, &["migrate", "schedule", "cancel", "001"]).ok(); // schedule_cancelled
    // review, applied 001; blocked 002.
    let run = answer(
        &p,
        ANA,
        &["migrate", "wizard", "--collaborative", "--review"],
        "y\ny\n",
    );
    assert_eq!(run.code, 7, "{run:?}");
    approve(&p, "002", "bo");
    approve(&p, "003", "bo");
    approve(&p, "004", "cy");
    // applied 002; backup_confirmation, applied 003; failed 004.
    let run = answer(
        &p,
        ANA,
        &["migrate", "wizard", "--collaborative", "--require-backup"],
        &format!("y\n{name}\ny\ny\n"),
    );
    assert_eq!(run.code, 1, "{run:?}");

    assert_eq!(
        events(&p),
        [
            triple("declined", "001", "declined"),
            triple("approval", "001", "approved"),
            triple("scheduled", "001", "scheduled"),
            triple("schedule_cancelled", "001", "cancelled"),
            triple("review", "001", "reviewed"),
            triple("applied", "001", "applied"),
            triple("blocked", "002", "approvals missing"),
            triple("approval", "002", "approved"),
            triple("approval", "003", "approved"),
            triple("approval", "004", "approved"),
            triple("applied", "002", "applied"),
            triple("backup_confirmation", "003", "confirmed"),
            triple("applied", "003", "applied"),
            triple("failed", "004", "failed"),
        ]
    );
    let entries = audit(&p, &[]);
    let mut last_id = 0;
    for e in &entries {
        let id = e["id"].as_i64().unwrap();
        assert!(id > last_id, "ids increase: {entries:?}");
        last_id = id;
        assert_eq!(e["environment"], "local", "{e}");
        assert_eq!(e["checksum"].as_str().unwrap().len(), 64, "{e}");
        assert!(e["at"].as_str().unwrap().starts_with("20"), "{e}");
        assert!(e["name"].is_string(), "{e}");
    }
    let failed = &entries[13];
    assert_eq!(failed["actor"], ANA);
    assert_eq!(failed["name"], "broken");
    assert_eq!(failed["risk"], "low");
    assert!(
        failed["detail"].as_str().unwrap().contains("no_such_table"),
        "{failed}"
    );
    assert_eq!(entries[11]["risk"], "critical");

    // Filters: one migration's entries; the last N.
    let only = audit(&p, &["--migration", "003"]);
    assert_eq!(only.len(), 3, "{only:?}");
    assert!(only.iter().all(|e| e["version"] == "003"), "{only:?}");
    let last = audit(&p, &["--limit", "2"]);
    assert_eq!(last.len(), 2);
    assert_eq!(last[1]["event"], "failed");
    assert_eq!(last[0]["event"], "applied");
    let text = run_as(&p, ANA, &["migrate", "audit", "--migration", "004"]);
    text.ok();
    assert!(
        text.stdout.contains("approval") && text.stdout.contains("by cy"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("failed"), "{}", text.stdout);
    assert!(!text.stdout.contains("001_users"), "{}", text.stdout);
}

#[test]
fn wizard_team_audit_trail_is_append_only() {
    let p = TestProject::new();
    three_low(&p);
    let empty = run_as(&p, ANA, &["migrate", "audit"]);
    empty.ok();
    assert!(
        empty
            .stdout
            .contains("The audit trail (tb_confiture_audit) is empty."),
        "{}",
        empty.stdout
    );
    approve(&p, "001", "bo");
    approve(&p, "002", "bo");
    let mut c = p.db.client();
    for sql in [
        "UPDATE tb_confiture_audit SET actor = 'mallory'",
        "DELETE FROM tb_confiture_audit WHERE version = '001'",
        "TRUNCATE tb_confiture_audit",
    ] {
        let err = c.batch_execute(sql).expect_err(&format!("{sql} must fail"));
        let db = err.as_db_error().unwrap_or_else(|| panic!("{sql}: {err}"));
        assert!(db.message().contains("append-only"), "{sql}: {db:?}");
        assert_eq!(db.code().code(), "42501", "{sql}");
    }
    let entries = audit(&p, &[]);
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|e| e["actor"] == "bo"), "{entries:?}");
    // Appending still works.
    approve(&p, "003", "cy");
    assert_eq!(audit(&p, &[]).len(), 3);
}

#[test]
fn wizard_team_migrate_up_honours_the_approval_policy_and_the_trail() {
    let p = TestProject::new();
    set_env(&p, "wizard:\n  approvals_required:\n    high: 1\n");
    three_levels(&p);
    // No approval for the HIGH one: `up` refuses before applying anything.
    let run = run_as(&p, ANA, &["migrate", "up"]);
    assert_eq!(run.code, 7, "{run:?}");
    assert!(
        run.stderr.contains("002_email_index [HIGH]: 0 of 1"),
        "{}",
        run.stderr
    );
    assert!(applied(&p).is_empty(), "nothing applied");
    // Approved by someone else: `up` applies all three and, as the trail exists, records them.
    approve(&p, "002", "bo");
    run_as(&p, ANA, &["migrate", "up"]).ok();
    assert_eq!(applied(&p), ["001", "002", "003"]);
    let applications: Vec<String> = entries_of(&p, "applied")
        .iter()
        .map(|e| {
            format!(
                "{} by {}",
                e["version"].as_str().unwrap(),
                e["actor"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(applications, ["001 by ana", "002 by ana", "003 by ana"]);
}

#[test]
fn wizard_team_one_person_whatever_the_spelling() {
    let p = TestProject::new();
    set_env(&p, "wizard:\n  approvals_required:\n    high: 1\n");
    three_levels(&p);
    let run = run_as(
        &p,
        ANA,
        &[
            "migrate",
            "approve",
            "002",
            "--as",
            "ANA@Example.org",
            "--format",
            "json",
        ],
    );
    run.ok();
    assert_eq!(run.json()["approver"], "ana@example.org");
    // The same person, spelled otherwise and with a trailing space, cannot count it.
    let run = run_as(&p, "ana@example.org ", &["migrate", "up"]);
    assert_eq!(run.code, 7, "{run:?}");
    assert!(
        run.stderr.contains(
            "002_email_index [HIGH]: 0 of 1; 1 more needed; ana@example.org's own approval \
             does not count"
        ),
        "{}",
        run.stderr
    );
    assert!(applied(&p).is_empty() && !exists(&p, "users"));
    // Another person's two spellings are one approval.
    approve(&p, "002", "Bo@Example.org");
    let again = run_as(
        &p,
        ANA,
        &[
            "migrate",
            "approve",
            "002",
            "--as",
            " bo@example.ORG",
            "--format",
            "json",
        ],
    );
    again.ok();
    assert_eq!(again.json()["already_approved"], true);
    run_as(&p, "ANA@EXAMPLE.ORG", &["migrate", "up"]).ok();
    assert_eq!(applied(&p), ["001", "002", "003"]);
    let actors = |event: &str| -> Vec<String> {
        entries_of(&p, event)
            .iter()
            .map(|e| e["actor"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(actors("approval"), ["ana@example.org", "bo@example.org"]);
    assert_eq!(actors("applied"), ["ana@example.org"; 3]);

    // `migrate down` records its rollbacks, and a failed one, in the trail too.
    p.write(
        "db/migrations/003_drop_email.down.sql",
        "ALTER TABLE users ADD COLUMN email text;\n",
    );
    p.write(
        "db/migrations/002_email_index.down.sql",
        "DROP INDEX no_such_index;\n",
    );
    run_as(&p, "Cy@Example.org", &["migrate", "down"]).ok();
    let run = run_as(&p, "cy@example.org", &["migrate", "down"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(applied(&p), ["001", "002"]);
    let trail: Vec<String> = audit(&p, &[])
        .iter()
        .filter(|e| e["event"] == "rolled_back" || e["event"] == "failed")
        .map(|e| {
            format!(
                "{} {} {} by {}",
                e["event"].as_str().unwrap(),
                e["version"].as_str().unwrap(),
                e["outcome"].as_str().unwrap(),
                e["actor"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        trail,
        [
            "rolled_back 003 rolled back by cy@example.org",
            "failed 002 failed by cy@example.org"
        ]
    );
}
