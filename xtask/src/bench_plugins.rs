//! `cargo xtask bench-plugins`: measures the plugin runtime on the components in
//! `target/plugins/` (built first by the same command) and writes the "Plugin runtime" section of
//! `docs/benchmarks.md`:
//!
//! - load time per plugin and language, cold (compile, empty cache) and cached (verified
//!   `.cwasm`), median of several loads;
//! - hook call overhead: `call_hook` p50 and p99 over many calls, next to its parts measured in
//!   the same run — the blocking-thread hop alone, and a fresh instance + call + tear down
//!   without the hop (a lint call) — so the tail can be attributed;
//! - strategy throughput in values/s on one worker (one thread, one instance reused), for
//!   1,000,000 values in batches of 10,000: the same phone mask in Rust, Python, JavaScript and
//!   C (ratios against the Rust one, measured in the same run), and the Rust email strategy.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use confiture::plugins::cache::ArtifactCache;
use confiture::plugins::compile::{CompileLimits, Compiler};
use confiture::plugins::hooks::{Direction, HookEvent, Migration};
use confiture::plugins::keyed_hash::KeyedHasher;
use confiture::plugins::strategy::Column;
use confiture::plugins::{
    Batch, EngineOptions, HookContext, LintContext, LogLevel, Plugin, PluginEngine, PluginLog,
    StrategyWorker, TextBatch, call_hook, run_lint,
};
use confiture::project::settings::plugins::PluginSettings;

/// Values anonymized per strategy measurement.
const VALUES: usize = 1_000_000;
/// Values per batch (what a sync worker sends in one call).
const BATCH: usize = 10_000;
/// Hook calls measured (after warm-up).
const HOOK_CALLS: usize = 2_000;
/// Loads per plugin for the cached median.
const LOADS: usize = 7;

/// The same phone mask in each language: (component, strategy, language).
const PHONE_MASKS: [(&str, &str, &str); 4] = [
    ("phone-strategy.wasm", "phone_mask_rust", "Rust"),
    ("c-strategy.wasm", "phone_mask_c", "C"),
    ("python-strategy.wasm", "phone_mask", "Python"),
    ("js-strategy.wasm", "phone_mask_js", "JavaScript"),
];

/// The language a component of `target/plugins/` is written in.
fn language(file: &str) -> &'static str {
    let folder = file.trim_end_matches(".wasm");
    let listed = |list: &[(&str, &str)]| list.iter().any(|(name, _)| *name == folder);
    if listed(crate::plugins::PYTHON_PLUGINS) {
        "Python"
    } else if listed(crate::plugins::JS_PLUGINS) {
        "JavaScript"
    } else if listed(crate::plugins::C_PLUGINS) {
        "C"
    } else {
        "Rust"
    }
}

/// One plugin's load times.
struct LoadRow {
    file: String,
    name: String,
    cold_ms: f64,
    cached_ms: f64,
    bytes: u64,
}

/// A part of the benchmark, for `--only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// Load time per plugin, cold and cached.
    Load,
    /// Hook call overhead and its parts.
    Hooks,
    /// Strategy throughput.
    Throughput,
}

