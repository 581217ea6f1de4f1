//! Limits that hold before a plugin's first call (issue #14): tables declared by a component
//! count against its memory cap when it starts, a disabled plugin runs no code at all, and a
//! component whose compilation is costly is stopped at the compile limits. Each run is bounded
//! in time and its peak memory (the `confiture` process and its compiling children) measured.

use std::time::Duration;

use crate::harness::{Run, TestProject, run_measured};
use crate::hooks_support::{RECORDER, events, exists, hostile_project, set_env, tracked};
use crate::plugins_support::{component, hostile};
use crate::sync_support::{count, exec, output, source_and_target, sync_command};

/// No run here needs more than this; a limit that stopped working fails instead of hanging.
const BOUND: Duration = Duration::from_secs(120);

/// `confiture ARGS` in `p`, bounded: the run, its time and its peak memory in MiB.
fn measured(p: &TestProject, args: &[&str]) -> (Run, Duration, u64) {
    run_measured(p.command(args), BOUND)
}

/// The table bomb declares 99 tables of a million entries (about 800 MB) in its main module.
/// It starts under the 64 MiB cap and is refused there, naming its file, before any of its
/// code runs — as a hook of `migrate up` and as a strategy of `sync` — and the host's memory
/// stays far below what the tables would take (under the old 512 MiB cap for starting, it
/// reached 167 MiB; the attack drove it to 850 MB).
#[test]
fn a_table_bomb_is_refused_at_start_within_the_memory_cap() {
    let p = hostile_project("table-bomb", "", "abort", "");
    let (run, _, peak) = measured(&p, &["migrate", "up"]);
    run.exits(5);
    let said = output(&run);
    assert!(
        said.contains("plugins/hostile-table-bomb.wasm: plugin hostile-table-bomb: instantiate ran out of memory")
            && said.contains("its limit is 64 MiB"),
        "{said}"
    );
    assert!(!said.contains("hostile-table-bomb ran"), "{said}");
    assert!(peak < 120, "migrate up peaked at {peak} MiB");
    assert!(!exists(&p, "t"), "the migration ran");
    assert_eq!(
        p.db.scalar("SELECT to_regclass('tb_confiture')::text"),
        None
    );

    // A larger cap for it applies from its start: named after it, its file starts under it.
    set_env(&p, "plugins:\n  hostile-table-bomb:\n    memory_mb: 96\n");
    let (run, _, peak) = measured(&p, &["migrate", "up"]);
    run.exits(5);
    assert!(
        output(&run).contains("its limit is 96 MiB"),
        "{}",
        output(&run)
    );
    assert!(peak < 150, "migrate up peaked at {peak} MiB");
    assert!(!exists(&p, "t"));

    // As a strategy: the sync stops before copying anything.
    let (source, target) = source_and_target("CREATE TABLE people (id int, email text)");
    exec(
        &source,
        "INSERT INTO people SELECT g, 'zoë' || g || '@corp.example' FROM generate_series(1, 20) g",
    );
    p.write(
        "db/sync/anonymization.yaml",
        "tables:\n  people:\n    - {column: email, strategy: hostile_table_bomb}\n",
    );
    let bomb = hostile("table-bomb").display().to_string();
    std::fs::remove_dir_all(p.root().join("plugins")).unwrap();
    let sync = sync_command(
        &p,
        &source.url,
        &target.url,
        &["--anonymize", "--plugin", &bomb],
        None,
    );
    let (run, _, peak) = run_measured(sync, BOUND);
    run.exits(5);
    let said = output(&run);
    assert!(
        said.contains("table-bomb.wasm: plugin table-bomb: instantiate ran out of memory")
            && said.contains("its limit is 64 MiB"),
        "{said}"
    );
    assert!(
        !said.contains("zoë"),
        "a production value in the output: {said}"
    );
    assert!(peak < 120, "sync peaked at {peak} MiB");
    assert_eq!(count(&target, "people"), 0);
}

