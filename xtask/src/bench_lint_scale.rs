//! The scale half of `cargo xtask bench-lint`: `confiture lint` and Squawk on three large
//! generated files — one 10 MB line, a 15 MB `INSERT` dump, 300,000 small statements — each
//! side's wall time and peak resident memory measured in the same run, and confiture's time at
//! half and full size to show it grows linearly.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// One generated input.
struct Input {
    name: &'static str,
    /// What it is, for the report.
    what: &'static str,
    write: fn(&Path, f64) -> anyhow::Result<()>,
}

const INPUTS: [Input; 3] = [
    Input {
        name: "one_line",
        what: "10 MB on one line: a table and one multi-row INSERT",
        write: one_line,
    },
    Input {
        name: "insert_dump",
        what: "15 MB INSERT dump: a table and one INSERT per row",
        write: insert_dump,
    },
    Input {
        name: "small_statements",
        what: "300,000 small statements: INSERT, UPDATE ... WHERE, SELECT setval",
        write: small_statements,
    },
];

/// A run's wall time and peak resident set.
#[derive(Clone, Copy)]
struct Run {
    wall: Duration,
    peak_kb: u64,
}

/// Measures every input; returns Markdown rows and whether memory stayed within 1.5× Squawk's
/// and time grew linearly (full size at most 2.6× half size).
pub fn run(binary: &Path, squawk: &Path, work: &Path) -> anyhow::Result<(String, bool)> {
    let mut rows = String::new();
    let mut all_met = true;
    for input in INPUTS {
        let full = work.join(format!("{}.sql", input.name));
        let half = work.join(format!("{}_half.sql", input.name));
        (input.write)(&full, 1.0)?;
        (input.write)(&half, 0.5)?;
        let ours = measure(
            Command::new(binary)
                .args(["lint", "--format", "json"])
                .arg(&full),
        )?;
        let ours_half = measure(
            Command::new(binary)
                .args(["lint", "--format", "json"])
                .arg(&half),
        )?;
        let theirs = measure(Command::new(squawk).args(["--reporter", "json"]).arg(&full))?;
        let growth = ours.wall.as_secs_f64() / ours_half.wall.as_secs_f64();
        let memory = ours.peak_kb as f64 / theirs.peak_kb as f64;
        let met = memory <= 1.5 && growth <= 2.6;
        all_met &= met;
        println!(
            "{} ({}): confiture {:.2} s, {} MB peak (half size {:.2} s: ×{growth:.2}); squawk \
             {:.2} s, {} MB peak; time ratio {:.2}×, memory ratio {memory:.2}× — target memory \
             ≤ 1.5× squawk, linear time: {}",
            input.name,
            input.what,
            ours.wall.as_secs_f64(),
            ours.peak_kb / 1024,
            ours_half.wall.as_secs_f64(),
            theirs.wall.as_secs_f64(),
            theirs.peak_kb / 1024,
            ours.wall.as_secs_f64() / theirs.wall.as_secs_f64(),
            if met { "met" } else { "NOT met" }
        );
        let _ = writeln!(
            rows,
            "| {} | {:.2} s | {} MB | {:.2} s | {} MB | **{:.2}×** | **{memory:.2}×** | ×{growth:.2} |",
            input.what,
            ours.wall.as_secs_f64(),
            ours.peak_kb / 1024,
            theirs.wall.as_secs_f64(),
            theirs.peak_kb / 1024,
            ours.wall.as_secs_f64() / theirs.wall.as_secs_f64(),
        );
    }
    Ok((rows, all_met))
}

/// Runs `cmd` to its end (exit code 0 or 1: findings or none) with its output discarded, and
/// returns its wall time and peak resident set from the kernel's accounting of that child.
fn measure(cmd: &mut Command) -> anyhow::Result<Run> {
    let started = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {cmd:?}"))?;
    let pid = libc::pid_t::try_from(child.id()).context("a process id")?;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for; both pointers are to live locals.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    if waited != pid {
        bail!("waiting for {cmd:?}: {}", std::io::Error::last_os_error());
    }
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    if !matches!(code, Some(0 | 1)) {
        bail!("{cmd:?} failed (wait status {status})");
    }
    Ok(Run {
        wall,
        peak_kb: u64::try_from(usage.ru_maxrss).unwrap_or(0),
    })
}

/// `bytes` scaled, as a count of repetitions of `unit`-sized pieces.
fn count(bytes: f64, scale: f64, unit: usize) -> usize {
    (bytes * scale / unit as f64) as usize
}

fn write(path: &Path, sql: &str) -> anyhow::Result<()> {
    std::fs::write(path, sql).with_context(|| format!("writing {}", path.display()))
}

fn one_line(path: &Path, scale: f64) -> anyhow::Result<()> {
    let rows = count(10_000_000.0, scale, 40);
    let mut sql =
        String::from("CREATE TABLE big_line (id bigint PRIMARY KEY, name text, note text); ");
    sql.push_str("INSERT INTO big_line (id, name, note) VALUES ");
    for i in 0..rows {
        let sep = if i == 0 { "" } else { ", " };
        let _ = write!(sql, "{sep}({i}, 'name {i}', 'note {i}')");
    }
    sql.push_str(";\n");
    write(path, &sql)
}

fn insert_dump(path: &Path, scale: f64) -> anyhow::Result<()> {
    let rows = count(15_000_000.0, scale, 125);
    let mut sql = String::from(
        "CREATE TABLE dump_rows (id bigint PRIMARY KEY, name text, email text, created_at \
         timestamptz);\n",
    );
    for i in 0..rows {
        let _ = writeln!(
            sql,
            "INSERT INTO public.dump_rows (id, name, email, created_at) VALUES ({i}, 'Name {i}', \
             'user{i}@example.com', '2026-01-01 00:00:00+00');"
        );
    }
    write(path, &sql)
}

/// Small statements of the kinds Squawk reads in linear time (on tens of thousands of DDL
/// statements its time grows with the square of their number, so DDL would measure that).
fn small_statements(path: &Path, scale: f64) -> anyhow::Result<()> {
    let rows = (100_000.0 * scale) as usize;
    let mut sql = String::from("CREATE TABLE items (id bigint PRIMARY KEY, qty int);\n");
    for i in 0..rows {
        let _ = writeln!(
            sql,
            "INSERT INTO items (id) VALUES ({i});\n\
             UPDATE items SET qty = {i} WHERE id = {i};\n\
             SELECT pg_catalog.setval('items_id_seq', {i}, true);"
        );
    }
    write(path, &sql)
}
