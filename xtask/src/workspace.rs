//! Paths in the workspace and running its programs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

/// The workspace root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
}

/// Cargo's target directory (`CARGO_TARGET_DIR` or `<root>/target`).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// The release `confiture` binary (`cargo build --release -p confiture` puts it there).
pub fn confiture_binary() -> PathBuf {
    target_dir().join("release").join("confiture")
}

/// The cargo running this task, or `cargo`.
fn cargo_program() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from)
}

/// The `cargo` that runs this task, in the workspace root, without the variables cargo set for
/// this task (see [`is_set_by_cargo_run`]).
pub fn cargo() -> Command {
    cargo_tool(cargo_program())
}

/// `program` (cargo, or a tool that runs cargo), in the workspace root, without the variables
/// cargo set for this task (see [`is_set_by_cargo_run`]).
pub fn cargo_tool(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(root());
    for (name, _) in std::env::vars_os() {
        if is_set_by_cargo_run(&name.to_string_lossy()) {
            cmd.env_remove(name);
        }
    }
    cmd
}

/// True for a variable `cargo run` sets for the program it runs (`CARGO_PKG_NAME=xtask`, …).
/// A cargo started from here must not inherit them: build scripts watch some of them (ring's
/// watches `CARGO_PKG_NAME` and `CARGO_MANIFEST_DIR`), so they would see another value than
/// under a top-level `cargo` and run again, recompiling ring, rustls and the host (about
/// 4 minutes) at every switch between `cargo xtask` and the builds it starts.
fn is_set_by_cargo_run(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_MANIFEST_")
        || [
            "CARGO_CRATE_NAME",
            "CARGO_BIN_NAME",
            "CARGO_PRIMARY_PACKAGE",
            "OUT_DIR",
        ]
        .contains(&name)
}

/// Builds the `confiture` binary in the release profile (the one tests and benchmarks use).
pub fn build_confiture(quiet: bool) -> anyhow::Result<PathBuf> {
    let mut cmd = cargo();
    cmd.args(["build", "--release", "-p", "confiture"]);
    if quiet {
        cmd.arg("--quiet");
    }
    let status = cmd
        .stdin(Stdio::null())
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("`cargo build --release -p confiture` failed ({status})");
    }
    Ok(confiture_binary())
}

/// True when this process runs as root.
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// The first directory on `PATH` holding an executable `name`.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}
