//! `cargo xtask bench-sync`: `confiture sync` of a generated 1,000,000-row table, raw and
//! anonymized, against `psql -c '\copy t to stdout' | psql -c '\copy t from stdin'` of the same
//! table, in the same run, on a throwaway cluster (`fsync` and `synchronous_commit` off, as for
//! `bench-hooks`).
//!
//! The source database holds `t (id bigint primary key, email text, full_name text, phone text,
//! created_at timestamptz, bio text)`, filled with `generate_series`; the target has the same
//! table, empty. Each side runs `--repetitions` times, the order alternating between
//! repetitions, the target's `t` truncated (and a checkpoint taken) before every run; after
//! every run the target must hold every row, with the anonymized columns changed (or, raw,
//! unchanged) and the others as in the source. Medians are reported, with rows/s, the time ratio
//! to the psql pipe and the peak resident memory of the `confiture` process (`/usr/bin/time`).
//!
//! The anonymized run rewrites `email` and `full_name` with the built-ins of those names, and
//! `phone` with `email_keep_domain` of the Rust example plugin `plugins/email-strategy` (no Rust
//! plugin has a phone strategy; `phone_mask` is in the Python one): it takes text and turns a value without
//! `@` into `user_<keyed hash>@example.com`.
//!
//! Exit 1 when a target is not met. With `--write`, the section between the bench-sync markers
//! of `docs/benchmarks.md` is replaced (appended the first time).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use confiture::db::cluster::Cluster;

use crate::bench::{machine, median, run_psql, server_and_psql, throwaway_cluster};
use crate::workspace::target_dir;

/// The Rust strategy plugin the anonymized run loads, as built into `target/plugins/`.
const PLUGIN: &str = "email-strategy";
/// Its strategy, used on `phone`.
const PLUGIN_STRATEGY: &str = "email_keep_domain";
/// Targets (issue #16): raw sync at least 1.2× the psql pipe's throughput, anonymized at least
/// 1.0×, peak memory of the confiture process under 150 MB.
const TARGET_RAW_THROUGHPUT: f64 = 1.2;
const TARGET_ANONYMIZED_THROUGHPUT: f64 = 1.0;
const TARGET_PEAK_MB: f64 = 150.0;
/// GNU time, for the child's peak RSS (`%M`, KiB).
const TIME: &str = "/usr/bin/time";
const START: &str = "<!-- bench-sync:start -->";
const END: &str = "<!-- bench-sync:end -->";

const SCHEMA: &str = "CREATE TABLE t (id bigint PRIMARY KEY, email text, full_name text, \
                      phone text, created_at timestamptz, bio text)";

/// The anonymization file of the anonymized run.
const ANONYMIZATION: &str = "tables:\n  t:\n    - {column: email, strategy: email}\n    - \
                             {column: full_name, strategy: full_name}\n    - {column: phone, \
                             strategy: email_keep_domain}\n";

/// Options of the task.
pub struct Options {
    /// Rows in the generated table.
    pub rows: u64,
    /// Runs per side.
    pub repetitions: usize,
    /// `confiture sync --jobs` (default: confiture's own).
    pub jobs: Option<usize>,
    /// Use this binary instead of building the release one.
    pub binary: Option<PathBuf>,
    /// Write the result into docs/benchmarks.md.
    pub write: bool,
}

/// The three things timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Pipe,
    Raw,
    Anonymized,
}

impl Side {
    fn label(self) -> &'static str {
        match self {
            Side::Pipe => "psql \\copy pipe",
            Side::Raw => "confiture sync (raw)",
            Side::Anonymized => "confiture sync --anonymize",
        }
    }
}

/// Runs of one side: wall times and, for confiture, peak RSS in KiB.
#[derive(Default)]
struct Runs {
    times: Vec<Duration>,
    peak_kib: Vec<u64>,
}

/// What was measured.
struct Measured {
    pipe: Runs,
    raw: Runs,
    anonymized: Runs,
    /// `column → strategy` of the anonymized run, as confiture reported it.
    masked: Vec<(String, String)>,
    /// Source readers of `t` in the last raw and anonymized runs.
    readers: (u64, u64),
    /// Average length of `bio` and the table's size on disk, for the record.
    bio_chars: String,
    table_size: String,
    /// The machine's 1-minute load average before the timed runs and after them.
    load: (String, String),
}