/// Runs the measurements (every part, or only `only`) and prints the report; with `write`, also
/// writes it into `docs/benchmarks.md`.
pub fn run(workspace_root: &Path, only: Option<Part>, write: bool) -> Result<()> {
    let wanted = |part: Part| only.is_none_or(|only| only == part);
    let dir = workspace_root.join("target/plugins");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("{} (run `cargo xtask build-plugins` first)", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!(
            "no components in {}; run `cargo xtask build-plugins`",
            dir.display()
        );
    }
    let mut loads = Vec::new();
    if wanted(Part::Load) {
        for file in &files {
            println!("load        {}", file.display());
            loads.push(load_times(file)?);
        }
    }
    let engine = engine(None)?;
    let hook = if wanted(Part::Hooks) {
        let hook_file = dir.join("email-not-null-hook.wasm");
        println!("hook calls  {}", hook_file.display());
        Some(hook_overhead(
            &engine,
            &hook_file,
            &dir.join("tenant-lint.wasm"),
        )?)
    } else {
        None
    };
    let mut throughput = Vec::new();
    if wanted(Part::Throughput) {
        for (file, strategy, language) in PHONE_MASKS {
            let path = dir.join(file);
            println!("throughput  {}", path.display());
            let rate = strategy_throughput(&engine, &path, strategy, phones)?;
            throughput.push((file, strategy, language, "phone numbers", rate));
        }
        let path = dir.join("email-strategy.wasm");
        println!("throughput  {}", path.display());
        let rate = strategy_throughput(&engine, &path, "email_keep_domain", emails)?;
        throughput.push((
            "email-strategy.wasm",
            "email_keep_domain",
            "Rust",
            "emails",
            rate,
        ));
    }
    let report = render(&loads, hook.as_ref(), &throughput);
    println!("\n{report}");
    if write {
        let out = workspace_root.join("docs/benchmarks.md");
        replace_section(&out, &report)?;
        println!("wrote {}", out.display());
    }
    Ok(())
}

/// Markers around the generated section of `docs/benchmarks.md`.
const SECTION_START: &str = "<!-- bench-plugins:start -->";
const SECTION_END: &str = "<!-- bench-plugins:end -->";

/// Writes `report` between the section markers of `path` (appending them when absent), one
/// heading level down so it nests under the file's title.
fn replace_section(path: &Path, report: &str) -> Result<()> {
    let nested = report
        .replacen("# Plugin runtime benchmarks", "## Plugin runtime", 1)
        .replace("\n## ", "\n### ");
    crate::docs_section::write(path, SECTION_START, SECTION_END, &nested)
}

fn engine(cache: Option<&Path>) -> Result<Arc<PluginEngine>> {
    PluginEngine::new(EngineOptions {
        cache: cache
            .map(|dir| ArtifactCache::new(dir.to_path_buf(), dir.with_file_name("cache.key"))),
        log: PluginLog::stderr(LogLevel::Warn),
        hasher: KeyedHasher::new(b"benchmark secret"),
        compiler: Compiler::InProcess,
        compile_limits: CompileLimits::default(),
    })
}

fn load(engine: &Arc<PluginEngine>, file: &Path) -> Result<(Arc<Plugin>, Duration)> {
    let started = Instant::now();
    let plugin = Plugin::load(engine, file, file.display().to_string(), |_| {
        PluginSettings {
            memory_mb: Some(256),
            ..PluginSettings::default()
        }
    })?;
    Ok((Arc::new(plugin), started.elapsed()))
}

fn load_times(file: &Path) -> Result<LoadRow> {
    let home = private_temp_dir()?;
    let cache = home.join("cache");
    let engine = engine(Some(&cache))?;
    let (plugin, cold) = load(&engine, file)?;
    let mut cached: Vec<Duration> = (0..LOADS)
        .map(|_| load(&engine, file).map(|(_, t)| t))
        .collect::<Result<_>>()?;
    cached.sort();
    let _ = std::fs::remove_dir_all(&home);
    Ok(LoadRow {
        file: file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        name: plugin.name().to_string(),
        cold_ms: ms(cold),
        cached_ms: ms(cached[cached.len() / 2]),
        bytes: std::fs::metadata(file)?.len(),
    })
}

