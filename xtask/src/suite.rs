//! `cargo xtask test`: the whole suite, as CI runs it.

use std::process::Stdio;
use std::time::Instant;

use anyhow::Context;
use confiture::db::cluster::Cluster;

use crate::workspace::{cargo, root};

/// The shared test cluster's state directory, as the e2e harness keeps it.
const TEST_CLUSTER_DIR: &str = "target/test-pg";

/// The host's layering (no build needed), formatting, clippy, server binaries, the generated
/// CLI reference, the example and hostile plugins the tests load, the demo (quietly), the SDK's
/// tests, then `cargo test --release -p confiture -p xtask --no-fail-fast` last so its summary
/// ends the output; then stops the test and demo clusters without a word. Exits with the first
/// failing cargo test's status.
///
/// The SDK is tested in a cargo run of its own: its build script's dependencies turn on
/// features (e.g. `anyhow/std`) in crates that wasmtime's proc-macros share, so testing it in
/// the same run as the host would compile wasmtime a second time, differently from the build
/// the demo and xtask use.
pub fn run() -> anyhow::Result<u8> {
    if phase("layers", || crate::layers::run(&root()))? != 0 {
        return Ok(1);
    }
    if !phase("format", formatted)? {
        return Ok(1);
    }
    if !phase("clippy", linted)? {
        return Ok(1);
    }
    phase("server", || crate::postgres::ensure_server(true))?;
    if phase("cli reference", || crate::cli_docs::run(true))? != 0 {
        return Ok(1);
    }
    phase("plugins", || crate::plugins::build_plugins(&root()))?;
    if !phase("plugin and SDK tests", || {
        Ok(plugin_unit_tests()? & sdk_language_tests()?)
    })? {
        return Ok(1);
    }
    let demo = phase("demo", || {
        let demo = crate::demo::run(crate::demo::Mode::Quiet);
        crate::demo::stop_cluster();
        demo
    })?;
    if demo != 0 {
        return Ok(1);
    }
    let sdk = phase("Rust SDK tests", || cargo_test(&["-p", "confiture-sdk"]))?;
    // Last, and not timed, so that cargo's summary ends the output.
    let host = cargo_test(&["-p", "confiture", "-p", "xtask"])?;
    let cluster = Cluster::in_dir(&root().join(TEST_CLUSTER_DIR), "confiture_test");
    if host != 0 {
        explain_failures(&cluster);
    }
    let _ = cluster.stop();
    Ok(if sdk != 0 { sdk } else { host })
}

/// `cargo fmt --all --check` (adding rustfmt when the toolchain lacks it); true when every
/// file is formatted.
fn formatted() -> anyhow::Result<bool> {
    passes(
        ("rustfmt", "fmt"),
        &["fmt", "--all", "--check"],
        "files above are not formatted: run `cargo fmt --all`",
    )
}

/// `cargo clippy --release --workspace --all-targets -- -D warnings` (adding clippy when the
/// toolchain lacks it): the workspace's lints (`[workspace.lints]`) and clippy's defaults, every
/// warning an error; true when there is none. `--release` checks the profile the tests build.
fn linted() -> anyhow::Result<bool> {
    passes(
        ("clippy", "clippy"),
        &[
            "clippy",
            "--release",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        "clippy found the problems above: fix them, then run `cargo xtask test` again",
    )
}

/// Runs `cargo <args>` once the rustup component `(component, subcommand)` is there; true when
/// it succeeds, else prints `advice` and returns false.
fn passes(component: (&str, &str), args: &[&str], advice: &str) -> anyhow::Result<bool> {
    ensure_component(component.0, component.1)?;
    let checked = cargo()
        .args(args)
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("running cargo {}", args.join(" ")))?;
    if !checked.success() {
        eprintln!("{advice}");
    }
    Ok(checked.success())
}

