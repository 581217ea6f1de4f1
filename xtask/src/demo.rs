//! `cargo xtask demo`: the main job end to end on an example project, with the real binary —
//! init → example plugins → db start → build → build --apply → plugin role → migrations → status → up → down
//! → up.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use confiture::db::cluster::Cluster;

use crate::workspace::{build_confiture, on_path, root, target_dir};

/// How much the demo prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every command and its output (`cargo xtask demo`).
    Verbose,
    /// One line per step; a failing step's output in full (`cargo xtask test`).
    Quiet,
}

/// The one migration hook the demo installs and grants.
const DEMO_HOOK: &str = "email-not-null-hook";

/// The example migrations the demo writes: (file name, content).
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "20250101000100_add_customer_phone.up.sql",
        "-- Customers may leave a phone number.\nALTER TABLE customers ADD COLUMN phone text;\n",
    ),
    (
        "20250101000100_add_customer_phone.down.sql",
        "ALTER TABLE customers DROP COLUMN phone;\n",
    ),
    (
        "20250101000100_add_customer_phone.verify.sql",
        "-- Run by `confiture migrate verify --run`: the first column must be true.\n\
         SELECT count(*) = 1 FROM information_schema.columns\n \
         WHERE table_name = 'customers' AND column_name = 'phone';\n",
    ),
    (
        "20250101000200_index_customers_created_at.up.sql",
        "-- confiture: no-transaction\n\
         -- CREATE INDEX CONCURRENTLY cannot run in a transaction block; the first line above\n\
         -- makes Confiture run this file outside one.\n\
         CREATE INDEX CONCURRENTLY IF NOT EXISTS customers_created_at_idx ON customers (created_at);\n",
    ),
    (
        "20250101000200_index_customers_created_at.down.sql",
        "-- confiture: no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS customers_created_at_idx;\n",
    ),
];

/// The demo project's directory.
pub fn project_dir() -> PathBuf {
    target_dir().join("demo").join("shop")
}

/// Runs the demo; returns the exit code (0 when every step passed).
pub fn run(mode: Mode) -> anyhow::Result<u8> {
    let bin_dir = crate::postgres::ensure_server(mode == Mode::Quiet)?;
    if mode == Mode::Verbose {
        println!("PostgreSQL server binaries: {}", bin_dir.display());
        println!("\n==> Building confiture (cargo build --release -p confiture)");
    }
    let binary = build_confiture(mode == Mode::Quiet)?;
    if mode == Mode::Verbose {
        println!("\n==> Building the example plugins (cargo xtask build-plugins)");
    }
    let plugins = crate::plugins::build_plugins(&root())?;
    let dir = project_dir();
    fresh_dir(&dir)?;
    let mut demo = Demo {
        binary,
        dir,
        mode,
        steps: 0,
    };

    demo.say("Create an example project");
    demo.confiture(&["init"])?;
    demo.say("Drop the example plugins (WebAssembly components) into plugins/ and list them");
    demo.install_plugins(&plugins)?;
    demo.confiture(&["plugins", "list"])?;
    demo.say("Start the project's throwaway PostgreSQL (under .confiture/pg/)");
    demo.confiture(&["db", "start"])?;
    demo.say("Concatenate db/schema/ into one file with a hashed header");
    demo.confiture(&["build"])?;
    demo.show_header("db/generated/schema_local.sql")?;
    demo.say("Create the schema in the local database, in one transaction");
    demo.confiture(&["build", "--apply"])?;
    demo.say("Create the least-privilege role plugins' SQL runs as");
    demo.confiture(&["plugins", "create-role"])?;
    demo.say("Write two migrations: add a column; an index built CONCURRENTLY (no transaction)");
    demo.write_migrations()?;
    // Exit 2: no tracking table yet — `build --apply` records no migration unless asked
    // (upstream Confiture's convention for CI scripts; 1 once it exists and some are pending).
    demo.confiture_exits(&["migrate", "status"], 2)?;
    demo.say("Apply them, each in its own transaction with its tracking row");
    demo.confiture(&["migrate", "up"])?;
    demo.confiture(&["migrate", "status"])?;
    demo.say("Roll back the newest one with its .down.sql, then apply it again");
    demo.confiture(&["migrate", "down"])?;
    demo.confiture(&["migrate", "up"])?;
    demo.say("Check checksums against the tracking table and run the .verify.sql sidecars");
    demo.confiture(&["migrate", "verify", "--run"])?;
    demo.say("Look at the result");
    demo.final_query(&bin_dir)?;

    let shown_dir = demo
        .dir
        .strip_prefix(root())
        .unwrap_or(&demo.dir)
        .display()
        .to_string();
    let shown_bin = demo
        .binary
        .strip_prefix(root())
        .unwrap_or(&demo.binary)
        .display()
        .to_string();
    match mode {
        Mode::Verbose => {
            println!(
                "\nDone: {} steps passed. The demo database is still running.",
                demo.steps
            );
            println!("  connect:  psql \"$({shown_bin} -C {shown_dir} db url)\"");
            println!("  stop it:  {shown_bin} -C {shown_dir} db stop");
            println!("  the project: {shown_dir}/");
        }
        Mode::Quiet => println!("demo: {} steps passed", demo.steps),
    }
    Ok(0)
}