/// `hostile-costly-start` logs a trace line, fills 48 MiB and keeps the CPU busy for a second
/// as soon as it is started. Disabled under its file's name it is never read: no trace, no
/// cost. Disabled in a file named otherwise, finding it would mean starting every file, so
/// the run is refused before any plugin starts, saying to rename the file.
#[test]
fn a_disabled_plugin_runs_no_code() {
    const TRACE: &str = "hostile-costly-start is running";
    let p = TestProject::new();
    let plugins = p.root().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(
        hostile("costly-start"),
        plugins.join("hostile-costly-start.wasm"),
    )
    .unwrap();
    let env = |extra: &str| {
        p.write(
            "db/environments/local.yaml",
            &format!("database_url: {}\n{extra}", p.db.url),
        )
    };
    let migration = |n: u32| {
        p.write(
            &format!("db/migrations/00{n}_t{n}.up.sql"),
            &format!("CREATE TABLE t{n} (id int);\n"),
        )
    };

    // Enabled, it runs, and costs: the trace shows, the memory and the second are spent.
    migration(1);
    let (run, enabled_took, enabled_peak) = measured(&p, &["migrate", "up"]);
    run.ok();
    assert!(run.stderr.contains(TRACE), "{}", run.stderr);
    assert!(enabled_took >= Duration::from_secs(1), "{enabled_took:?}");
    assert!(exists(&p, "t1"));

    // Disabled by its file's name: nothing of it runs.
    env("plugins:\n  hostile-costly-start:\n    enabled: false\n");
    migration(2);
    let (run, took, peak) = measured(&p, &["migrate", "up"]);
    run.ok();
    assert!(!run.stderr.contains(TRACE), "{}", run.stderr);
    assert!(exists(&p, "t2"));
    assert!(
        took < enabled_took,
        "{took:?} against {enabled_took:?} enabled"
    );
    // Most of the 48 MiB the plugin fills (the run's peak is the program's own, not the test
    // process's: see `run_measured`).
    assert!(
        peak + 40 < enabled_peak,
        "{peak} MiB disabled against {enabled_peak} MiB enabled"
    );
    let (run, _, _) = measured(&p, &["plugins", "list"]);
    run.ok();
    assert!(
        run.stdout.contains(
            "hostile-costly-start (disabled, not started)  plugins/hostile-costly-start.wasm"
        ),
        "{}",
        run.stdout
    );
    assert!(!run.stderr.contains(TRACE), "{}", run.stderr);

    // Disabled, in a file named otherwise: refused before anything starts.
    std::fs::rename(
        plugins.join("hostile-costly-start.wasm"),
        plugins.join("costly.wasm"),
    )
    .unwrap();
    migration(3);
    for args in [&["migrate", "up"][..], &["plugins", "list"]] {
        let (run, _, _) = measured(&p, args);
        run.exits(5);
        let said = output(&run);
        assert!(
            said.contains(
                "db/environments/local.yaml:3: plugins.hostile-costly-start disables a plugin, \
                 and no plugin file is named hostile-costly-start.wasm"
            ),
            "{said}"
        );
        assert!(
            said.contains("rename its file in plugins to hostile-costly-start.wasm"),
            "{said}"
        );
        assert!(!said.contains(TRACE), "{said}");
    }
    assert!(!exists(&p, "t3"), "the migration ran");
    assert_eq!(tracked(&p), 2);
}

/// `hostile/compile-bomb.wasm` (380 KB) needs gigabytes and minutes to compile. With small
/// compile limits it is stopped at each, named, within a bounded time, the host's memory
/// bounded by the compile limit; the other plugins keep working, and once it is disabled the
/// run goes on. (The defaults admit the 18 MB Python example:
/// `plugins_languages::python_and_javascript_hooks_guard_a_real_migration` compiles it under
/// them.)
#[test]
fn a_costly_compile_is_stopped_at_the_limits() {
    let p = TestProject::new();
    let plugins = p.root().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(
        component(RECORDER),
        plugins.join(format!("{RECORDER}.wasm")),
    )
    .unwrap();
    std::fs::copy(hostile("compile-bomb"), plugins.join("compile-bomb.wasm")).unwrap();
    p.write("db/migrations/001_t.up.sql", "CREATE TABLE t (id int);\n");
    let env = |extra: &str| {
        p.write(
            "db/environments/local.yaml",
            &format!("database_url: {}\n{extra}", p.db.url),
        )
    };

    env("plugin_sandbox:\n  compile_memory_mb: 192\n  compile_timeout: 90s\n");
    let (run, took, peak) = measured(&p, &["plugins", "list", "--no-plugin-cache"]);
    run.exits(5);
    assert!(
        run.stdout.contains("broken plugins/compile-bomb.wasm")
            && run.stdout.contains(
                "compiling plugins/compile-bomb.wasm needed more than 192 MiB of memory, and was \
                 stopped"
            )
            && run.stdout.contains("plugin_sandbox.compile_memory_mb"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(RECORDER), "{}", run.stdout);
    assert!(peak < 192 + 64, "peaked at {peak} MiB in {took:?}");

    env("plugin_sandbox:\n  compile_timeout: 2s\n");
    let (run, took, _) = measured(&p, &["migrate", "up", "--no-plugin-cache"]);
    run.exits(5);
    let said = output(&run);
    assert!(
        said.contains(
            "compiling plugins/compile-bomb.wasm took longer than 2000 ms, and was stopped"
        ) && said.contains("plugin_sandbox.compile_timeout"),
        "{said}"
    );
    assert!(took < Duration::from_secs(30), "{took:?}");
    assert!(!exists(&p, "t"), "the migration ran");

    // Disabled by its file's name, it is not even compiled; the recorder sees the run.
    env("plugin_sandbox:\n  compile_timeout: 2s\nplugins:\n  compile-bomb:\n    enabled: false\n");
    let (run, _, _) = measured(&p, &["migrate", "up", "--no-plugin-cache"]);
    run.ok();
    assert!(
        events(&run).contains(&"post-execute 001_t".to_string()),
        "{}",
        run.stderr
    );
    assert!(exists(&p, "t"));
    assert_eq!(tracked(&p), 1);
}