/// Adds the rustup `component` when `cargo <subcommand> --version` does not run.
fn ensure_component(component: &str, subcommand: &str) -> anyhow::Result<()> {
    let present = cargo()
        .args([subcommand, "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if present {
        return Ok(());
    }
    let added = std::process::Command::new("rustup")
        .args(["component", "add", component])
        .status()
        .with_context(|| format!("running `rustup component add {component}`"))?;
    anyhow::ensure!(
        added.success(),
        "`rustup component add {component}` failed ({added})"
    );
    Ok(())
}

/// After failed tests, what a CI log needs to tell a broken server from broken code: whether
/// the test cluster still runs, the disk space left, and the server log's fatal lines.
fn explain_failures(cluster: &Cluster) {
    let status = cluster.status().ok();
    let running = status.as_ref().is_some_and(|s| s.running);
    eprintln!(
        "test cluster: {}",
        if running { "running" } else { "NOT running" }
    );
    if let Some(free) = free_bytes(&root().join("target")) {
        eprintln!(
            "disk: {:.1} GiB free under target/",
            free as f64 / (1u64 << 30) as f64
        );
    }
    let log = status.and_then(|s| s.log_file);
    let text = log
        .and_then(|log| std::fs::read_to_string(log).ok())
        .unwrap_or_default();
    let fatal: Vec<&str> = text
        .lines()
        .filter(|line| {
            [
                "PANIC",
                "No space left",
                "terminated by signal",
                "out of memory",
                "shutting down",
            ]
            .iter()
            .any(|sign| line.contains(sign))
        })
        .collect();
    for line in &fatal[fatal.len().saturating_sub(12)..] {
        eprintln!("server log: {line}");
    }
}

/// Bytes available to an unprivileged user on the file system holding `path`.
fn free_bytes(path: &std::path::Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: a zeroed statvfs is a valid value for statvfs to fill in.
    let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is a NUL-terminated string and `stats` a live local.
    let result = unsafe { libc::statvfs(path.as_ptr(), &mut stats) };
    (result == 0).then(|| stats.f_bavail as u64 * stats.f_frsize as u64)
}

/// Runs one phase of the suite and prints how long it took, so that where a run's time goes
/// (on a fresh machine: mostly compiling) is visible in its output.
fn phase<T>(name: &str, run: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
    let started = Instant::now();
    let result = run();
    println!(
        "phase       {name}: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    result
}

/// The Rust plugins' own unit tests, run natively against the SDK's test doubles; only the
/// plugins that have some are compiled (`--lib`: they have no doc tests). True when all passed.
fn plugin_unit_tests() -> anyhow::Result<bool> {
    let packages = crate::plugins::rust_plugins_with_tests(&root())?;
    if packages.is_empty() {
        return Ok(true);
    }
    let mut command = cargo();
    command
        .args(["test", "--quiet", "--lib", "--manifest-path"])
        .arg(root().join("plugins/Cargo.toml"))
        .arg("--target-dir")
        .arg(root().join("target/plugins-native"));
    for package in &packages {
        command.args(["-p", package]);
    }
    let status = command
        .stdin(Stdio::null())
        .status()
        .context("running the plugins' unit tests")?;
    Ok(status.success())
}

/// The Python and JavaScript SDKs' own tests and their example plugins' native tests (pytest,
/// Node's test runner), against the SDKs' host doubles; true when all passed.
fn sdk_language_tests() -> anyhow::Result<bool> {
    use crate::plugins::{JS_PLUGINS, PYTHON_PLUGINS};
    let root = root();
    let python = crate::tools::Tools::new(&root).python()?;
    let mut runs: Vec<(std::path::PathBuf, std::process::Command)> = Vec::new();
    let mut pytest = |dir: std::path::PathBuf| {
        let mut command = std::process::Command::new(&python);
        command
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .env("PYTHONPATH", root.join("sdk/python"))
            .env("PYTHONDONTWRITEBYTECODE", "1");
        runs.push((dir, command));
    };
    pytest(root.join("sdk/python/tests"));
    for (name, _) in PYTHON_PLUGINS {
        pytest(root.join("plugins").join(name));
    }
    let node = |testing: &str, file: &str| {
        let mut command = std::process::Command::new("node");
        command.args(["--import", testing, "--test", file]);
        command
    };
    runs.push((
        root.join("sdk/js"),
        node("./testing.js", "confiture.test.js"),
    ));
    for (name, _) in JS_PLUGINS {
        runs.push((
            root.join("plugins").join(name),
            node("./confiture/testing.js", "app.test.js"),
        ));
    }
    let mut passed = true;
    for (dir, mut command) in runs {
        let status = command
            .current_dir(&dir)
            .stdin(Stdio::null())
            .status()
            .with_context(|| format!("running the tests in {}", dir.display()))?;
        passed &= status.success();
    }
    Ok(passed)
}

/// Tests run at once, at most: the shared test cluster allows 300 connections, and a test can
/// hold a dozen (a sync's readers and writers, a held lock, its own checks); the time limits
/// the tests check assume the machine is not oversubscribed many times over.
const MAX_TEST_THREADS: usize = 8;

/// `cargo test --release --no-fail-fast` of `packages`; its exit status as a code (0 = passed).
fn cargo_test(packages: &[&str]) -> anyhow::Result<u8> {
    // Most end-to-end tests wait (on PostgreSQL, a child process, a time limit they check), so
    // two tests per core keep the cores busy, up to `MAX_TEST_THREADS`; a `RUST_TEST_THREADS`
    // already set wins.
    let threads = std::env::var("RUST_TEST_THREADS").unwrap_or_else(|_| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        (2 * cores).min(MAX_TEST_THREADS).to_string()
    });
    let status = cargo()
        .args(["test", "--release", "--no-fail-fast"])
        .env("RUST_TEST_THREADS", threads)
        .args(packages)
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("running cargo test {}", packages.join(" ")))?;
    Ok(match status.code() {
        Some(0) => 0,
        Some(code) => u8::try_from(code).unwrap_or(1).max(1),
        None => 1,
    })
}
