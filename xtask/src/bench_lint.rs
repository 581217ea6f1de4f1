//! `cargo xtask bench-lint`: `confiture lint` end to end on generated schemas of 100 and 2,000
//! tables (with indexes, foreign keys and migrations), against Squawk on the same files in the
//! same run; then the scale inputs of [`crate::bench_lint_scale`]. Squawk is installed from
//! PyPI (`squawk-cli`) into a venv under target/.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::workspace::{build_confiture, target_dir};

/// Schema sizes measured, in tables.
const SIZES: [usize; 2] = [100, 2_000];
/// Tables per schema file.
const TABLES_PER_FILE: usize = 50;
/// The targets: end-to-end time per size.
const TARGETS_MS: [f64; 2] = [50.0, 1_000.0];

/// Runs the benchmark and prints the results and Markdown rows for docs/benchmarks.md.
pub fn run(repetitions: usize) -> anyhow::Result<u8> {
    if repetitions == 0 {
        bail!("--repetitions must be at least 1");
    }
    let binary = build_confiture(true)?;
    let work = target_dir().join("bench-lint");
    let squawk = ensure_squawk(&work)?;
    let version = output(Command::new(&squawk).arg("--version"))?;
    println!(
        "confiture: {}\nsquawk: {}",
        binary.display(),
        version.trim()
    );

    let mut rows = String::new();
    let mut all_met = true;
    for (size, target) in SIZES.into_iter().zip(TARGETS_MS) {
        let project = work.join(format!("schema_{size}"));
        let files = write_project(&project, size)?;
        let (ours, analysis, theirs) = measure(&binary, &squawk, &project, &files, repetitions)?;
        let ratio = ms(ours) / ms(theirs);
        let met = ms(ours) < target && ours <= theirs;
        all_met &= met;
        println!(
            "{size} tables ({} files): confiture lint {:.1} ms (analysis {analysis} ms), \
             squawk {:.1} ms, ratio {ratio:.2}× — target < {target} ms and ≤ squawk: {}",
            files.len(),
            ms(ours),
            ms(theirs),
            if met { "met" } else { "NOT met" }
        );
        let _ = writeln!(
            rows,
            "| {size} | {} | {:.1} ms | {analysis} ms | {:.1} ms | **{ratio:.2}×** |",
            files.len(),
            ms(ours),
            ms(theirs)
        );
    }
    println!(
        "\nMarkdown rows (tables | files | confiture lint | its analysis | squawk | ratio), \
         medians of {repetitions}:\n{rows}"
    );
    let scale = work.join("scale");
    std::fs::create_dir_all(&scale).with_context(|| format!("creating {}", scale.display()))?;
    let (scale_rows, scale_met) = crate::bench_lint_scale::run(&binary, &squawk, &scale)?;
    println!(
        "\nMarkdown rows (input | confiture | peak | squawk | peak | time ratio | memory ratio | \
         confiture full/half size), one run each:\n{scale_rows}"
    );
    Ok(if all_met && scale_met { 0 } else { 1 })
}

/// The squawk binary from a venv under `work`, installing `squawk-cli` on first use.
fn ensure_squawk(work: &Path) -> anyhow::Result<PathBuf> {
    let venv = work.join("venv");
    let squawk = venv.join("bin").join("squawk");
    if squawk.is_file() {
        return Ok(squawk);
    }
    std::fs::create_dir_all(work).with_context(|| format!("creating {}", work.display()))?;
    println!("installing squawk-cli into {} ...", venv.display());
    output(Command::new("python3").args(["-m", "venv"]).arg(&venv))
        .context("python3 -m venv (Debian: apt-get install python3-venv)")?;
    output(Command::new(venv.join("bin").join("pip")).args(["install", "--quiet", "squawk-cli"]))
        .context("pip install squawk-cli")?;
    if !squawk.is_file() {
        bail!("squawk-cli installed no {}", squawk.display());
    }
    Ok(squawk)
}

