//! Exit codes and error shapes that hold for every command.

use std::process::{Command, Stdio};

fn confiture(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_confiture"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("CONFITURE_ENV")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run confiture");
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn version_and_help_exit_zero() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, _) = confiture(dir.path(), &["--version"]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("confiture "), "{stdout}");
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=10", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("git");
    let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
    assert!(
        stdout.contains(&format!("({head})")),
        "--version names the commit {head}: {stdout}"
    );
    let (code, stdout, _) = confiture(dir.path(), &["migrate", "--help"]);
    assert_eq!(code, 0);
    for sub in [
        "generate",
        "up",
        "down",
        "status",
        "verify",
        "baseline",
        "wizard",
        "approve",
        "schedule",
        "run-scheduled",
        "audit",
    ] {
        assert!(stdout.contains(sub), "help lists `{sub}`: {stdout}");
    }
}

#[test]
fn usage_errors_exit_with_the_config_code() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = confiture(dir.path(), &["migrate", "sideways"]);
    assert_eq!(code, 5, "{stderr}");
    let (code, _, stderr) = confiture(
        dir.path(),
        &["migrate", "down", "--steps", "2", "--target", "1"],
    );
    assert_eq!(code, 5, "{stderr}");
}

#[test]
fn outside_a_project_the_error_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = confiture(dir.path(), &["migrate", "status"]);
    assert_eq!(code, 5);
    assert!(
        stdout.is_empty(),
        "errors go to stderr in text mode: {stdout}"
    );
    assert!(stderr.contains("no Confiture project"), "{stderr}");
    assert!(stderr.contains("confiture init"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "NO_COLOR and a pipe mean no escape codes: {stderr:?}"
    );
}

#[test]
fn json_errors_are_one_object_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, _) = confiture(dir.path(), &["migrate", "status", "--format", "json"]);
    assert_eq!(code, 5);
    let value: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is JSON");
    assert_eq!(value["error"]["exit_code"], 5);
    assert_eq!(value["error"]["kind"], "config");
    assert!(
        value["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no Confiture project")
    );
    assert!(
        value["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("confiture init")
    );
}

#[test]
fn completions_for_each_shell() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F _confiture"),
        ("zsh", "#compdef confiture"),
        ("fish", "complete -c confiture"),
    ] {
        let (code, stdout, stderr) = confiture(dir.path(), &["completions", shell]);
        assert_eq!(code, 0, "{shell}: {stderr}");
        assert!(
            stdout.contains(marker),
            "{shell} script: {}",
            &stdout[..200]
        );
        assert!(
            stdout.contains("run-scheduled"),
            "{shell} completes subcommands"
        );
    }
    let (code, _, stderr) = confiture(dir.path(), &["completions", "powershell"]);
    assert_eq!(code, 5, "{stderr}");
}