/// A fresh directory of the temporary directory that only this user can write: the artifact
/// cache trusts nothing else (in `/tmp` itself it is refused and every load compiles again).
fn private_temp_dir() -> Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = std::env::temp_dir().join(format!(
        "confiture-bench-cache-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// p50 and p99 of a set of durations, in microseconds.
fn percentiles(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    let pick = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    (
        pick(0.50).as_secs_f64() * 1e6,
        pick(0.99).as_secs_f64() * 1e6,
    )
}

/// Hook call overhead and its parts, each (p50, p99) in microseconds.
struct HookRows {
    /// `call_hook`: the hop to a blocking thread, instantiate, `handle`, tear down.
    call: (f64, f64),
    /// `spawn_blocking` of nothing and back: the hop alone.
    hop: (f64, f64),
    /// `run_lint` of a lint plugin on an empty schema: instantiate, call, tear down, no hop.
    instance: (f64, f64),
}

/// The hook runs without a database, so its query returns an error at once and the hook
/// reports it: the cost measured is the runtime's, not PostgreSQL's.
fn hook_overhead(engine: &Arc<PluginEngine>, file: &Path, lint_file: &Path) -> Result<HookRows> {
    let (plugin, _) = load(engine, file)?;
    let (lint, _) = load(engine, lint_file)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let context = HookContext {
        event: HookEvent::PostExecute.into(),
        migration: Some(Migration {
            version: "20261125093000".into(),
            name: "add_users_email_index".into(),
            checksum: "0".repeat(64),
            direction: Direction::Up,
            path: "db/migrations/20261125093000_add_users_email_index.up.sql".into(),
            sql: "CREATE INDEX ON users (email);".into(),
        }),
        environment: "bench".into(),
        status: "running".into(),
        duration_ms: Some(3),
        error: None,
        metadata: vec![],
    };
    let (call, hop) = runtime.block_on(async {
        for _ in 0..100 {
            let _ = call_hook(&plugin, context.clone(), None).await;
        }
        let mut call = Vec::with_capacity(HOOK_CALLS);
        let mut hop = Vec::with_capacity(HOOK_CALLS);
        for _ in 0..HOOK_CALLS {
            let started = Instant::now();
            let _ = call_hook(&plugin, context.clone(), None).await;
            call.push(started.elapsed());
            let started = Instant::now();
            let _ = tokio::task::spawn_blocking(|| ()).await;
            hop.push(started.elapsed());
        }
        (call, hop)
    });
    let empty = LintContext {
        tables: vec![],
        indexes: vec![],
        statements: vec![],
        enabled_rules: lint.info.rules.iter().map(|r| r.id.clone()).collect(),
    };
    let mut instance = Vec::with_capacity(HOOK_CALLS);
    for _ in 0..HOOK_CALLS {
        let started = Instant::now();
        run_lint(&lint, &empty)?;
        instance.push(started.elapsed());
    }
    Ok(HookRows {
        call: percentiles(call),
        hop: percentiles(hop),
        instance: percentiles(instance),
    })
}

fn emails(i: usize) -> String {
    format!("user.{i}@example{}.org", i % 97)
}

fn phones(i: usize) -> String {
    format!(
        "+33 6 {:02} {:02} {:02} {:02}",
        i % 100,
        (i / 100) % 100,
        (i / 10_000) % 100,
        i % 89
    )
}

/// Values per second through one worker.
fn strategy_throughput(
    engine: &Arc<PluginEngine>,
    file: &Path,
    strategy: &str,
    value: fn(usize) -> String,
) -> Result<f64> {
    let (plugin, _) = load(engine, file)?;
    let mut worker = StrategyWorker::new(plugin)?;
    let batches: Vec<Batch> = (0..VALUES / BATCH)
        .map(|b| {
            let values: Vec<String> = (b * BATCH..(b + 1) * BATCH).map(value).collect();
            Batch {
                strategy: strategy.into(),
                column: Column {
                    schema: "public".into(),
                    table: "users".into(),
                    name: "contact".into(),
                    type_name: "text".into(),
                },
                params: vec![],
                values: TextBatch::from_values(values.iter().map(|v| Some(v.as_str()))),
                context: vec![],
            }
        })
        .collect();
    worker.anonymize(&batches[0])?;
    let started = Instant::now();
    let mut produced = 0;
    for batch in &batches {
        produced += worker.anonymize(batch)?.len();
    }
    Ok(produced as f64 / started.elapsed().as_secs_f64())
}

/// Today's date, `YYYY-MM-DD` (from `date`).
fn today() -> String {
    std::process::Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// The 1-minute load average (`/proc/loadavg`), which says how shared the machine was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("MemTotal"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or("? GiB".into(), |kb| format!("{} GiB", kb / 1024 / 1024));
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, {memory}, Linux; {rustc}; wasmtime 48 (Cranelift)")
}

fn render(
    loads: &[LoadRow],
    hook: Option<&HookRows>,
    throughput: &[(&str, &str, &str, &str, f64)],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Plugin runtime benchmarks\n\nMeasured with `cargo xtask bench-plugins --write` (the \
         release profile the tests use) on {}: \
         {}; load average {} when the report was written.\nShared machine (2 cores, other \
         builds running); numbers are indicative, ratios within one run hold better. Targets \
         are from issues #3 and #20.\n",
        today(),
        machine(),
        load_average()
    );
    if !loads.is_empty() {
        let _ = writeln!(
            out,
            "## Load time per plugin\n\nRead, compile (cold) or load the verified cached artifact \
             (cached, median of {LOADS}), pre-instantiate, instantiate and `describe`. Targets: \
             cached ≤ 20 ms for Rust and C, ≤ 300 ms for Python and JavaScript.\n\n\
             | component | language | plugin | size | cold | cached |\n|---|---|---|---:|---:|---:|"
        );
        for row in loads {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {:.2} MiB | {:.0} ms | {:.1} ms |",
                row.file,
                language(&row.file),
                row.name,
                row.bytes as f64 / 1024.0 / 1024.0,
                row.cold_ms,
                row.cached_ms
            );
        }
    }
    if let Some(hook) = hook {
        let _ = writeln!(
            out,
            "\n## Hook call overhead\n\nOne `call_hook` of `email-not-null-hook` (Rust): the hop to \
             a blocking thread, a fresh instance from the pre-instantiated component, `handle`, the \
             store dropped ({HOOK_CALLS} calls after 100 warm-up calls; no database, so the hook's \
             query fails at once and only the runtime is measured). Its parts, measured in the same \
             run: the hop alone (`spawn_blocking` of nothing), and a fresh instance + call + tear \
             down without the hop (`run_lint` of `tenant-lint` on an empty schema). Targets: p50 ≤ \
             0.2 ms, p99 ≤ 1 ms.\n\n\
             | | p50 | p99 |\n|---|---:|---:|\n\
             | `call_hook` | {:.0} µs | {:.0} µs |\n\
             | blocking-thread hop alone | {:.0} µs | {:.0} µs |\n\
             | instance + call + drop, no hop | {:.0} µs | {:.0} µs |",
            hook.call.0, hook.call.1, hook.hop.0, hook.hop.1, hook.instance.0, hook.instance.1
        );
    }
    if !throughput.is_empty() {
        let reference = throughput
            .iter()
            .find(|row| row.1 == "phone_mask_rust")
            .map_or(f64::NAN, |row| row.4);
        let _ = writeln!(
            out,
            "\n## Strategy throughput\n\nOne worker (one thread, one instance reused), {VALUES} \
             values in batches of {BATCH}, including the host's checks of each returned batch. The \
             phone mask is the same transform in every language (keep the last two digits, the \
             others from the keyed hash of the digits; one `keyed-hash-batch` call per batch), with \
             the same output. Targets: Rust and C ≥ 1.5 M values/s, Python and JavaScript ≥ 250 K \
             values/s.\n\n\
             | component | language | strategy | values | values/s | ÷ Rust phone mask |\n\
             |---|---|---|---|---:|---:|"
        );
        for (file, strategy, language, kind, rate) in throughput {
            let _ = writeln!(
                out,
                "| `{file}` | {language} | `{strategy}` | {kind} | {rate:.0} | {:.2} |",
                rate / reference
            );
        }
    }
    out
}