fn output(cmd: &mut Command) -> anyhow::Result<String> {
    let out = cmd.stdin(Stdio::null()).output().context("starting")?;
    if !out.status.success() {
        bail!(
            "{:?} failed ({}): {}",
            cmd,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Writes a project with `tables` tables: schema files of [`TABLES_PER_FILE`] tables (each
/// with a primary key, a foreign key to the previous table, an index on it, a unique index on
/// `email`, a partial index) and ten migrations altering them. Returns every SQL file.
fn write_project(project: &Path, tables: usize) -> anyhow::Result<Vec<PathBuf>> {
    if project.exists() {
        std::fs::remove_dir_all(project)
            .with_context(|| format!("removing {}", project.display()))?;
    }
    let schema = project.join("db/schema");
    let migrations = project.join("db/migrations");
    for dir in [&schema, &migrations, &project.join("db/environments")] {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut files = Vec::new();
    for (n, chunk) in (0..tables)
        .collect::<Vec<_>>()
        .chunks(TABLES_PER_FILE)
        .enumerate()
    {
        let mut sql = String::new();
        for &t in chunk {
            let _ = writeln!(
                sql,
                "CREATE TABLE bench_{t} (\n  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n  \
                 name text NOT NULL,\n  email text NOT NULL,\n  status text NOT NULL DEFAULT 'new',\n  \
                 score integer,\n  payload jsonb,\n  created_at timestamptz NOT NULL DEFAULT now(),\n  \
                 updated_at timestamptz NOT NULL DEFAULT now(){}\n);",
                if t > 0 {
                    format!(",\n  parent_id bigint REFERENCES bench_{} (id)", t - 1)
                } else {
                    String::new()
                }
            );
            if t > 0 {
                let _ = writeln!(
                    sql,
                    "CREATE INDEX bench_{t}_parent_idx ON bench_{t} (parent_id);"
                );
            }
            let _ = writeln!(
                sql,
                "CREATE UNIQUE INDEX bench_{t}_email_key ON bench_{t} (email);"
            );
            let _ = writeln!(
                sql,
                "CREATE INDEX bench_{t}_status_idx ON bench_{t} (status, created_at) WHERE status <> 'done';"
            );
            let _ = writeln!(
                sql,
                "COMMENT ON TABLE bench_{t} IS 'Benchmark table {t}.';\n"
            );
        }
        let path = schema.join(format!("{:03}_tables.sql", n + 1));
        std::fs::write(&path, sql).with_context(|| format!("writing {}", path.display()))?;
        files.push(path);
    }
    for m in 0..10 {
        let t = m * tables / 10;
        let sql = format!(
            "ALTER TABLE bench_{t} ADD COLUMN note_{m} text;\n\
             CREATE INDEX bench_{t}_score_{m}_idx ON bench_{t} (score);\n\
             ALTER TABLE bench_{t} ADD CONSTRAINT bench_{t}_score_{m}_check CHECK (score >= 0) NOT VALID;\n"
        );
        let path = migrations.join(format!("2025010100{m:04}_change_{m}.up.sql"));
        std::fs::write(&path, sql).with_context(|| format!("writing {}", path.display()))?;
        files.push(path);
    }
    Ok(files)
}

/// Median wall times of `confiture lint` and `squawk` (alternating which goes first), and the
/// analysis time confiture reports for its median run.
fn measure(
    binary: &Path,
    squawk: &Path,
    project: &Path,
    files: &[PathBuf],
    repetitions: usize,
) -> anyhow::Result<(Duration, u64, Duration)> {
    let time_ours = || -> anyhow::Result<(Duration, u64)> {
        let started = Instant::now();
        let out = Command::new(binary)
            .args(["lint", "--format", "json"])
            .current_dir(project)
            .env_remove("CONFITURE_ENV")
            .stdin(Stdio::null())
            .output()
            .context("running confiture lint")?;
        let elapsed = started.elapsed();
        if !matches!(out.status.code(), Some(0 | 1)) {
            bail!(
                "confiture lint failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let report: serde_json::Value =
            serde_json::from_slice(&out.stdout).context("confiture lint printed no JSON")?;
        if report["files"].as_array().map(Vec::len) != Some(files.len()) {
            bail!("confiture lint did not read all {} files", files.len());
        }
        Ok((elapsed, report["elapsed_ms"].as_u64().unwrap_or(0)))
    };
    let time_theirs = || -> anyhow::Result<Duration> {
        let started = Instant::now();
        let out = Command::new(squawk)
            .args(["--reporter", "json"])
            .args(files)
            .current_dir(project)
            .stdin(Stdio::null())
            .output()
            .context("running squawk")?;
        let elapsed = started.elapsed();
        if !matches!(out.status.code(), Some(0 | 1)) || out.stdout.is_empty() {
            bail!(
                "squawk failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(elapsed)
    };
    // One warm-up each, so both read the files from the page cache.
    time_ours()?;
    time_theirs()?;
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for rep in 0..repetitions {
        if rep % 2 == 0 {
            ours.push(time_ours()?);
            theirs.push(time_theirs()?);
        } else {
            theirs.push(time_theirs()?);
            ours.push(time_ours()?);
        }
    }
    ours.sort();
    let (wall, analysis) = ours[ours.len() / 2];
    theirs.sort();
    Ok((wall, analysis, theirs[theirs.len() / 2]))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
