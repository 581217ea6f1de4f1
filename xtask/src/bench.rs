//! `cargo xtask bench`: `confiture migrate up` of N small migrations (each a CREATE TABLE and an
//! INSERT) on a fresh database, against `psql -f` of the same SQL concatenated on another fresh
//! database, in the same run on the same throwaway cluster. Reports medians and the ratio.
//! With `--round-trip-ms`, both tools reach the cluster through a relay that delays every round
//! trip ([`crate::latency`]), as a network would.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use confiture::db::cluster::Cluster;

use crate::workspace::{build_confiture, on_path, target_dir};

/// The target (issue #13): confiture no slower than psql.
const TARGET_RATIO: f64 = 1.0;

/// Runs the benchmark and prints the result (and a Markdown row for docs/benchmarks.md).
pub fn run(
    migrations: usize,
    repetitions: usize,
    fsync_off: bool,
    round_trip: Option<Duration>,
) -> anyhow::Result<u8> {
    if migrations == 0 || repetitions == 0 {
        bail!("--migrations and --repetitions must be at least 1");
    }
    let psql = server_and_psql()?;
    let binary = build_confiture(true)?;
    let work = target_dir().join("bench");
    let durability = if fsync_off { "off" } else { "on" };
    let cluster = throwaway_cluster(&work, !fsync_off)?;
    let project = work.join("project");
    let concatenated = write_project(&project, migrations)?;
    println!(
        "starting a throwaway cluster in {}",
        work.join("pg").display()
    );
    let status = cluster.start()?;
    let relay = match (round_trip, status.port) {
        (Some(round_trip), Some(port)) => Some(crate::latency::Relay::start(port, round_trip)?),
        _ => None,
    };
    let target = Target {
        cluster: &cluster,
        relay: relay.as_ref().map(|r| r.port),
    };
    let result = measure(
        &target,
        &binary,
        &psql,
        &project,
        &concatenated,
        migrations,
        repetitions,
    );
    let _ = cluster.stop();
    let (confiture, psql_time) = result?;
    let ratio = confiture.as_secs_f64() / psql_time.as_secs_f64();
    println!();
    println!(
        "{migrations} migrations, median of {repetitions} runs each, on a fresh database per run \
         (fsync and synchronous_commit {durability}{}):",
        round_trip.map_or(String::new(), |rt| format!(
            ", {:.2} ms added to every round trip",
            ms(rt)
        ))
    );
    println!("  confiture migrate up   {:>8.1} ms", ms(confiture));
    println!("  psql -f (concatenated) {:>8.1} ms", ms(psql_time));
    println!(
        "  ratio                  {ratio:>8.2}x  (target: at most {TARGET_RATIO}x) {}",
        if ratio <= TARGET_RATIO {
            "ok"
        } else {
            "OVER TARGET"
        }
    );
    println!("\nMachine: {}", machine(status.server_version.as_deref()));
    Ok(0)
}

/// Writes the project (`db/migrations/` with N migrations) and returns the concatenated SQL file.
fn write_project(project: &Path, migrations: usize) -> anyhow::Result<PathBuf> {
    let dir = project.join("db/migrations");
    std::fs::create_dir_all(&dir)?;
    std::fs::create_dir_all(project.join("db/environments"))?;
    // The environment names no database: the benchmark passes --database-url.
    std::fs::write(project.join("db/environments/bench.yaml"), "name: bench\n")?;
    let mut all = String::new();
    for i in 1..=migrations {
        let sql = format!(
            "CREATE TABLE bench_{i:04} (id integer PRIMARY KEY, label text NOT NULL);\n\
             INSERT INTO bench_{i:04} (id, label) VALUES ({i}, 'row {i}');\n"
        );
        std::fs::write(dir.join(format!("{i:04}_create_bench_{i:04}.up.sql")), &sql)?;
        all.push_str(&sql);
    }
    let file = project.join("all.sql");
    std::fs::write(&file, all)?;
    Ok(file)
}

/// Where the benchmark's databases are.
struct Target<'a> {
    /// The throwaway cluster, running.
    cluster: &'a Cluster,
    /// The port of the relay in front of it, when the tools are timed through one.
    relay: Option<u16>,
}