/// Stops the demo project's cluster, if any; says nothing.
pub fn stop_cluster() {
    let _ = Cluster::for_project(&project_dir()).stop();
}

/// Removes an earlier demo project (stopping its cluster first) and creates the directory.
fn fresh_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        Cluster::for_project(dir)
            .stop()
            .with_context(|| format!("stopping the earlier demo's cluster in {}", dir.display()))?;
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

struct Demo {
    binary: PathBuf,
    dir: PathBuf,
    mode: Mode,
    steps: usize,
}

impl Demo {
    fn say(&self, text: &str) {
        if self.mode == Mode::Verbose {
            println!("\n==> {text}");
        }
    }

    /// Runs `confiture ARGS` in the project; fails the demo when it fails.
    fn confiture(&mut self, args: &[&str]) -> anyhow::Result<()> {
        self.confiture_exits(args, 0)
    }

    /// Runs `confiture ARGS` in the project; fails the demo unless it exits with `expected`.
    fn confiture_exits(&mut self, args: &[&str], expected: i32) -> anyhow::Result<()> {
        let mut cmd = Command::new(&self.binary);
        cmd.args(args)
            .current_dir(&self.dir)
            .env_remove("DATABASE_URL")
            .env_remove("CONFITURE_ENV")
            .stdin(Stdio::null());
        self.step(&format!("confiture {}", args.join(" ")), cmd, expected)
    }

    /// Runs one step; fails the demo unless it exits with `expected`.
    fn step(&mut self, shown: &str, mut cmd: Command, expected: i32) -> anyhow::Result<()> {
        self.steps += 1;
        match self.mode {
            Mode::Verbose => {
                println!("$ {shown}");
                let status = cmd.status().with_context(|| format!("running {shown}"))?;
                if status.code() != Some(expected) {
                    bail!("demo step `{shown}` failed ({status}, expected {expected})");
                }
            }
            Mode::Quiet => {
                let started = std::time::Instant::now();
                let out = cmd.output().with_context(|| format!("running {shown}"))?;
                println!(
                    "demo step  {shown}: {:.1} s",
                    started.elapsed().as_secs_f64()
                );
                if out.status.code() != Some(expected) {
                    eprintln!("$ {shown}");
                    eprintln!("{}", String::from_utf8_lossy(&out.stdout));
                    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
                    bail!(
                        "demo step `{shown}` failed ({}, expected {expected})",
                        out.status
                    );
                }
            }
        }
        Ok(())
    }