/// The run's files: the project confiture runs in, and where /usr/bin/time writes.
struct Setup {
    binary: PathBuf,
    psql: PathBuf,
    project: PathBuf,
    config: PathBuf,
    cache: PathBuf,
    time_file: PathBuf,
}

/// Runs the benchmark; exit code 1 when a target is not met.
pub fn run(root: &Path, options: &Options) -> anyhow::Result<u8> {
    if options.rows == 0 || options.repetitions == 0 || options.jobs == Some(0) {
        bail!("--rows, --repetitions and --jobs must be at least 1");
    }
    ensure!(
        Path::new(TIME).is_file(),
        "{TIME} (GNU time) is needed to measure confiture's peak memory (Debian: apt-get install time)"
    );
    let (binary, profile) = crate::plugins::binary_and_plugins(root, options.binary.as_deref())?;
    let plugin = crate::plugins::built_component(root, PLUGIN)?;
    let psql = server_and_psql()?;
    let work = target_dir().join("bench-sync");
    let cluster = throwaway_cluster(&work, false)?;
    let project = work.join("project");
    std::fs::create_dir_all(project.join("db/environments"))?;
    std::fs::create_dir_all(project.join("plugins"))?;
    // The environment names no database: the benchmark passes --from and --to URLs.
    std::fs::write(project.join("db/environments/bench.yaml"), "name: bench\n")?;
    std::fs::copy(
        &plugin,
        project.join("plugins").join(format!("{PLUGIN}.wasm")),
    )?;
    let config = project.join("anonymization.yaml");
    std::fs::write(&config, ANONYMIZATION)?;
    let setup = Setup {
        binary,
        psql,
        project,
        config,
        cache: work.join("cache"),
        time_file: work.join("time.txt"),
    };
    println!(
        "starting a throwaway cluster in {}",
        work.join("pg").display()
    );
    let status = cluster.start()?;
    let result = measure(&cluster, &setup, options);
    let _ = cluster.stop();
    let m = result?;
    let machine = machine(status.server_version.as_deref());
    let (section, met) = report(options, &m, &profile, &machine);
    println!("\n{section}");
    if options.write {
        crate::docs_section::write(&root.join("docs/benchmarks.md"), START, END, &section)?;
        println!("wrote docs/benchmarks.md");
    }
    if met {
        println!("targets met");
        Ok(0)
    } else {
        println!("targets NOT met");
        Ok(1)
    }
}

