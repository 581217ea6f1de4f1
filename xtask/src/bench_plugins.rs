//! `cargo xtask bench-plugins`: measures the plugin runtime on the components in
//! `target/plugins/` (built first by the same command) and writes the "Plugin runtime" section of
//! `docs/benchmarks.md`:
//!
//! - load time per plugin, cold (compile, empty cache) and cached (verified `.cwasm`), median
//!   of several loads;
//! - hook call overhead: instantiate + `handle` + tear down, p50 and p99 over many calls;
//! - strategy throughput in values/s on one worker (one thread, one instance reused), for
//!   1,000,000 values in batches of 10,000: emails for the Rust strategy, phone numbers for the
//!   Python one.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use confiture::plugins::compile::{CompileLimits, Compiler};
use confiture::plugins::hooks::{Direction, HookEvent, Migration};
use confiture::plugins::keyed_hash::KeyedHasher;
use confiture::plugins::strategy::Column;
use confiture::plugins::{
    Batch, EngineOptions, HookContext, LogLevel, Plugin, PluginEngine, PluginLog, StrategyWorker,
    TextBatch, call_hook,
};
use confiture::project::PluginSettings;

/// Values anonymized per strategy measurement.
const VALUES: usize = 1_000_000;
/// Values per batch (what a sync worker sends in one call).
const BATCH: usize = 10_000;
/// Hook calls measured (after warm-up).
const HOOK_CALLS: usize = 2_000;
/// Loads per plugin for the cached median.
const LOADS: usize = 7;

/// One plugin's load times.
struct LoadRow {
    file: String,
    name: String,
    cold_ms: f64,
    cached_ms: f64,
    bytes: u64,
}

/// Runs every measurement and writes the report; returns its path.
pub fn run(workspace_root: &Path) -> Result<PathBuf> {
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
    for file in &files {
        println!("load        {}", file.display());
        loads.push(load_times(file)?);
    }
    let engine = engine(None)?;
    let hook_file = dir.join("email-not-null-hook.wasm");
    println!("hook calls  {}", hook_file.display());
    let hook = hook_overhead(&engine, &hook_file)?;
    let mut throughput = Vec::new();
    for (file, strategy, values) in [
        (
            "email-strategy.wasm",
            "email_keep_domain",
            emails as fn(usize) -> String,
        ),
        ("python-strategy.wasm", "phone_mask", phones),
    ] {
        let path = dir.join(file);
        if path.is_file() {
            println!("throughput  {}", path.display());
            throughput.push((
                file,
                strategy,
                strategy_throughput(&engine, &path, strategy, values)?,
            ));
        }
    }
    let report = render(&loads, &hook, &throughput);
    let out = workspace_root.join("docs/benchmarks.md");
    replace_section(&out, &report)?;
    Ok(out)
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
        cache_dir: cache.map(Path::to_path_buf),
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
    let cache = tempfile_dir()?;
    let engine = engine(Some(&cache))?;
    let (plugin, cold) = load(&engine, file)?;
    let mut cached: Vec<Duration> = (0..LOADS)
        .map(|_| load(&engine, file).map(|(_, t)| t))
        .collect::<Result<_>>()?;
    cached.sort();
    let _ = std::fs::remove_dir_all(&cache);
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

fn tempfile_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "confiture-bench-cache-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(dir)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// p50 and p99 of instantiate + `handle`, in microseconds. The hook runs without a database,
/// so its query returns an error at once and the hook reports it: the cost measured is the
/// runtime's, not PostgreSQL's.
fn hook_overhead(engine: &Arc<PluginEngine>, file: &Path) -> Result<(f64, f64)> {
    let (plugin, _) = load(engine, file)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let context = HookContext {
        event: HookEvent::PostExecute,
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
    let mut times: Vec<Duration> = runtime.block_on(async {
        for _ in 0..100 {
            let _ = call_hook(&plugin, context.clone(), None).await;
        }
        let mut times = Vec::with_capacity(HOOK_CALLS);
        for _ in 0..HOOK_CALLS {
            let started = Instant::now();
            let _ = call_hook(&plugin, context.clone(), None).await;
            times.push(started.elapsed());
        }
        times
    });
    times.sort();
    let pick = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    Ok((
        pick(0.50).as_secs_f64() * 1e6,
        pick(0.99).as_secs_f64() * 1e6,
    ))
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

fn render(loads: &[LoadRow], hook: &(f64, f64), throughput: &[(&str, &str, f64)]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Plugin runtime benchmarks\n\nMeasured with `cargo xtask bench-plugins` (the release \
         profile the tests use) on: \
         {}.\nShared machine; numbers are indicative. Targets are from issue #3.\n",
        machine()
    );
    let _ = writeln!(
        out,
        "## Load time per plugin\n\nRead, compile (cold) or load the verified cached artifact \
         (cached, median of {LOADS}), pre-instantiate, instantiate and `describe`. Target: \
         cached ≤ 20 ms for a Rust plugin, ≤ 300 ms for the Python one.\n\n\
         | component | plugin | size | cold | cached |\n|---|---|---:|---:|---:|"
    );
    for row in loads {
        let _ = writeln!(
            out,
            "| `{}` | {} | {:.1} MiB | {:.0} ms | {:.1} ms |",
            row.file,
            row.name,
            row.bytes as f64 / 1024.0 / 1024.0,
            row.cold_ms,
            row.cached_ms
        );
    }
    let _ = writeln!(
        out,
        "\n## Hook call overhead\n\nOne `call_hook` of `email-not-null-hook`: a fresh instance from \
         the pre-instantiated component, the call on a blocking thread, the store dropped \
         ({HOOK_CALLS} calls after 100 warm-up calls; no database, so the hook's query fails at \
         once and only the runtime is measured). Target: ≤ 1 ms p50.\n\n\
         | p50 | p99 |\n|---:|---:|\n| {:.0} µs | {:.0} µs |",
        hook.0, hook.1
    );
    let _ = writeln!(
        out,
        "\n## Strategy throughput\n\nOne worker (one thread, one instance reused), {VALUES} \
         values in batches of {BATCH}, including packing checks of each returned batch. \
         Target: ≥ 1 M values/s on one core for a Rust strategy.\n\n\
         | component | strategy | values | values/s |\n|---|---|---|---:|"
    );
    for (file, strategy, rate) in throughput {
        let kind = if strategy.contains("phone") {
            "phone numbers"
        } else {
            "emails"
        };
        let _ = writeln!(out, "| `{file}` | `{strategy}` | {kind} | {rate:.0} |");
    }
    out
}
