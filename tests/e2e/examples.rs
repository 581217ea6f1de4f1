//! The example projects of docs/examples/: each `run.sh` runs in a copy of its directory, as
//! `cargo xtask example NAME` runs it, but against fresh databases of the shared test cluster.
//! The scripts check their own outcomes; a test passes when its script exits 0.

use std::path::Path;
use std::process::{Command, Stdio};

use confiture::db::cluster::binaries::{BINDIR_VAR, DEFAULT_GLOBS, find_bin_dir};

use crate::harness::TestDb;
use crate::plugins_support::{component, workspace};

/// Runs `docs/examples/<name>/run.sh` with the environment it expects (see
/// `docs/examples/README.md`); panics with its output unless it exits 0.
fn run_example(name: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join(name);
    let copied = Command::new("cp")
        .arg("-R")
        .arg(workspace().join("docs/examples").join(name))
        .arg(&copy)
        .status()
        .expect("run cp");
    assert!(copied.success(), "copying docs/examples/{name}");
    let binary = Path::new(env!("CARGO_BIN_EXE_confiture"));
    let explicit = std::env::var_os(BINDIR_VAR);
    let server_bin = find_bin_dir(
        explicit.as_deref().map(Path::new),
        std::env::var_os("PATH").as_deref(),
        DEFAULT_GLOBS,
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    let path = std::env::join_paths(
        [binary.parent().expect("a parent"), &server_bin]
            .into_iter()
            .map(Path::to_path_buf)
            .chain(std::env::split_paths(
                &std::env::var_os("PATH").unwrap_or_default(),
            )),
    )
    .expect("PATH");
    let plugins = component("email-not-null-hook");
    let mut cmd = Command::new("bash");
    cmd.arg("run.sh")
        .current_dir(&copy)
        .stdin(Stdio::null())
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env("CONFITURE_PLUGINS", plugins.parent().expect("a parent"))
        .env_remove("CONFITURE_ENV");
    // Each database lives until the example has run (a `TestDb` is dropped with its value).
    let databases: Vec<TestDb> = [
        "DATABASE_URL",
        "STAGING_DATABASE_URL",
        "PRODUCTION_DATABASE_URL",
        "SOURCE_DATABASE_URL",
    ]
    .into_iter()
    .map(|var| {
        let db = TestDb::new();
        cmd.env(var, &db.url);
        db
    })
    .collect();
    let out = cmd.output().expect("run bash run.sh");
    drop(databases);
    assert!(
        out.status.success(),
        "docs/examples/{name}/run.sh failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn basic_migration() {
    run_example("basic-migration");
}

#[test]
fn lint_custom_rule() {
    run_example("lint-custom-rule");
}

#[test]
fn zero_downtime() {
    run_example("zero-downtime");
}

#[test]
fn production_sync() {
    run_example("production-sync");
}

#[test]
fn multi_environment() {
    run_example("multi-environment");
}
