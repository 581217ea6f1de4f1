//! Failure policies: abort (rolled back, run stops, exit 1), warn (reported, continues),
//! ignore (JSON only); a failing post-execute rolls back the migration and its tracking row;
//! hooks that time out or trap under each policy; the host never crashes.

use std::time::Duration;

use serde_json::Value;

use crate::harness::TestProject;
use crate::hooks_support::{RECORDER, events, exists, project_with, tracked, two_migrations};

/// A project with the recorder configured by `config` lines and `policy`.
fn recorder_project(config: &str, policy: &str, extra_plugin: &str) -> TestProject {
    let p = project_with(
        &[RECORDER],
        &format!(
            "plugins:\n  hook-recorder:\n    timeout_ms: 300\n    config:\n{config}{extra_plugin}\
             hooks:\n  plugins:\n    hook-recorder:\n      policy: {policy}\n"
        ),
    );
    two_migrations(&p);
    p
}

/// The wall-clock bound of a run whose hooks hit their time limit: far above what the limits add
/// up to, so only a limit that stopped working reaches it (the run is then killed and the test
/// fails instead of hanging).
const RUN_BOUND: Duration = Duration::from_secs(120);
/// How far past its limit a timed-out hook call may end on this loaded 2-core machine.
const SLACK_MS: f64 = 3000.0;

