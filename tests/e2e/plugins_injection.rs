//! Output injection (issue #14): `hostile-injection` puts GitHub workflow commands after
//! newlines, terminal escape sequences (title, erase line + carriage return over a fake
//! "hook ok", an OSC 52 clipboard write) and a bidirectional override in every text field it
//! controls, and a plugin file is named like that. Whatever the command and format, the text is
//! shown (escaped) and none of it reaches stdout or stderr raw. `hostile-log-flood` writes a
//! million lines from one hook: the run completes and what it prints stays bounded.

use std::time::{Duration, Instant};

use crate::harness::{Run, TestProject};
use crate::hooks_support::{exists, hostile_project};

/// A project with hostile plugin `folder` installed under its own name with no grant, firing
/// as a hook under policy `warn`, one migration and the schema it builds.
fn project(folder: &str) -> TestProject {
    let p = hostile_project(folder, "", "warn", "");
    p.write(
        "db/schema/10_tables/t.sql",
        "CREATE TABLE public.t (id int);\n",
    );
    p
}

/// No raw control character (newlines apart), no bidirectional override, and no line that
/// GitHub would take for a workflow command — only, in GitHub format, Confiture's own
/// annotations. `what` names the run in failures.
fn assert_inert(text: &str, github: bool, what: &str) {
    let bad = text
        .chars()
        .find(|c| (c.is_control() && *c != '\n') || ('\u{202a}'..='\u{202e}').contains(c));
    assert!(bad.is_none(), "{what}: raw {bad:?} in:\n{text}");
    for line in text.lines() {
        if !line.trim_start().starts_with("::") {
            continue;
        }
        let own = github
            && [
                "::error file=db/",
                "::warning file=db/",
                "::notice file=db/",
            ]
            .iter()
            .any(|p| line.starts_with(p));
        assert!(own, "{what}: a line is a workflow command: {line}");
    }
}

fn assert_run_inert(run: &Run, github: bool, what: &str) {
    assert_inert(&run.stdout, github, &format!("{what} (stdout)"));
    assert_inert(&run.stderr, github, &format!("{what} (stderr)"));
}

/// `field`'s payload was shown, escaped, in `text`.
fn shown(text: &str, field: &str) {
    let escaped = format!("{field}\\n\\x3a:add-mask::secret");
    let json = format!("{field}\\n::add-mask::secret");
    let github = format!("{field}%0A::add-mask::secret");
    let json_of_escaped = format!("{field}\\\\n::add-mask::secret");
    assert!(
        [escaped, json, github, json_of_escaped]
            .iter()
            .any(|form| text.contains(form.as_str())),
        "{field} not shown:\n{text}"
    );
}

#[test]
fn injection_strings_in_every_plugin_field_never_reach_the_terminal_raw() {
    let p = project("injection");

    // Lint: messages, suggestions, fixes, log lines, in text, GitHub and JSON.
    for format in ["text", "github", "json"] {
        let run = p.run(&["lint", "--format", format]);
        assert_run_inert(&run, format == "github", &format!("lint --format {format}"));
        shown(&run.stdout, "lint-message");
        if format != "github" {
            shown(&run.stdout, "lint-suggestion");
        }
        shown(&run.stderr, "lint-log");
        if format == "json" {
            let report = run.json();
            let finding = report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["rule"] == "hostile_injection")
                .expect("the plugin's finding");
            assert!(
                finding["message"].as_str().unwrap().contains('\x1b'),
                "JSON keeps the text, escaped by JSON"
            );
        }
    }
    let rules = p.run(&["lint", "--list-rules"]);
    assert_run_inert(&rules, false, "lint --list-rules");

    // Plugin, rule and strategy descriptions.
    for format in ["text", "json"] {
        let run = p.run(&["plugins", "list", "--format", format]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_run_inert(&run, false, &format!("plugins list --format {format}"));
        shown(&run.stdout, "plugin-description");
        let inspect = p.run(&[
            "plugins",
            "inspect",
            "plugins/hostile-injection.wasm",
            "--format",
            format,
        ]);
        assert_run_inert(
            &inspect,
            false,
            &format!("plugins inspect --format {format}"),
        );
        shown(&inspect.stdout, "rule-description");
        shown(&inspect.stdout, "strategy-description");
    }

    // Hook errors and every log channel; the migration is applied (policy warn) and says so.
    for format in ["text", "json"] {
        let run = p.run(&["migrate", "up", "--dry-run-execute", "--format", format]);
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert_run_inert(&run, false, &format!("migrate up --format {format}"));
        shown(&run.stderr, "log-import");
        // Stdout and stderr are split into lines, each neutralised on its own.
        for field in ["log-stdout", "log-stderr"] {
            assert!(run.stderr.contains(field), "{}", run.stderr);
        }
        assert!(
            run.stderr.contains("info: \\x3a:add-mask::secret"),
            "{}",
            run.stderr
        );
        shown(&format!("{}{}", run.stdout, run.stderr), "hook-error");
    }
    assert!(!exists(&p, "t"), "a dry run changed nothing");

    // A plugin file whose name carries the payload: a broken plugin, and an error, both inert.
    let evil = "evil\n::add-mask::secret\x1b]0;t\x07\r\u{202e}.wasm";
    std::fs::write(p.root().join("plugins").join(evil), b"not wasm").unwrap();
    let list = p.run(&["plugins", "list"]);
    assert_eq!(list.code, 5, "{}", list.stdout);
    assert_run_inert(&list, false, "plugins list with a hostile file name");
    assert!(
        list.stdout.contains("evil\\n::add-mask::secret"),
        "{}",
        list.stdout
    );
    let inspect = p.run(&["plugins", "inspect", &format!("plugins/{evil}")]);
    assert_ne!(inspect.code, 0);
    assert_run_inert(&inspect, false, "plugins inspect of a hostile file name");
    assert!(
        inspect.stderr.contains("\\x3a:add-mask::secret"),
        "{}",
        inspect.stderr
    );
    let migrate = p.run(&["migrate", "up"]);
    assert_ne!(migrate.code, 0);
    assert_run_inert(
        &migrate,
        false,
        "migrate up with a hostile plugin file name",
    );
    assert!(
        !exists(&p, "t"),
        "a broken plugin stops the run before it changes anything"
    );
}

#[test]
fn a_million_log_lines_are_rate_limited_and_the_run_completes() {
    let p = project("log-flood");
    let started = Instant::now();
    let run = p.run(&["migrate", "up"]);
    let took = started.elapsed();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(exists(&p, "t"), "the migration was applied");
    assert!(run.stdout.contains("001"), "{}", run.stdout);
    let flood = run
        .stderr
        .lines()
        .filter(|l| l.contains("flood line") || l.contains("flood stdout line"))
        .count();
    let limit = confiture::plugins::log::MAX_LINES_PER_CALL;
    assert!(flood <= limit, "{flood} lines of one call reached stderr");
    assert!(flood >= limit / 2, "{flood}: the first lines are shown");
    assert!(
        run.stderr
            .contains("more log line(s) of this call were dropped (at most 1000 lines"),
        "{}",
        run.stderr
            .lines()
            .rev()
            .take(5)
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        run.stderr.len() < 256 * 1024,
        "{} bytes on stderr",
        run.stderr.len()
    );
    assert!(took < Duration::from_secs(120), "{took:?}");
}