fn measure(cluster: &Cluster, s: &Setup, options: &Options) -> anyhow::Result<Measured> {
    let admin = cluster.admin_spec()?;
    let admin_url = admin.url_with_password();
    for db in ["bench_src", "bench_dst"] {
        run_psql(
            &s.psql,
            &admin_url,
            &["-c", &format!("CREATE DATABASE {db}")],
        )?;
    }
    let src = admin.with_dbname("bench_src").url_with_password();
    let dst = admin.with_dbname("bench_dst").url_with_password();
    for url in [&src, &dst] {
        run_psql(&s.psql, url, &["-c", SCHEMA])?;
    }
    println!("generating {} rows", options.rows);
    let started = Instant::now();
    run_psql(&s.psql, &src, &["-c", &generate_sql(options.rows)])?;
    // Frozen and analyzed: no run pays for setting hint bits on the source.
    run_psql(&s.psql, &src, &["-c", "VACUUM (FREEZE, ANALYZE) t"])?;
    println!("generated in {:.1} s", started.elapsed().as_secs_f64());
    let bio_chars = query(&s.psql, &src, "SELECT round(avg(length(bio)))::int FROM t")?;
    let table_size = query(
        &s.psql,
        &src,
        "SELECT pg_size_pretty(pg_total_relation_size('t'))",
    )?;
    let samples = Samples::read(&s.psql, &src)?;

    // Warm-up, not timed: fills the plugin's compiled-artifact cache and the page cache.
    truncate(&s.psql, &dst)?;
    sync(s, options, &src, &dst, true)?;

    let mut m = Measured {
        pipe: Runs::default(),
        raw: Runs::default(),
        anonymized: Runs::default(),
        masked: Vec::new(),
        readers: (0, 0),
        bio_chars,
        table_size,
        load: (load_average(), String::new()),
    };
    let sides = [Side::Pipe, Side::Raw, Side::Anonymized];
    for rep in 0..options.repetitions {
        let order: Vec<Side> = if rep % 2 == 0 {
            sides.to_vec()
        } else {
            sides.iter().rev().copied().collect()
        };
        let mut line = format!("run {}:", rep + 1);
        for side in order {
            truncate(&s.psql, &dst)?;
            let (elapsed, peak) = match side {
                Side::Pipe => (pipe(&s.psql, &src, &dst)?, None),
                Side::Raw | Side::Anonymized => {
                    let anonymize = side == Side::Anonymized;
                    let out = sync(s, options, &src, &dst, anonymize)?;
                    let readers = out.json["tables"][0]["readers"].as_u64().unwrap_or(0);
                    if anonymize {
                        m.readers.1 = readers;
                        m.masked = masked_columns(&out.json);
                    } else {
                        m.readers.0 = readers;
                    }
                    (out.elapsed, Some(out.peak_kib))
                }
            };
            let rows = query(&s.psql, &dst, "SELECT count(*) FROM t")?;
            ensure!(
                rows == options.rows.to_string(),
                "{}: expected {} rows in the target, found {rows}",
                side.label(),
                options.rows
            );
            samples.check(&s.psql, &dst, side == Side::Anonymized)?;
            let runs = match side {
                Side::Pipe => &mut m.pipe,
                Side::Raw => &mut m.raw,
                Side::Anonymized => &mut m.anonymized,
            };
            runs.times.push(elapsed);
            let _ = write!(line, " {} {:.2} s", side.label(), elapsed.as_secs_f64());
            if let Some(peak) = peak {
                runs.peak_kib.push(peak);
                let _ = write!(line, " ({:.0} MB)", mb(peak));
            }
            line.push(';');
        }
        println!("{}", line.trim_end_matches(';'));
    }
    m.load.1 = load_average();
    Ok(m)
}

/// The machine's 1-minute load average (`/proc/loadavg`), or `unknown`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// The generated rows: names from small lists, addresses at a few domains, North American
/// phone numbers, timestamps spread over nine years, and a ~100-character bio.
fn generate_sql(rows: u64) -> String {
    format!(
        "INSERT INTO t (id, email, full_name, phone, created_at, bio) \
         SELECT g, \
           lower(n.first) || '.' || lower(n.last) || g || '@' || \
             (ARRAY['gmail.com','yahoo.com','outlook.com','proton.me','example.org','corp.example'])[1 + g % 6], \
           n.first || ' ' || n.last, \
           '+1 (' || (200 + g % 800) || ') 555-' || lpad((g * 7919 % 10000)::text, 4, '0'), \
           timestamptz '2015-01-01 00:00:00+00' + (g * 104729 % 283996800) * interval '1 second', \
           (ARRAY['Enjoys hiking, film photography and long walks along the coast.', \
                  'Backend developer who writes about databases, queues and caches.', \
                  'Amateur baker; sourdough, croissants and the odd birthday cake.', \
                  'Volunteers at the local library and runs a monthly book club.', \
                  'Former teacher, now a product manager in a logistics start-up.', \
                  'Plays the cello in an orchestra and coaches a youth chess team.'])[1 + g % 6] \
             || ' ref ' || md5(g::text) \
         FROM generate_series(1::bigint, {rows}) AS g, \
         LATERAL (SELECT \
           (ARRAY['Alice','Bruno','Chloé','David','Emma','Farid','Giulia','Hugo','Inès','Jonas', \
                  'Karin','Léo','Maya','Noah','Olga','Pedro','Quentin','Rosa','Sven','Yuki'])[1 + g % 20] AS first, \
           (ARRAY['Martin','Bernard','Dubois','Thomas','Robert','Richard','Petit','Durand','Leroy', \
                  'Moreau','Simon','Laurent','Lefebvre','Michel','Garcia','Müller','Schmidt','Rossi', \
                  'Nakamura','Novak','Kowalski','Silva','Jensen','Okafor','Haddad'])[1 + (g / 20) % 25] AS last \
         ) AS n"
    )
}

