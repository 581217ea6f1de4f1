//! The contract can grow without breaking plugins: components built against
//! `confiture:plugin@0.1.0` (the released example and hostile plugins, kept byte for byte in
//! `fixtures/contract-0.1.0/`) load, describe themselves and run in real commands next to 0.2.0
//! ones, and the hostile ones meet the same limits as current plugins.

use std::path::PathBuf;

use confiture::plugins::keyed_hash::KeyedHasher;
use confiture::plugins::{CallFailure, StrategyWorker};
use confiture::project::settings::plugins::PluginSettings;

use crate::harness::{Run, TestDb, TestProject};
use crate::hooks_support::{set_env, tracked};
use crate::plugins_support::{batch, component, engine, load};
use crate::sync_support::{column, exec};

const SECRET: &str = "e2e-versions-secret";

/// `fixtures/contract-0.1.0/<name>.wasm`.
fn fixture(name: &str) -> PathBuf {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/e2e/fixtures/contract-0.1.0")
        .join(format!("{name}.wasm"));
    assert!(file.is_file(), "{} is missing", file.display());
    file
}

/// Copies `files` into the project's plugins directory.
fn install(p: &TestProject, files: &[PathBuf]) {
    std::fs::create_dir_all(p.root().join("plugins")).unwrap();
    for file in files {
        std::fs::copy(
            file,
            p.root().join("plugins").join(file.file_name().unwrap()),
        )
        .unwrap();
    }
}

#[test]
fn plugins_built_against_0_1_0_run_in_sync_migrate_and_lint_beside_0_2_0_ones() {
    // Listed together: the 0.1.0 strategy, hook and lint rule, and a 0.2.0 strategy.
    let p = TestProject::new();
    let old = ["email-strategy", "email-not-null-hook", "tenant-lint"].map(fixture);
    install(&p, &old);
    install(&p, &[component("phone-strategy")]);
    set_env(
        &p,
        "plugins:\n  email-not-null-hook:\n    grant: [db-read]\n",
    );
    let listed = p.run(&["plugins", "list", "--format", "json"]).ok().json();
    let names: Vec<&str> = listed["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "email-not-null-hook",
            "email-strategy",
            "phone-strategy",
            "tenant-lint"
        ]
    );
    let inspected = p.run(&["plugins", "inspect", &old[0].display().to_string()]);
    inspected.ok();
    assert!(
        inspected
            .stdout
            .contains("world: confiture:plugin/strategy-plugin (contract 0.1.0)")
            && inspected.stdout.contains("confiture:plugin/strategy@0.1.0"),
        "{}",
        inspected.stdout
    );

    // Sync: the 0.1.0 strategy and the 0.2.0 one in the same run.
    let (source, target) = (TestDb::new(), TestDb::new());
    for db in [&source, &target] {
        exec(
            db,
            "CREATE TABLE people (id int PRIMARY KEY, email text, phone text)",
        );
    }
    exec(
        &source,
        "INSERT INTO people SELECT g, 'person' || g || '@corp.example', '+1 555 0' || g
         FROM generate_series(1, 50) g; INSERT INTO people VALUES (0, NULL, NULL)",
    );
    p.write(
        "db/sync/anonymization.yaml",
        "tables:\n  people:\n    - {column: email, strategy: email_keep_domain}\n    - {column: phone, strategy: phone_mask_rust}\n",
    );
    let run = Run::from(
        p.command(&[
            "sync",
            "--from",
            &source.url,
            "--to",
            &target.url,
            "--anonymize",
        ])
        .env("ANONYMIZATION_SECRET", SECRET)
        .output()
        .unwrap(),
    );
    run.ok();
    // email-strategy hashes under its own key (docs/plugins/security.md, key derivation).
    let hasher = KeyedHasher::new(SECRET.as_bytes())
        .unwrap()
        .for_plugin("email-strategy");
    let emails = column(&target, "SELECT email FROM people ORDER BY id");
    assert_eq!(emails[0], None);
    let hex: String = hasher.hash(b"person7")[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        emails[7].as_deref(),
        Some(format!("user_{hex}@corp.example").as_str())
    );
    let phones = column(&target, "SELECT phone FROM people WHERE id = 7");
    assert_ne!(phones[0].as_deref(), Some("+1 555 07"));
    assert!(phones[0].as_deref().unwrap().ends_with("07"));

    // Migrate: the 0.1.0 hook blocks a migration leaving NULL emails; nothing is kept.
    p.write(
        "db/migrations/001_users.up.sql",
        "CREATE TABLE users (id int PRIMARY KEY, email text);\nINSERT INTO users VALUES (1, NULL);\n",
    );
    let run = p.run(&["migrate", "up"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("plugin email-not-null-hook"),
        "{}",
        run.stderr
    );
    assert_eq!(tracked(&p), 0);
    assert_eq!(p.db.scalar("SELECT to_regclass('users')::text"), None);

    // Lint: the 0.1.0 rule reports.
    p.write(
        "db/schema/10_orders.sql",
        "CREATE TABLE orders (id int PRIMARY KEY);\n",
    );
    let report = p.run(&["lint", "--format", "json"]).json();
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "tenant_id_required"),
        "{report:#}"
    );
}

#[test]
fn hostile_0_1_0_plugins_meet_the_same_limits() {
    let (engine, _) = engine(None, Some(b"k"));
    // The endless loop meets a short time limit; the others fail for their own reason long
    // before theirs (on a loaded machine, growing 32 MiB can take longer than 200 ms).
    for (name, strategy, timeout_ms, failure, detail) in [
        (
            "hostile/endless-loop",
            "hostile_endless_loop",
            200,
            CallFailure::Timeout,
            "timed out after 200 ms",
        ),
        (
            "hostile/memory-bomb",
            "hostile_memory_bomb",
            10_000,
            CallFailure::OutOfMemory,
            "its limit is 32 MiB",
        ),
        (
            "hostile/panics",
            "hostile_panics",
            10_000,
            CallFailure::Trap,
            "panicked",
        ),
        (
            "hostile/garbage",
            "garbage_offsets",
            10_000,
            CallFailure::Invalid,
            "offsets",
        ),
    ] {
        let limits = PluginSettings {
            timeout_ms: Some(timeout_ms),
            memory_mb: Some(32),
            ..PluginSettings::default()
        };
        let plugin = load(&engine, &fixture(name), limits);
        assert_eq!(plugin.shape.contract, "0.1.0", "{name}");
        let err = StrategyWorker::new(plugin)
            .unwrap()
            .anonymize(&batch(strategy, &[Some("x@y.z"), None]))
            .expect_err(name);
        assert_eq!(err.failure, failure, "{name}: {err}");
        assert!(err.to_string().contains(detail), "{name}: {err}");
        assert!(
            err.to_string().contains("anonymize(users.email)"),
            "{name}: {err}"
        );
    }
    // The sandbox holds for 0.1.0 components: no environment.
    let plugin = load(
        &engine,
        &fixture("hostile/read-env"),
        PluginSettings::default(),
    );
    let out = StrategyWorker::new(plugin)
        .unwrap()
        .anonymize(&batch("hostile_read_env", &[Some("x@y.z")]))
        .unwrap();
    let seen = out.get(0).unwrap();
    assert!(
        seen.contains("no HOME") && !seen.contains("HOME=/"),
        "{seen}"
    );
}
