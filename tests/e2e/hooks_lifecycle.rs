//! Migration hooks: every event fires in order with the right context, through `migrate up`,
//! `migrate down` and `--dry-run-execute`; environment filters; `hooks list`; configuration
//! errors.

use crate::harness::TestProject;
use crate::hooks_support::{
    RECORDER, events, exists, project_with, recorded, set_env, tracked, two_migrations,
};

const METADATA: &str = "hooks:\n  metadata:\n    team: data\n    ticket: OPS-1\n";

#[test]
fn up_down_and_dry_run_fire_every_event_in_order_with_context() {
    let p = project_with(&[RECORDER], METADATA);
    two_migrations(&p);

    let started = std::time::Instant::now();
    let run = p
        .command(&["migrate", "up", "--format", "json"])
        .env("CONFITURE_USER", "alice")
        .output()
        .map(crate::harness::Run::from)
        .unwrap();
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    run.ok();
    assert_eq!(
        events(&run),
        [
            "pre-validate",
            "post-validate",
            "pre-execute 001_users",
            "post-execute 001_users",
            "pre-execute 002_posts",
            "post-execute 002_posts",
        ],
        "{}",
        run.stderr
    );
    let rec = recorded(&run);
    let pre = &rec[2];
    assert_eq!(pre.get("direction"), "up");
    assert_eq!(pre.get("path"), "db/migrations/001_users.up.sql");
    assert_eq!(pre.get("checksum").len(), 64, "{}", pre.line);
    assert_eq!(pre.get("status"), "running");
    assert_eq!(pre.get("duration"), "-");
    assert_eq!(pre.get("environment"), "local");
    assert_ne!(pre.get("sql_bytes"), "0");
    let post = &rec[3];
    assert_eq!(post.get("status"), "applied");
    assert!(post.get("duration").parse::<u64>().is_ok(), "{}", post.line);
    let metadata = post.get("metadata");
    for kv in [
        "user=alice",
        "dry-run=false",
        "team=data",
        "ticket=OPS-1",
        "command=migrate up",
    ] {
        assert!(metadata.split(',').any(|m| m == kv), "{kv} in {metadata}");
    }
    assert!(metadata.contains("run-id="), "{metadata}");
    // One run id for the whole run.
    let run_ids: Vec<String> = rec
        .iter()
        .map(|r| {
            r.get("metadata")
                .split(',')
                .find(|kv| kv.starts_with("run-id="))
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(run_ids.windows(2).all(|w| w[0] == w[1]), "{run_ids:?}");
    // The JSON output has every call with its outcome and time.
    let json = run.json();
    let hooks = json["hooks"].as_array().expect("hooks in the JSON output");
    assert_eq!(hooks.len(), 6, "{json}");
    assert_eq!(hooks[3]["event"], "post-execute");
    assert_eq!(hooks[3]["migration"], "001_users");
    assert_eq!(hooks[3]["plugin"], RECORDER);
    assert_eq!(hooks[3]["outcome"], "ok");
    assert_eq!(hooks[3]["policy"], "abort");
    assert!(hooks[3]["duration_ms"].is_f64(), "{json}");
    // In milliseconds: every call took part of the run's own time.
    for hook in hooks {
        let ms = hook["duration_ms"].as_f64().expect("a duration");
        assert!(
            (0.0..wall_ms).contains(&ms),
            "{ms} ms of a {wall_ms} ms run: {json}"
        );
    }

    // migrate down: per-migration events with direction down, then post-rollback.
    let run = p.run(&["migrate", "down"]);
    run.ok();
    assert_eq!(
        events(&run),
        [
            "pre-validate",
            "post-validate",
            "pre-execute 002_posts",
            "post-execute 002_posts",
            "post-rollback 002_posts",
        ],
        "{}",
        run.stderr
    );
    let rec = recorded(&run);
    assert_eq!(rec[2].get("direction"), "down");
    assert_eq!(rec[2].get("path"), "db/migrations/002_posts.down.sql");
    assert_eq!(rec[4].get("status"), "rolled-back");
    assert_eq!(rec[4].get("error"), "-");
    assert!(run.stdout.contains("hook ok"), "{}", run.stdout);
    assert!(run.stdout.contains("Hooks: 5 call(s)"), "{}", run.stdout);

    // --dry-run-execute: the same per-migration events, told it is a dry run.
    let run = p.run(&["migrate", "up", "--dry-run-execute"]);
    run.ok();
    assert_eq!(
        events(&run),
        [
            "pre-validate",
            "post-validate",
            "pre-execute 002_posts",
            "post-execute 002_posts"
        ],
        "{}",
        run.stderr
    );
    assert!(recorded(&run)[2].get("metadata").contains("dry-run=true"));
    assert!(!exists(&p, "posts"));
    // --dry-run (plan only) fires nothing.
    let run = p.run(&["migrate", "up", "--dry-run"]);
    run.ok();
    assert!(events(&run).is_empty(), "{}", run.stderr);
}

/// A project whose 002 fails after 001, run with `args` after `migrate up`: it exits 1 and
/// fires `post-rollback` (with the server's error) then `on-error` for 002, as a real run and a
/// dry run both roll 002's transaction back.
fn failing_002_fires_post_rollback_then_on_error(args: &[&str]) -> TestProject {
    let p = project_with(&[RECORDER], "");
    p.write("db/migrations/001_ok.up.sql", "CREATE TABLE ok (id int);\n");
    p.write(
        "db/migrations/002_bad.up.sql",
        "CREATE TABLE bad (id int);\nSELECT nope;\n",
    );
    let run = p.run(&[&["migrate", "up", "--format", "json"], args].concat());
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        events(&run),
        [
            "pre-validate",
            "post-validate",
            "pre-execute 001_ok",
            "post-execute 001_ok",
            "pre-execute 002_bad",
            "post-rollback 002_bad",
            "on-error 002_bad",
        ],
        "{}",
        run.stderr
    );
    let rec = recorded(&run);
    assert!(rec[5].get("error").contains("nope"), "{}", rec[5].line);
    assert_eq!(rec[6].get("status"), "failed");
    p
}

#[test]
fn a_failing_migration_fires_post_rollback_then_on_error() {
    let p = failing_002_fires_post_rollback_then_on_error(&[]);
    assert!(exists(&p, "ok") && !exists(&p, "bad"));
    assert_eq!(tracked(&p), 1);
}

/// A dry run whose migration fails fires the same events, and leaves nothing.
#[test]
fn a_failing_dry_run_fires_post_rollback_then_on_error() {
    let p = failing_002_fires_post_rollback_then_on_error(&["--dry-run-execute"]);
    // The tracking table the dry run created went with its transaction.
    assert!(!exists(&p, "ok") && !exists(&p, "bad") && !exists(&p, "tb_confiture"));
}

#[test]
fn environment_and_event_filters() {
    // Only in production: nothing fires locally, and `hooks list` says why.
    let p = project_with(
        &[RECORDER],
        "hooks:\n  plugins:\n    hook-recorder:\n      environments: [production]\n",
    );
    two_migrations(&p);
    let list = p.run(&["hooks", "list"]);
    list.ok();
    assert!(
        list.stdout
            .contains("not firing hook-recorder: only in environment(s) production"),
        "{}",
        list.stdout
    );
    let run = p.run(&["migrate", "up"]);
    run.ok();
    assert!(events(&run).is_empty(), "{}", run.stderr);
    assert_eq!(tracked(&p), 2);

    // The same project's production environment fires it (same database).
    p.write(
        "db/environments/production.yaml",
        &format!(
            "database_url: {}\nhooks:\n  plugins:\n    hook-recorder:\n      environments: [production]\n",
            p.db.url
        ),
    );
    let run = p.run(&["migrate", "down", "--env", "production", "--yes"]);
    run.ok();
    assert_eq!(events(&run).len(), 5, "{}", run.stderr);
    assert_eq!(recorded(&run)[0].get("environment"), "production");

    // Restricted to some events (snake_case accepted).
    set_env(
        &p,
        "hooks:\n  plugins:\n    hook-recorder:\n      events: [post_execute, on-error]\n",
    );
    let run = p.run(&["migrate", "up"]);
    run.ok();
    assert_eq!(events(&run), ["post-execute 002_posts"], "{}", run.stderr);
}

#[test]
fn hooks_list_shows_order_and_policy() {
    let p = project_with(
        &[RECORDER, "email-not-null-hook"],
        "plugins:\n  hook-recorder:\n    timeout_ms: 750\n\
         hooks:\n  order: [hook-recorder]\n  plugins:\n    email-not-null-hook:\n      policy: warn\n",
    );
    let run = p.run(&["hooks", "list", "--format", "json"]);
    run.ok();
    let json = run.json();
    let events = json["events"].as_array().unwrap();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "pre-validate",
            "post-validate",
            "pre-execute",
            "post-execute",
            "post-rollback",
            "on-error"
        ]
    );
    let post = &events[3]["hooks"];
    assert_eq!(post[0]["plugin"], RECORDER);
    assert_eq!(post[0]["position"], 1);
    assert_eq!(post[0]["timeout_ms"], 750);
    assert_eq!(post[1]["plugin"], "email-not-null-hook");
    assert_eq!(post[1]["policy"], "warn");
    assert_eq!(events[0]["hooks"].as_array().unwrap().len(), 1);

    // Reversed order; text output.
    set_env(
        &p,
        "hooks:\n  order: [email-not-null-hook, hook-recorder]\n",
    );
    let run = p.run(&["hooks", "list"]);
    run.ok();
    let text = &run.stdout;
    let email = text
        .find("1. email-not-null-hook  policy abort")
        .expect(text);
    let recorder = text.find("2. hook-recorder  policy abort").expect(text);
    assert!(email < recorder, "{text}");

    // No plugins at all: every event empty, and migrate output has no hooks key.
    let bare = TestProject::new();
    let run = bare.run(&["hooks", "list", "--format", "json"]);
    run.ok();
    assert!(
        run.json()["events"][0]["hooks"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    two_migrations(&bare);
    let run = bare.run(&["migrate", "up", "--format", "json"]);
    run.ok();
    assert!(run.json().get("hooks").is_none());
}

#[test]
fn hooks_configuration_errors_name_file_line_and_fix() {
    let p = project_with(
        &[],
        "hooks:\n  plugins:\n    hook-recorder:\n      polcy: warn\n",
    );
    let run = p.run(&["hooks", "list"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.stderr.contains("local.yaml:"), "{}", run.stderr);
    assert!(
        run.stderr.contains("did you mean `policy`?"),
        "{}",
        run.stderr
    );

    set_env(
        &p,
        "hooks:\n  plugins:\n    hook-recorder:\n      events: [post_exec]\n",
    );
    let run = p.run(&["hooks", "list"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.stderr.contains("local.yaml:7"), "{}", run.stderr);
    assert!(
        run.stderr.contains("did you mean `post-execute`?"),
        "{}",
        run.stderr
    );

    set_env(
        &p,
        "hooks:\n  plugins:\n    hook-recorder:\n      policy: explode\n",
    );
    let run = p.run(&["hooks", "list"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.stderr.contains("abort"), "{}", run.stderr);
}
