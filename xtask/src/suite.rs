//! `cargo xtask test`: the whole suite, as CI runs it.

use std::process::Stdio;

use anyhow::Context;
use confiture::db::cluster::Cluster;

use crate::workspace::{cargo, root};

/// The shared test cluster's state directory, as the e2e harness keeps it.
const TEST_CLUSTER_DIR: &str = "target/test-pg";

/// Server binaries, the generated CLI reference, the example and hostile plugins the tests load,
/// the demo (quietly), then
/// `cargo test --workspace --release --no-fail-fast` last so its summary ends the output; then stops the
/// test and demo clusters without a word. Exits with cargo test's status.
pub fn run() -> anyhow::Result<u8> {
    crate::postgres::ensure_server(true)?;
    if crate::cli_docs::run(true)? != 0 {
        return Ok(1);
    }
    crate::plugins::build_plugins(&root())?;
    // The plugins' own unit tests run natively, against the SDK's test doubles.
    let plugin_tests = cargo()
        .args(["test", "--quiet", "--manifest-path"])
        .arg(root().join("plugins/Cargo.toml"))
        .arg("--target-dir")
        .arg(root().join("target/plugins-native"))
        .stdin(Stdio::null())
        .status()
        .context("running the plugins' unit tests")?;
    if !plugin_tests.success() {
        return Ok(1);
    }
    let demo = crate::demo::run(crate::demo::Mode::Quiet);
    crate::demo::stop_cluster();
    if demo? != 0 {
        return Ok(1);
    }
    let status = cargo()
        .args(["test", "--workspace", "--release", "--no-fail-fast"])
        .stdin(Stdio::null())
        .status()
        .context("running cargo test")?;
    let _ = Cluster::in_dir(&root().join(TEST_CLUSTER_DIR), "confiture_test").stop();
    Ok(match status.code() {
        Some(0) => 0,
        Some(code) => u8::try_from(code).unwrap_or(1).max(1),
        None => 1,
    })
}
