//! `cargo xtask bench-hooks`: what migration hooks cost. `confiture migrate up` of N trivial
//! migrations (one `CREATE TABLE` each) on a fresh database, with no plugins and with the four
//! `bench-hook-*` plugins (each a hook on every event that does nothing), on a throwaway
//! cluster; medians over repetitions, alternating which side runs first. Reports:
//!
//! - the end-to-end overhead per hook call: (time with hooks − time without) ÷ hook calls,
//!   which includes loading wasmtime and the four plugins (from the compiled-artifact cache);
//! - the per-call time the host measures around each call (instantiate + `handle` + tear
//!   down, as reported in `migrate up --format json`), p50 and p99 over every call.
//!
//! With `--write`, the section between the bench-hooks markers of `docs/benchmarks.md` is
//! replaced (appended the first time).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use confiture::db::cluster::Cluster;

use crate::bench::{machine, median, run_psql, server_and_psql, throwaway_cluster};
use crate::workspace::target_dir;

/// The benchmark hook plugins, as built into `target/plugins/`.
const HOOKS: [&str; 4] = [
    "bench-hook-a",
    "bench-hook-b",
    "bench-hook-c",
    "bench-hook-d",
];
/// The target for one hook call, p50, in ms.
const TARGET_P50_MS: f64 = 1.0;
const START: &str = "<!-- bench-hooks:start -->";
const END: &str = "<!-- bench-hooks:end -->";

/// Options of the task.
pub struct Options {
    /// Migrations per run.
    pub migrations: usize,
    /// Runs per side.
    pub repetitions: usize,
    /// Use this binary instead of building the release one.
    pub binary: Option<PathBuf>,
    /// Write the result into docs/benchmarks.md.
    pub write: bool,
}

/// Runs the benchmark.
pub fn run(root: &Path, options: &Options) -> anyhow::Result<u8> {
    if options.migrations == 0 || options.repetitions == 0 {
        bail!("--migrations and --repetitions must be at least 1");
    }
    let (binary, profile) = crate::plugins::binary_and_plugins(root, options.binary.as_deref())?;
    let components = HOOKS
        .iter()
        .map(|hook| crate::plugins::built_component(root, hook))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let psql = server_and_psql()?;
    let work = target_dir().join("bench-hooks");
    let cluster = throwaway_cluster(&work, false)?;
    let bare = work.join("no-hooks");
    let hooked = work.join("four-hooks");
    for project in [&bare, &hooked] {
        write_project(project, options.migrations)?;
    }
    std::fs::create_dir_all(hooked.join("plugins"))?;
    for (hook, component) in HOOKS.iter().zip(&components) {
        std::fs::copy(
            component,
            hooked.join("plugins").join(format!("{hook}.wasm")),
        )?;
    }
    println!(
        "starting a throwaway cluster in {}",
        work.join("pg").display()
    );
    let status = cluster.start()?;
    let result = measure(&cluster, &psql, &binary, &bare, &hooked, options);
    let _ = cluster.stop();
    let m = result?;
    let overhead_ms = (ms(m.hooked) - ms(m.bare)) / m.calls as f64;
    let section = report(
        options,
        &m,
        overhead_ms,
        &profile,
        &machine(status.server_version.as_deref()),
    );
    println!("\n{section}");
    if options.write {
        crate::docs_section::write(&root.join("docs/benchmarks.md"), START, END, &section)?;
        println!("wrote docs/benchmarks.md");
    }
    Ok(0)
}

/// What was measured.
struct Measured {
    bare: Duration,
    hooked: Duration,
    calls: usize,
    p50: f64,
    p99: f64,
    bare_runs: Vec<Duration>,
    hooked_runs: Vec<Duration>,
}

fn write_project(project: &Path, migrations: usize) -> anyhow::Result<()> {
    let dir = project.join("db/migrations");
    std::fs::create_dir_all(&dir)?;
    std::fs::create_dir_all(project.join("db/environments"))?;
    std::fs::write(project.join("db/environments/bench.yaml"), "name: bench\n")?;
    for i in 1..=migrations {
        std::fs::write(
            dir.join(format!("{i:04}_t{i:04}.up.sql")),
            format!("CREATE TABLE t{i:04} (id integer);\n"),
        )?;
    }
    Ok(())
}