/// Median times of confiture and psql over `repetitions` fresh databases each.
fn measure(
    target: &Target<'_>,
    binary: &Path,
    psql: &Path,
    project: &Path,
    concatenated: &Path,
    migrations: usize,
    repetitions: usize,
) -> anyhow::Result<(Duration, Duration)> {
    let cluster = target.cluster;
    let admin = cluster.admin_spec()?.url_with_password();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for rep in 0..repetitions {
        let (db_c, db_p) = (
            format!("bench_confiture_{rep}"),
            format!("bench_psql_{rep}"),
        );
        for db in [&db_c, &db_p] {
            run_psql(psql, &admin, &["-c", &format!("CREATE DATABASE {db}")])?;
        }
        // Both tools connect through the relay, when there is one.
        let timed = match target.relay {
            Some(port) => cluster.admin_spec_through(port)?,
            None => cluster.admin_spec()?,
        };
        let url_c = timed.with_dbname(&db_c).url_with_password();
        let url_p = timed.with_dbname(&db_p).url_with_password();
        // Alternate which side runs first, so neither always meets a warmer cache.
        let time_confiture = || -> anyhow::Result<Duration> {
            let started = Instant::now();
            let out = Command::new(binary)
                .args(["--env", "bench", "--database-url", &url_c, "migrate", "up"])
                .current_dir(project)
                .env_remove("DATABASE_URL")
                .env_remove("CONFITURE_ENV")
                .stdin(Stdio::null())
                .output()?;
            let elapsed = started.elapsed();
            if !out.status.success() {
                bail!(
                    "confiture migrate up failed:\n{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            Ok(elapsed)
        };
        let time_psql = || -> anyhow::Result<Duration> {
            let started = Instant::now();
            run_psql(psql, &url_p, &["-q", "-f", &concatenated.to_string_lossy()])?;
            Ok(started.elapsed())
        };
        if rep % 2 == 0 {
            ours.push(time_confiture()?);
            theirs.push(time_psql()?);
        } else {
            theirs.push(time_psql()?);
            ours.push(time_confiture()?);
        }
        for url in [&url_c, &url_p] {
            let tables = query(
                psql,
                url,
                "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'bench\\_%'",
            )?;
            if tables != migrations.to_string() {
                bail!("expected {migrations} tables after a run, found {tables}");
            }
        }
        let recorded = query(psql, &url_c, "SELECT count(*) FROM tb_confiture")?;
        if recorded != migrations.to_string() {
            bail!("expected {migrations} rows in tb_confiture, found {recorded}");
        }
        println!(
            "run {}: confiture {:.1} ms, psql {:.1} ms",
            rep + 1,
            ms(*ours.last().expect("timed")),
            ms(*theirs.last().expect("timed"))
        );
    }
    Ok((median(ours), median(theirs)))
}

/// Makes sure the PostgreSQL server binaries are here (see [`crate::postgres`]) and returns
/// the `psql` to use: the one beside them, else the first on `PATH`.
pub(crate) fn server_and_psql() -> anyhow::Result<PathBuf> {
    let bin_dir = crate::postgres::ensure_server(false)?;
    Some(bin_dir.join("psql"))
        .filter(|p| p.is_file())
        .or_else(|| on_path("psql"))
        .context("psql is not installed (Debian: apt-get install postgresql-client)")
}

/// A benchmark's throwaway cluster in `<work>/pg` (database `bench`), not started yet: a
/// cluster left running there by an interrupted run is stopped and `work` is emptied. With
/// `durable` false, `fsync` and `synchronous_commit` are off, so commit flushes do not
/// dominate what is measured.
pub(crate) fn throwaway_cluster(work: &Path, durable: bool) -> anyhow::Result<Cluster> {
    let durability = if durable { "on" } else { "off" };
    let cluster = Cluster::in_dir(&work.join("pg"), "bench")
        .with_setting("fsync", durability)
        .with_setting("synchronous_commit", durability);
    let _ = cluster.stop();
    if work.exists() {
        std::fs::remove_dir_all(work).with_context(|| format!("removing {}", work.display()))?;
    }
    Ok(cluster)
}

pub(crate) fn run_psql(psql: &Path, url: &str, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(psql)
        .args(["-X", "-v", "ON_ERROR_STOP=1", "-d", url])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("running psql")?;
    if !out.status.success() {
        bail!(
            "psql {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn query(psql: &Path, url: &str, sql: &str) -> anyhow::Result<String> {
    run_psql(psql, url, &["-A", "-t", "-c", sql])
}

pub(crate) fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    let n = times.len();
    if n % 2 == 1 {
        times[n / 2]
    } else {
        (times[n / 2 - 1] + times[n / 2]) / 2
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Cores, memory, CPU model and PostgreSQL version, for the record.
pub(crate) fn machine(server_version: Option<&str>) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .map_or("unknown memory".to_string(), |kb| {
            format!("{:.1} GiB", kb as f64 / 1048576.0)
        });
    let mut text = String::new();
    let _ = write!(
        text,
        "{cores} cores, {memory}, {model}, PostgreSQL {}",
        server_version.unwrap_or("unknown")
    );
    text
}