    /// Prints the header of the built file.
    fn show_header(&self, relative: &str) -> anyhow::Result<()> {
        let text = std::fs::read_to_string(self.dir.join(relative))
            .with_context(|| format!("reading {relative}"))?;
        if self.mode == Mode::Verbose {
            println!("$ head {relative}");
            for line in text.lines().take_while(|l| !l.is_empty()) {
                println!("{line}");
            }
        }
        Ok(())
    }

    /// Copies the example plugins (not the hostile, hook-test and benchmark ones) into the
    /// project's `plugins/`, and grants the example hook what it needs to check `customers`.
    /// Of the hooks, only the Rust one is installed: the Python and JavaScript hooks make the
    /// same check and would each need the same grant to run.
    fn install_plugins(&self, built: &[PathBuf]) -> anyhow::Result<()> {
        let dir = self.dir.join("plugins");
        let example = |f: &PathBuf| {
            let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            !f.components().any(|c| c.as_os_str() == "hostile")
                && stem != "hook-recorder"
                && !stem.starts_with("bench-hook-")
                && (stem == DEMO_HOOK || !stem.ends_with("-hook"))
        };
        let env = self.dir.join("db/environments/local.yaml");
        let mut text =
            std::fs::read_to_string(&env).with_context(|| format!("reading {}", env.display()))?;
        text.push_str(&format!(
            "\n# Plugins' SQL runs as a least-privilege role (made by `confiture plugins create-role`).\n\
             plugin_sandbox:\n  role: confiture_plugin\n\
             # The example migration hook: fail a migration that leaves customers without an email.\n\
             plugins:\n  {DEMO_HOOK}:\n    grant: [db-read]\n    config:\n      table: customers\n",
        ));
        std::fs::write(&env, text).with_context(|| format!("writing {}", env.display()))?;
        for file in built.iter().filter(|f| example(f)) {
            let name = file.file_name().context("a plugin file name")?;
            std::fs::copy(file, dir.join(name))
                .with_context(|| format!("copying {} into {}", file.display(), dir.display()))?;
        }
        Ok(())
    }

    fn write_migrations(&self) -> anyhow::Result<()> {
        let dir = self.dir.join("db/migrations");
        for (name, content) in MIGRATIONS {
            std::fs::write(dir.join(name), content).with_context(|| format!("writing {name}"))?;
            if self.mode == Mode::Verbose {
                println!("--- db/migrations/{name}");
                print!("{content}");
            }
        }
        Ok(())
    }

    /// The table as it ended up and the tracking table, through psql when it is installed.
    fn final_query(&mut self, bin_dir: &Path) -> anyhow::Result<()> {
        let psql = Some(bin_dir.join("psql"))
            .filter(|p| p.is_file())
            .or_else(|| on_path("psql"));
        let Some(psql) = psql else {
            if self.mode == Mode::Verbose {
                println!("(psql is not installed; skipping the final query)");
            }
            return Ok(());
        };
        let url = Command::new(&self.binary)
            .args(["db", "url"])
            .current_dir(&self.dir)
            .env_remove("DATABASE_URL")
            .env_remove("CONFITURE_ENV")
            .stdin(Stdio::null())
            .output()
            .context("running confiture db url")?;
        if !url.status.success() {
            bail!(
                "`confiture db url` failed: {}",
                String::from_utf8_lossy(&url.stderr)
            );
        }
        let url = String::from_utf8(url.stdout)?.trim().to_string();
        let mut cmd = Command::new(psql);
        cmd.args(["-X", "-v", "ON_ERROR_STOP=1", "-d", &url])
            .args(["-c", "\\d customers"])
            .args([
                "-c",
                "SELECT version, name, applied_at::timestamp(0) FROM tb_confiture ORDER BY version",
            ])
            .stdin(Stdio::null());
        self.step(
            "psql \"$(confiture db url)\" -c '\\d customers' -c 'SELECT ... FROM tb_confiture'",
            cmd,
            0,
        )
    }
}