fn measure(
    cluster: &Cluster,
    psql: &Path,
    binary: &Path,
    bare: &Path,
    hooked: &Path,
    options: &Options,
) -> anyhow::Result<Measured> {
    let admin = cluster.admin_spec()?;
    let admin_url = admin.url_with_password();
    let mut counter = 0;
    let mut fresh = || -> anyhow::Result<String> {
        counter += 1;
        let db = format!("bench_hooks_{counter}");
        run_psql(psql, &admin_url, &["-c", &format!("CREATE DATABASE {db}")])?;
        Ok(admin.with_dbname(&db).url_with_password())
    };
    // Warm-up: fills the compiled-artifact cache and the file cache.
    let url = fresh()?;
    run_up(binary, hooked, &url)?;
    let (mut bare_runs, mut hooked_runs, mut durations) = (Vec::new(), Vec::new(), Vec::new());
    let mut calls = 0;
    for rep in 0..options.repetitions {
        let (url_bare, url_hooked) = (fresh()?, fresh()?);
        let mut one = |hooks: bool| -> anyhow::Result<()> {
            let (project, url) = if hooks {
                (hooked, &url_hooked)
            } else {
                (bare, &url_bare)
            };
            let started = Instant::now();
            let json = run_up(binary, project, url)?;
            let elapsed = started.elapsed();
            let applied = json["applied"].as_array().map_or(0, Vec::len);
            if applied != options.migrations {
                bail!(
                    "expected {} migrations applied, got {applied}",
                    options.migrations
                );
            }
            let hook_calls = json["hooks"].as_array().cloned().unwrap_or_default();
            if hooks {
                calls = hook_calls.len();
                if hook_calls.iter().any(|h| h["outcome"] != "ok") {
                    bail!("a benchmark hook failed: {json}");
                }
                durations.extend(hook_calls.iter().filter_map(|h| h["duration_ms"].as_f64()));
                hooked_runs.push(elapsed);
            } else {
                if !hook_calls.is_empty() {
                    bail!("hooks fired in the project without plugins");
                }
                bare_runs.push(elapsed);
            }
            Ok(())
        };
        if rep % 2 == 0 {
            one(false)?;
            one(true)?;
        } else {
            one(true)?;
            one(false)?;
        }
        println!(
            "run {}: no hooks {:.1} ms, 4 hooks {:.1} ms",
            rep + 1,
            ms(*bare_runs.last().expect("timed")),
            ms(*hooked_runs.last().expect("timed"))
        );
    }
    durations.sort_by(f64::total_cmp);
    let pick = |q: f64| durations[((durations.len() - 1) as f64 * q).round() as usize];
    Ok(Measured {
        bare: median(bare_runs.clone()),
        hooked: median(hooked_runs.clone()),
        calls,
        p50: pick(0.5),
        p99: pick(0.99),
        bare_runs,
        hooked_runs,
    })
}

/// `migrate up --format json` in `project` against `url`; its JSON.
fn run_up(binary: &Path, project: &Path, url: &str) -> anyhow::Result<serde_json::Value> {
    let out = Command::new(binary)
        .args([
            "--env",
            "bench",
            "--database-url",
            url,
            "--format",
            "json",
            "migrate",
            "up",
        ])
        .current_dir(project)
        .env_remove("DATABASE_URL")
        .env_remove("CONFITURE_ENV")
        .stdin(Stdio::null())
        .output()
        .context("running confiture")?;
    if !out.status.success() {
        bail!(
            "confiture migrate up failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    serde_json::from_slice(&out.stdout).context("parsing the JSON output")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(
    options: &Options,
    m: &Measured,
    overhead_ms: f64,
    profile: &str,
    machine: &str,
) -> String {
    let runs = |runs: &[Duration]| {
        runs.iter()
            .map(|d| format!("{:.0}", ms(*d)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let verdict = |v: f64| if v <= TARGET_P50_MS { "within" } else { "OVER" };
    let mut s = String::new();
    let _ = writeln!(s, "## Migration hooks\n");
    let _ = writeln!(
        s,
        "Measured with `cargo xtask bench-hooks` ({profile}) on: {machine}. Cluster with `fsync` \
         and `synchronous_commit` off, so commit flushes do not hide the hooks' cost. Shared \
         machine; numbers are indicative. Target (issue #5): ≤ {TARGET_P50_MS} ms per hook call \
         p50 (the release notes promise < 5 ms).\n"
    );
    let _ = writeln!(
        s,
        "What runs: `confiture migrate up --format json` of {} trivial migrations (one \
         `CREATE TABLE` each) on a fresh database, with no plugins, and with four hook plugins \
         (`plugins/bench-hook-{{a,b,c,d}}`: a hook on every event that does nothing). Four hooks \
         fire {} calls per run: 2 per migration per hook (`pre-execute`, `post-execute`, inside \
         the migration's transaction) and the run's `pre-validate` / `post-validate`. Medians of \
         {} runs per side.\n",
        options.migrations, m.calls, options.repetitions
    );
    let _ = writeln!(s, "| | `migrate up` | per hook call |");
    let _ = writeln!(s, "|---|---|---|");
    let _ = writeln!(s, "| no plugins | {:.0} ms | — |", ms(m.bare));
    let _ = writeln!(
        s,
        "| 4 hooks, {} calls | {:.0} ms | **{overhead_ms:.3} ms** end to end (whole-run difference ÷ calls; includes starting wasmtime and loading 4 cached plugins) |",
        m.calls,
        ms(m.hooked)
    );
    let _ = writeln!(
        s,
        "| host-measured call (instantiate + `handle` + tear down) | | **p50 {:.3} ms** ({} target), p99 {:.3} ms |\n",
        m.p50,
        verdict(m.p50),
        m.p99
    );
    let _ = writeln!(
        s,
        "Individual runs (ms): no plugins {}; 4 hooks {}.\n",
        runs(&m.bare_runs),
        runs(&m.hooked_runs)
    );
    let _ = writeln!(
        s,
        "Re-run: `cargo xtask bench-hooks [--migrations 200] [--repetitions 5] [--write]` \
         (builds the release binary and the plugins; `--binary PATH` measures an existing \
         binary instead)."
    );
    s
}