/// Digests of each column over the first 1,000 ids of the source, to check the target after a
/// run: raw, every column as in the source; anonymized, email, full_name and phone changed
/// (phone into the plugin's `user_…@example.com`) and the others unchanged.
struct Samples {
    digests: Vec<(&'static str, String)>,
}

const SAMPLE_COLUMNS: [&str; 5] = ["email", "full_name", "phone", "created_at", "bio"];

impl Samples {
    fn digest(psql: &Path, url: &str, column: &str) -> anyhow::Result<String> {
        query(
            psql,
            url,
            &format!(
                "SELECT md5(string_agg({column}::text, ',' ORDER BY id)) FROM t WHERE id <= 1000"
            ),
        )
    }

    fn read(psql: &Path, url: &str) -> anyhow::Result<Samples> {
        let digests = SAMPLE_COLUMNS
            .iter()
            .map(|c| Ok((*c, Self::digest(psql, url, c)?)))
            .collect::<anyhow::Result<_>>()?;
        Ok(Samples { digests })
    }

    fn check(&self, psql: &Path, url: &str, anonymized: bool) -> anyhow::Result<()> {
        for (column, source) in &self.digests {
            let changed = Self::digest(psql, url, column)? != *source;
            let should_change = anonymized && ["email", "full_name", "phone"].contains(column);
            ensure!(
                changed == should_change,
                "column {column} of the target is {} after a{} run",
                if changed { "changed" } else { "unchanged" },
                if anonymized { "n anonymized" } else { " raw" }
            );
        }
        if anonymized {
            let plugin_shaped = query(
                psql,
                url,
                "SELECT count(*) FROM t WHERE id <= 1000 AND phone LIKE 'user\\_%@example.com'",
            )?;
            let expected = query(psql, url, "SELECT count(*) FROM t WHERE id <= 1000")?;
            ensure!(
                plugin_shaped == expected,
                "phone was not rewritten by {PLUGIN_STRATEGY} ({plugin_shaped} of {expected} sampled rows)"
            );
        }
        Ok(())
    }
}

/// Empties the target table and takes a checkpoint, so every run starts alike.
fn truncate(psql: &Path, url: &str) -> anyhow::Result<()> {
    run_psql(psql, url, &["-q", "-c", "TRUNCATE t", "-c", "CHECKPOINT"]).map(drop)
}

/// `psql -c '\copy t to stdout' | psql -c '\copy t from stdin'`; its wall time.
fn pipe(psql: &Path, src: &str, dst: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut reader = Command::new(psql)
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", src])
        .args(["-c", "\\copy t to stdout"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .context("running psql")?;
    let out = reader.stdout.take().expect("piped");
    let writer = Command::new(psql)
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dst])
        .args(["-c", "\\copy t from stdin"])
        .stdin(Stdio::from(out))
        .stdout(Stdio::null())
        .spawn()
        .context("running psql")?;
    let written = writer.wait_with_output()?;
    let read = reader.wait()?;
    let elapsed = started.elapsed();
    ensure!(read.success(), "psql \\copy t to stdout failed ({read})");
    ensure!(
        written.status.success(),
        "psql \\copy t from stdin failed ({})",
        written.status
    );
    Ok(elapsed)
}

/// One `confiture sync` run.
struct SyncRun {
    elapsed: Duration,
    peak_kib: u64,
    json: serde_json::Value,
}

/// `confiture --format json sync --from SRC --to DST [--anonymize ...]` under /usr/bin/time.
fn sync(
    s: &Setup,
    options: &Options,
    src: &str,
    dst: &str,
    anonymize: bool,
) -> anyhow::Result<SyncRun> {
    let mut cmd = Command::new(TIME);
    cmd.arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&s.time_file)
        .arg(&s.binary)
        .args([
            "--env", "bench", "--format", "json", "sync", "--from", src, "--to", dst,
        ]);
    if anonymize {
        cmd.arg("--anonymize")
            .arg("--anonymization-config")
            .arg(&s.config);
    }
    if let Some(jobs) = options.jobs {
        cmd.args(["--jobs", &jobs.to_string()]);
    }
    let started = Instant::now();
    let out = cmd
        .current_dir(&s.project)
        .env(
            "ANONYMIZATION_SECRET",
            "bench-sync secret, not for real data",
        )
        .env("CONFITURE_CACHE_DIR", &s.cache)
        .env_remove("DATABASE_URL")
        .env_remove("CONFITURE_ENV")
        .stdin(Stdio::null())
        .output()
        .context("running confiture sync under /usr/bin/time")?;
    let elapsed = started.elapsed();
    if !out.status.success() {
        bail!(
            "confiture sync{} failed ({}):\n{}{}",
            if anonymize { " --anonymize" } else { "" },
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let time = std::fs::read_to_string(&s.time_file)
        .with_context(|| format!("reading {}", s.time_file.display()))?;
    let peak_kib = time
        .lines()
        .rev()
        .find_map(|l| l.trim().parse::<u64>().ok())
        .with_context(|| format!("no peak RSS in {}: {time:?}", s.time_file.display()))?;
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("parsing confiture's JSON output")?;
    ensure!(
        json["failed_groups"] == 0 && json["rows"] == options.rows,
        "confiture sync did not copy {} rows: {json}",
        options.rows
    );
    Ok(SyncRun {
        elapsed,
        peak_kib,
        json,
    })
}

fn masked_columns(json: &serde_json::Value) -> Vec<(String, String)> {
    json["masked_columns"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["column"].as_str().unwrap_or("?").to_string(),
                c["strategy"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect()
}

fn query(psql: &Path, url: &str, sql: &str) -> anyhow::Result<String> {
    run_psql(psql, url, &["-A", "-t", "-c", sql])
}

/// KiB to MB (10^6 bytes).
fn mb(kib: u64) -> f64 {
    kib as f64 * 1024.0 / 1e6
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The Markdown section (without its markers) and whether every target was met.
fn report(options: &Options, m: &Measured, profile: &str, machine: &str) -> (String, bool) {
    let rows = options.rows;
    let pipe = median(m.pipe.times.clone()).as_secs_f64();
    let raw = median(m.raw.times.clone()).as_secs_f64();
    let anonymized = median(m.anonymized.times.clone()).as_secs_f64();
    let peak = |r: &Runs| mb(r.peak_kib.iter().copied().max().unwrap_or(0));
    let (raw_peak, anonymized_peak) = (peak(&m.raw), peak(&m.anonymized));
    let raw_throughput = pipe / raw;
    let anonymized_throughput = pipe / anonymized;
    let raw_met = raw_throughput >= TARGET_RAW_THROUGHPUT;
    let anonymized_met = anonymized_throughput >= TARGET_ANONYMIZED_THROUGHPUT;
    let memory_met = raw_peak.max(anonymized_peak) < TARGET_PEAK_MB;
    let verdict = |met: bool| if met { "met" } else { "**NOT met**" };
    let rate = |secs: f64| thousands((rows as f64 / secs).round() as u64);
    let jobs = options
        .jobs
        .map_or("confiture's default `--jobs`".to_string(), |j| {
            format!("`--jobs {j}`")
        });
    let strategies = if m.masked.is_empty() {
        "email → `email`, full_name → `full_name`, phone → `email_keep_domain`".to_string()
    } else {
        m.masked
            .iter()
            .map(|(column, strategy)| format!("`{column}` → `{strategy}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let runs = |r: &Runs| {
        r.times
            .iter()
            .map(|d| format!("{:.2}", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ")
    };

    let mut s = String::new();
    let _ = writeln!(s, "## `sync` against a `psql \\copy` pipe\n");
    let _ = writeln!(
        s,
        "Measured with `cargo xtask bench-sync` ({profile}) on: {machine}. Throwaway cluster with \
         `fsync` and `synchronous_commit` off (as for the hooks benchmark); source and target are \
         two databases of that cluster. Shared machine; numbers are indicative. Targets: raw sync \
         at least {TARGET_RAW_THROUGHPUT:.1}× the pipe's throughput, anonymized sync at least \
         {TARGET_ANONYMIZED_THROUGHPUT:.1}×, peak memory of the `confiture` process < \
         {TARGET_PEAK_MB:.0} MB.\n"
    );
    let _ = writeln!(
        s,
        "What runs: a table `t (id bigint primary key, email text, full_name text, phone text, \
         created_at timestamptz, bio text)` of {} rows generated with `generate_series` \
         (names from lists, addresses at six domains, `+1 (NXX) 555-XXXX` phones, bios of {} \
         characters on average; {} with its index), copied into an empty `t` of another database \
         by `confiture sync --from SRC --to DST` ({jobs}; source readers of `t`: {}), by the \
         same with `--anonymize`, and by `psql -c '\\copy t to stdout' | psql -c '\\copy t from stdin'`. \
         The target's `t` is truncated (and a checkpoint taken) before every run; the sides \
         alternate order; after each run the target must hold every row, with the anonymized \
         columns changed and the others as in the source. Medians of {} runs per side, after one \
         untimed anonymized run (page cache, plugin compile cache). Peak memory: the maximum RSS \
         of the `confiture` process over its runs (`/usr/bin/time -f %M`).\n",
        thousands(rows),
        m.bio_chars,
        m.table_size,
        m.readers.0,
        options.repetitions
    );
    let _ = writeln!(
        s,
        "Anonymized columns: {strategies}. `email` and `full_name` use the built-ins; `phone` \
         uses `{PLUGIN_STRATEGY}` of the Rust example plugin `plugins/{PLUGIN}` (WebAssembly, \
         loaded from the project's `plugins/`): no Rust plugin of the repository has a phone \
         strategy (`phone_mask` is in the Python plugin). `{PLUGIN_STRATEGY}` accepts text and \
         turns a value without `@` into `user_<keyed hash>@example.com`.\n"
    );
    let _ = writeln!(
        s,
        "| | median | rows/s | time ÷ pipe | throughput ÷ pipe | peak memory | target |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---|");
    let _ = writeln!(
        s,
        "| `psql \\copy` pipe | {pipe:.2} s | {} | 1.00 | 1.00 | — | — |",
        rate(pipe)
    );
    let _ = writeln!(
        s,
        "| `confiture sync` | {raw:.2} s | {} | {:.2} | **{raw_throughput:.2}** | {raw_peak:.0} MB | throughput ≥ {TARGET_RAW_THROUGHPUT:.1}× pipe: {} |",
        rate(raw),
        raw / pipe,
        verdict(raw_met)
    );
    let _ = writeln!(
        s,
        "| `confiture sync --anonymize` | {anonymized:.2} s | {} | {:.2} | **{anonymized_throughput:.2}** | {anonymized_peak:.0} MB | throughput ≥ {TARGET_ANONYMIZED_THROUGHPUT:.1}× pipe: {} |\n",
        rate(anonymized),
        anonymized / pipe,
        verdict(anonymized_met)
    );
    let _ = writeln!(
        s,
        "Peak memory < {TARGET_PEAK_MB:.0} MB: {}. Individual runs (s): pipe {}; raw {}; \
         anonymized {}. The machine's 1-minute load average (other work included) was {} \
         before the timed runs and {} after them.\n",
        verdict(memory_met),
        runs(&m.pipe),
        runs(&m.raw),
        runs(&m.anonymized),
        m.load.0,
        m.load.1
    );
    let _ = writeln!(
        s,
        "Re-run: `cargo xtask bench-sync [--repetitions 3] [--rows 1000000] [--jobs N] [--write]` \
         (builds the release binary and the plugins; `--binary PATH` measures an existing binary \
         instead; needs the PostgreSQL server binaries, `psql` and GNU time). Exit 1 when a \
         target is not met."
    );
    (s, raw_met && anonymized_met && memory_met)
}
