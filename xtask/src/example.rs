//! `cargo xtask example <NAME>|--all`: runs the example projects of `docs/examples/` against a
//! throwaway PostgreSQL cluster (`target/examples-pg`).
//!
//! Each example's `run.sh` is the example: it runs in a copy of the example's directory
//! (`target/examples/<name>`), with `confiture` and `psql` on `PATH`, four fresh databases in
//! `DATABASE_URL`, `STAGING_DATABASE_URL`, `PRODUCTION_DATABASE_URL` and `SOURCE_DATABASE_URL`,
//! and `CONFITURE_PLUGINS` naming the directory of the built plugins; it checks its own
//! outcomes. `tests/e2e/examples.rs` runs the same scripts the same way on the test cluster.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use confiture::db::cluster::Cluster;

use crate::workspace::{build_confiture, root, target_dir};

/// The databases every example gets: (environment variable, database name suffix).
const DATABASES: [(&str, &str); 4] = [
    ("DATABASE_URL", "local"),
    ("STAGING_DATABASE_URL", "staging"),
    ("PRODUCTION_DATABASE_URL", "production"),
    ("SOURCE_DATABASE_URL", "source"),
];

/// Runs one example (`Some(name)`) or all of them (`None`); 1 when any fails.
pub fn run(name: Option<&str>) -> anyhow::Result<u8> {
    let examples_dir = root().join("docs/examples");
    let names = match name {
        Some(name) => vec![name.to_string()],
        None => all(&examples_dir)?,
    };
    for name in &names {
        if !examples_dir.join(name).join("run.sh").is_file() {
            bail!(
                "no example `{name}` (docs/examples/{name}/run.sh); the examples: {}",
                all(&examples_dir)?.join(", ")
            );
        }
    }
    let psql = crate::bench::server_and_psql()?;
    let binary = build_confiture(true)?;
    crate::plugins::build_plugins(&root())?;
    let path = std::env::join_paths(
        [binary.parent(), psql.parent()]
            .into_iter()
            .flatten()
            .map(Path::to_path_buf)
            .chain(std::env::split_paths(
                &std::env::var_os("PATH").unwrap_or_default(),
            )),
    )?;
    let cluster = Cluster::in_dir(&target_dir().join("examples-pg"), "examples")
        .with_setting("fsync", "off")
        .with_setting("synchronous_commit", "off");
    let port = cluster
        .start()?
        .port
        .context("the examples' cluster has no port")?;
    let results: Vec<(String, anyhow::Result<bool>, f64)> = names
        .iter()
        .map(|name| {
            println!("\n######## docs/examples/{name}");
            let start = Instant::now();
            let result = run_one(name, &psql, port, &path);
            (name.clone(), result, start.elapsed().as_secs_f64())
        })
        .collect();
    let _ = cluster.stop();
    println!();
    let mut failed = 0;
    for (name, result, secs) in results {
        let verdict = match result {
            Ok(true) => "passed".to_string(),
            Ok(false) => "FAILED".to_string(),
            Err(err) => format!("FAILED: {err:#}"),
        };
        failed += usize::from(verdict != "passed");
        println!("example {name:<20} {verdict} ({secs:.1} s)");
    }
    Ok(u8::from(failed > 0))
}

/// The examples: the directories of `docs/examples/` holding a `run.sh`, sorted.
fn all(examples_dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(examples_dir)
        .with_context(|| format!("listing {}", examples_dir.display()))?
        .flatten()
        .filter(|e| e.path().join("run.sh").is_file())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    names.sort();
    Ok(names)
}

/// Fresh databases and a fresh copy of the example, then `bash run.sh`; true when it passed.
fn run_one(name: &str, psql: &Path, port: u16, path: &std::ffi::OsStr) -> anyhow::Result<bool> {
    let work = target_dir().join("examples").join(name);
    if work.exists() {
        std::fs::remove_dir_all(&work).with_context(|| format!("removing {}", work.display()))?;
    }
    std::fs::create_dir_all(work.parent().expect("a parent"))?;
    let copied = Command::new("cp")
        .arg("-R")
        .arg(root().join("docs/examples").join(name))
        .arg(&work)
        .status()?;
    if !copied.success() {
        bail!("copying docs/examples/{name} to {} failed", work.display());
    }
    let server = format!("postgresql://postgres@127.0.0.1:{port}");
    let mut cmd = Command::new("bash");
    cmd.arg("run.sh")
        .current_dir(&work)
        .stdin(Stdio::null())
        .env("PATH", path)
        .env("CONFITURE_PLUGINS", plugins_dir())
        .env_remove("CONFITURE_ENV");
    for (var, suffix) in DATABASES {
        let db = format!("{}_{suffix}", name.replace('-', "_"));
        crate::bench::run_psql(
            psql,
            &format!("{server}/postgres"),
            &[
                "-c",
                &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
                "-c",
                &format!("CREATE DATABASE \"{db}\""),
            ],
        )?;
        cmd.env(var, format!("{server}/{db}"));
    }
    Ok(cmd.status().context("running bash run.sh")?.success())
}

/// Where `cargo xtask build-plugins` puts the components.
fn plugins_dir() -> PathBuf {
    root().join("target/plugins")
}