/// Asserts every hook call in `json`'s `hooks` that failed with `timeout` took at least
/// `limit_ms` and less than `limit_ms + SLACK_MS`; returns how many there were.
fn timeouts_near_the_limit(json: &Value, limit_ms: f64) -> usize {
    let timeouts: Vec<&Value> = json["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["failure"] == "timeout")
        .collect();
    for hook in &timeouts {
        let took = hook["duration_ms"].as_f64().unwrap();
        assert!(
            (limit_ms..limit_ms + SLACK_MS).contains(&took),
            "a call limited to {limit_ms} ms took {took} ms: {hook}"
        );
    }
    timeouts.len()
}

#[test]
fn failing_post_execute_under_abort_rolls_back_the_migration_and_its_tracking_row() {
    let p = recorder_project("      fail_on: post-execute\n", "abort", "");
    let run = p.run(&["migrate", "up", "--format", "json"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    let failure = &json["failure"];
    assert_eq!(failure["version"], "001", "{json}");
    let message = failure["message"].as_str().unwrap();
    assert!(
        message.contains("hook hook-recorder aborted the run on post-execute")
            && message.contains("hook-recorder fails on post-execute as configured"),
        "{message}"
    );
    assert!(
        failure["state"]
            .as_str()
            .unwrap()
            .starts_with("rolled back")
    );
    assert_eq!(json["applied"].as_array().unwrap().len(), 0);
    assert_eq!(json["not_run"][0]["version"], "002");
    // The migration's table and its tracking row are gone with it.
    assert!(!exists(&p, "users"));
    assert_eq!(tracked(&p), 0);
    assert_eq!(
        events(&run),
        [
            "pre-validate",
            "post-validate",
            "pre-execute 001_users",
            "post-execute 001_users",
            "post-rollback 001_users",
            "on-error 001_users",
        ]
    );
    let hooks = json["hooks"].as_array().unwrap();
    let failed = hooks.iter().find(|h| h["outcome"] == "failed").unwrap();
    assert_eq!(failed["event"], "post-execute");
    assert_eq!(failed["failure"], "returned");

    // The same in text: the hook's message on stderr, exit 1.
    let run = p.run(&["migrate", "up"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("hook failed hook-recorder post-execute 001_users"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("hook-recorder fails on post-execute as configured"),
        "{}",
        run.stderr
    );
}

#[test]
fn failing_pre_validate_under_abort_applies_nothing() {
    let p = recorder_project("      fail_on: pre-validate\n", "abort", "");
    let run = p.run(&["migrate", "up"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("aborted the run on pre-validate"),
        "{}",
        run.stderr
    );
    assert_eq!(events(&run), ["pre-validate", "on-error"]);
    assert!(!exists(&p, "users"));
}

#[test]
fn warn_reports_and_continues_ignore_records_in_json_only() {
    let p = recorder_project("      fail_on: all\n", "warn", "");
    let run = p.run(&["migrate", "up", "--format", "json"]);
    run.ok();
    assert_eq!(tracked(&p), 2);
    assert!(
        run.stderr
            .contains("warning: hook hook-recorder failed on post-execute 001_users (policy warn"),
        "{}",
        run.stderr
    );
    let json = run.json();
    let hooks = json["hooks"].as_array().unwrap();
    assert_eq!(hooks.len(), 6);
    assert!(
        hooks
            .iter()
            .all(|h| h["outcome"] == "failed" && h["policy"] == "warn")
    );

    let p = recorder_project("      fail_on: all\n", "ignore", "");
    let run = p.run(&["migrate", "up"]);
    run.ok();
    assert_eq!(tracked(&p), 2);
    assert!(!run.stderr.contains("warning:"), "{}", run.stderr);
    assert!(!run.stdout.contains("hook failed"), "{}", run.stdout);
    let run = p.run(&["migrate", "down", "--steps", "2", "--format", "json"]);
    run.ok();
    let json = run.json();
    let hooks = json["hooks"].as_array().unwrap();
    assert!(
        hooks
            .iter()
            .all(|h| h["outcome"] == "failed" && h["policy"] == "ignore"),
        "{json}"
    );
    assert_eq!(tracked(&p), 0);
}

#[test]
fn a_hook_that_times_out_or_traps_under_each_policy() {
    for (config, failure) in [
        ("      spin_on: pre-execute\n", "timeout"),
        ("      panic_on: pre-execute\n", "trap"),
    ] {
        // abort: nothing applied, exit 1, the failure named.
        let p = recorder_project(config, "abort", "");
        let (run, _) = p.run_bounded(&["migrate", "up", "--format", "json"], RUN_BOUND);
        assert_eq!(run.code, 1, "{config}: {}\n{}", run.stdout, run.stderr);
        let json = run.json();
        let failed = json["hooks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["outcome"] == "failed")
            .cloned()
            .unwrap();
        assert_eq!(failed["failure"], failure, "{json}");
        assert!(!exists(&p, "users"));
        assert_eq!(tracked(&p), 0);
        if failure == "timeout" {
            assert_eq!(timeouts_near_the_limit(&json, 300.0), 1, "{json}");
            assert!(
                json["failure"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("300 ms"),
                "{json}"
            );
        }

        // warn and ignore: both migrations applied, the host fine.
        for policy in ["warn", "ignore"] {
            let p = recorder_project(config, policy, "");
            let (run, _) = p.run_bounded(&["migrate", "up", "--format", "json"], RUN_BOUND);
            run.ok();
            assert_eq!(tracked(&p), 2, "{config} {policy}");
            let json = run.json();
            let failures = json["hooks"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|h| h["failure"] == failure)
                .count();
            assert_eq!(failures, 2, "{config} {policy}: {json}");
            if failure == "timeout" {
                assert_eq!(timeouts_near_the_limit(&json, 300.0), 2, "{json}");
            }
        }
    }
}

#[test]
fn hostile_hooks_are_contained() {
    // A hostile plugin on every event, with a short time limit, under warn.
    let p = project_with(
        &[],
        "plugins:\n  hostile-endless-loop:\n    timeout_ms: 200\n\
         hooks:\n  plugins:\n    hostile-endless-loop:\n      policy: warn\n",
    );
    let to = p.root().join("plugins/endless-loop.wasm");
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(crate::plugins_support::hostile("endless-loop"), &to).unwrap();
    std::fs::copy(
        crate::plugins_support::hostile("panics"),
        p.root().join("plugins/panics.wasm"),
    )
    .unwrap();
    // hostile-panics keeps the default policy (abort): the run stops at the first event.
    two_migrations(&p);
    let (run, took) = p.run_bounded(&["migrate", "up", "--format", "json"], RUN_BOUND);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("\"error\""), "{}", run.stdout);
    // The run stopped with an error, so no per-call times are reported: the endless loop's
    // limit shows in its warning and in the run's own time (the bound catches a lost limit).
    assert!(
        run.stderr.contains("timed out after 200 ms"),
        "{}",
        run.stderr
    );
    assert!(took >= Duration::from_millis(200), "{took:?}");
    assert!(
        run.stderr.contains("hostile-endless-loop"),
        "{}",
        run.stderr
    );
    assert!(!exists(&p, "users"));
}
