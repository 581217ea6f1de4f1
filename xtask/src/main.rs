//! `cargo xtask <task>`: the project's own automation — the demo, the whole test suite, the
//! example plugins, the generated CLI reference, the benchmarks and mutation checks.

mod bench;
mod bench_hooks;
mod bench_lint;
mod bench_lint_scale;
mod bench_plugins;
mod bench_sync;
mod c_bindings;
mod cli_docs;
mod demo;
mod docs_section;
mod example;
mod latency;
mod layers;
mod mutants;
mod plugins;
mod postgres;
mod suite;
mod tools;
mod workspace;

use clap::{Parser, Subcommand};

/// Confiture's project tasks.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask")]
struct Xtask {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Set up PostgreSQL if needed, build confiture, and run init → build → migrate on an example project
    Demo,
    /// Run an example project of docs/examples/ (or --all) against a throwaway PostgreSQL
    Example {
        /// The example: a directory of docs/examples/, e.g. basic-migration
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        name: Option<String>,
        /// Run every example
        #[arg(long)]
        all: bool,
    },
    /// Check the layering and the generated docs, run the demo quietly, then `cargo test --workspace`
    Test,
    /// Check that host/src's top-level modules import only lower layers (see docs/architecture.md)
    Layers,
    /// Write docs/reference/cli.md from the clap definitions
    CliDocs {
        /// Fail when docs/reference/cli.md is out of date instead of writing it
        #[arg(long)]
        check: bool,
    },
    /// Time `confiture migrate up` of small migrations against `psql -f` of the same SQL
    Bench {
        /// How many migrations (each a CREATE TABLE and an INSERT)
        #[arg(long, default_value_t = 500)]
        migrations: usize,
        /// How many times to time each side (the median is reported)
        #[arg(long, default_value_t = 5)]
        repetitions: usize,
        /// Run the cluster with fsync and synchronous_commit off, so commit flushes do not dominate
        #[arg(long)]
        fsync_off: bool,
        /// Connect both tools through a relay that adds this many milliseconds to every round
        /// trip, as a network to a server on another machine would
        #[arg(long, value_name = "MS")]
        round_trip_ms: Option<f64>,
    },
    /// Build every plugin under plugins/ (Rust, Python, JavaScript, C) into target/plugins/
    BuildPlugins,
    /// Regenerate the C plugins' bindings in sdk/c/bindings/ after a change to wit/ (installs wit-bindgen-cli)
    CBindings,
    /// Measure plugin load time, hook call overhead and strategy throughput
    BenchPlugins {
        /// Measure only this part (printed, never written: the section holds whole runs)
        #[arg(long, value_enum, conflicts_with = "write")]
        only: Option<bench_plugins::Part>,
        /// Write the result into docs/benchmarks.md (the bench-plugins section)
        #[arg(long)]
        write: bool,
    },
    /// Measure what migration hooks cost: migrate up of N migrations with 0 and with 4 hooks
    BenchHooks {
        /// How many trivial migrations per run
        #[arg(long, default_value_t = 200)]
        migrations: usize,
        /// How many runs per side (the median is reported)
        #[arg(long, default_value_t = 5)]
        repetitions: usize,
        /// Measure this confiture binary instead of building the release one (and the plugins)
        #[arg(long, value_name = "PATH")]
        binary: Option<std::path::PathBuf>,
        /// Write the result into docs/benchmarks.md (the bench-hooks section)
        #[arg(long)]
        write: bool,
    },
    /// Time `confiture sync` of a 1M-row table, raw and anonymized, against a `psql \copy` pipe
    BenchSync {
        /// How many times to time each side (the median is reported)
        #[arg(long, default_value_t = 3)]
        repetitions: usize,
        /// Rows in the generated table
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        /// `confiture sync --jobs N` (default: confiture's own default)
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
        /// Measure this confiture binary instead of building the release one (and the plugins)
        #[arg(long, value_name = "PATH")]
        binary: Option<std::path::PathBuf>,
        /// Write the result into docs/benchmarks.md (the bench-sync section)
        #[arg(long)]
        write: bool,
    },
    /// Run cargo-mutants on the files holding the guarantees, against the tests covering them (slow: see docs/testing.md)
    Mutants {
        /// Only this group (repeatable): keys, strategies, applier, hooks, sandbox, sync
        #[arg(long, value_name = "GROUP")]
        group: Vec<String>,
        /// Only this file of the one group named (repeatable), e.g. the file just changed
        #[arg(long, value_name = "PATH")]
        file: Vec<String>,
        /// Only the K-th of N shards of each group's mutants (from 0), to spread a long group
        /// over several runs or machines
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        /// Limit of each cargo build or test command, in seconds (a mutant past it is a
        /// timeout); by default a mutant's tests get 5 times the unmutated tests' time, at
        /// least 20 s, and builds have no limit
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<u64>,
    },
    /// Time `confiture lint` on generated 100- and 2,000-table schemas against Squawk
    BenchLint {
        /// How many times to time each side (the median is reported)
        #[arg(long, default_value_t = 7)]
        repetitions: usize,
    },
}

fn main() -> std::process::ExitCode {
    let result = match Xtask::parse().task {
        Task::Demo => demo::run(demo::Mode::Verbose),
        Task::Example { name, all: _ } => example::run(name.as_deref()),
        Task::Test => suite::run(),
        Task::Layers => layers::run(&workspace::root()),
        Task::CliDocs { check } => cli_docs::run(check),
        Task::Bench {
            migrations,
            repetitions,
            fsync_off,
            round_trip_ms,
        } => bench::run(
            migrations,
            repetitions,
            fsync_off,
            round_trip_ms.map(|ms| std::time::Duration::from_secs_f64(ms / 1000.0)),
        ),
        Task::BuildPlugins => plugins::build_plugins(&workspace::root()).map(|built| {
            println!("{} plugin components in target/plugins/", built.len());
            0
        }),
        Task::CBindings => c_bindings::generate(&workspace::root()),
        Task::BenchHooks {
            migrations,
            repetitions,
            binary,
            write,
        } => bench_hooks::run(
            &workspace::root(),
            &bench_hooks::Options {
                migrations,
                repetitions,
                binary,
                write,
            },
        ),
        Task::BenchPlugins { only, write } => plugins::build_plugins(&workspace::root())
            .and_then(|_| bench_plugins::run(&workspace::root(), only, write))
            .map(|_| 0),
        Task::BenchSync {
            repetitions,
            rows,
            jobs,
            binary,
            write,
        } => bench_sync::run(
            &workspace::root(),
            &bench_sync::Options {
                rows,
                repetitions,
                jobs,
                binary,
                write,
            },
        ),
        Task::BenchLint { repetitions } => bench_lint::run(repetitions),
        Task::Mutants {
            group,
            file,
            shard,
            timeout,
        } => mutants::run(
            &workspace::root(),
            &group,
            &mutants::Narrowing { files: file, shard },
            timeout,
        ),
    };
    match result {
        Ok(code) => std::process::ExitCode::from(code),
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
