//! Loading plugins: discovery, the compiled-artifact cache, files that are not plugins,
//! duplicate names, settings warnings, and the `plugins list|inspect` commands.

use std::path::Path;
use std::process::{Command, Stdio};

use confiture::plugins::cache::CacheStatus;
use confiture::plugins::strategy::Column;
use confiture::plugins::{
    Batch, Kind, Plugin, PluginSet, PluginSources, StrategyWorker, TextBatch,
};
use confiture::project::{settings::plugins::Grant, settings::plugins::PluginSettings};

use crate::plugins_support::{STRATEGY_PLUGIN, component, engine, load, settings, test_cache};

fn load_err(file: &Path) -> String {
    let (engine, _) = engine(None, None);
    let err = Plugin::load(&engine, file, file.display().to_string(), |_| {
        PluginSettings::default()
    })
    .expect_err("must not load");
    format!(
        "{err:#} / hint: {:?}",
        confiture::error::failure_of(&err).and_then(|f| f.hint.clone())
    )
}

fn emails(values: &[Option<&str>]) -> Batch {
    Batch {
        strategy: "email_keep_domain".into(),
        column: Column {
            schema: "public".into(),
            table: "users".into(),
            name: "email".into(),
            type_name: "text".into(),
        },
        params: vec![],
        values: TextBatch::from_values(values.iter().copied()),
        context: vec![],
    }
}

fn owned(batch: &TextBatch) -> Vec<Option<String>> {
    batch.values().map(|v| v.map(str::to_string)).collect()
}

#[test]
fn strategy_plugin_loads_and_anonymizes_deterministically() {
    let (keyed, _) = engine(None, Some(b"s3cret"));
    let plugin = load(
        &keyed,
        &component(STRATEGY_PLUGIN),
        PluginSettings::default(),
    );
    assert_eq!(plugin.name(), STRATEGY_PLUGIN);
    assert_eq!(plugin.shape.kinds, [Kind::Strategy]);
    assert_eq!(plugin.shape.world, "strategy-plugin");
    assert_eq!(plugin.info.strategies[0].name, "email_keep_domain");

    let mut worker = StrategyWorker::new(plugin.clone()).unwrap();
    let input = [
        Some("alice@corp.example"),
        None,
        Some("alice@corp.example"),
        Some("bob@x.org"),
    ];
    let first = owned(&worker.anonymize(&emails(&input)).unwrap());
    assert_eq!(first.len(), 4);
    assert_eq!(first[1], None, "NULL stays NULL");
    assert_eq!(first[0], first[2], "same input, same output");
    assert_ne!(first[0], first[3]);
    assert!(first[0].as_deref().unwrap().ends_with("@corp.example"));
    assert!(!first[0].as_deref().unwrap().contains("alice"));
    // The same worker serves the next batch with the same instance and the same answers.
    assert_eq!(owned(&worker.anonymize(&emails(&input)).unwrap()), first);

    // Another secret, other values; no secret, a clear error.
    let (other, _) = engine(None, Some(b"another"));
    let plugin2 = load(
        &other,
        &component(STRATEGY_PLUGIN),
        PluginSettings::default(),
    );
    let second = owned(
        &StrategyWorker::new(plugin2)
            .unwrap()
            .anonymize(&emails(&input))
            .unwrap(),
    );
    assert_ne!(second[0], first[0]);
    let (no_secret, _) = engine(None, None);
    let plugin3 = load(
        &no_secret,
        &component(STRATEGY_PLUGIN),
        PluginSettings::default(),
    );
    let err = StrategyWorker::new(plugin3)
        .unwrap()
        .anonymize(&emails(&input))
        .unwrap_err();
    assert!(err.to_string().contains("ANONYMIZATION_SECRET"), "{err}");
    assert!(
        err.to_string()
            .starts_with("plugin email-strategy: anonymize(users.email)"),
        "{err}"
    );
}

#[test]
fn compiled_artifacts_are_cached_and_bad_entries_recovered() {
    let cache_dir = tempfile::tempdir().unwrap();
    let dir = cache_dir.path().join("plugins");
    let (engine, _) = engine(Some(&dir), Some(b"k"));
    let file = component(STRATEGY_PLUGIN);
    let first = load(&engine, &file, PluginSettings::default());
    assert_eq!(first.load.cache, CacheStatus::Miss);
    let second = load(&engine, &file, PluginSettings::default());
    assert_eq!(second.load.cache, CacheStatus::Hit);

    let bytes = std::fs::read(&file).unwrap();
    let artifact = test_cache(&dir).artifact_path(engine.engine(), &bytes);
    assert!(artifact.is_file());
    let name = artifact.file_name().unwrap().to_str().unwrap().to_string();
    let sha = confiture::plugins::cache::sha256_hex(&bytes);
    assert!(
        name.starts_with(&format!("{sha}-")) && name.ends_with(".cwasm"),
        "{name}"
    );

    let run = |plugin: std::sync::Arc<Plugin>| {
        StrategyWorker::new(plugin)
            .unwrap()
            .anonymize(&emails(&[Some("a@b.c")]))
            .expect("the recompiled plugin works")
    };
    // Truncated artifact: detected, recompiled, replaced.
    let full = std::fs::read(&artifact).unwrap();
    std::fs::write(&artifact, &full[..full.len() / 2]).unwrap();
    let third = load(&engine, &file, PluginSettings::default());
    assert_eq!(third.load.cache, CacheStatus::Replaced);
    run(third);
    assert_eq!(std::fs::read(&artifact).unwrap(), full);

    // A foreign file with a MAC file that is not this key's: refused, replaced.
    let foreign = b"not a wasmtime artifact at all".to_vec();
    std::fs::write(&artifact, &foreign).unwrap();
    let fourth = load(&engine, &file, PluginSettings::default());
    assert_eq!(fourth.load.cache, CacheStatus::Replaced);
    assert!(
        fourth
            .cache_refused
            .as_deref()
            .unwrap()
            .contains("failed authentication"),
        "{:?}",
        fourth.cache_refused
    );
    run(fourth);
    assert_eq!(
        load(&engine, &file, PluginSettings::default()).load.cache,
        CacheStatus::Hit
    );
    // The key lives beside the cache directory, not in it, readable by its owner only.
    let key = dir.with_file_name("cache.key");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&key).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    assert!(
        !std::fs::read_dir(&dir)
            .unwrap()
            .any(|e| e.unwrap().path() == key)
    );

    // --no-plugin-cache: nothing read or written.
    let (uncached, _) = engine_without_cache();
    assert_eq!(
        load(&uncached, &file, PluginSettings::default()).load.cache,
        CacheStatus::Off
    );
}

fn engine_without_cache() -> (
    std::sync::Arc<confiture::plugins::PluginEngine>,
    crate::plugins_support::Logs,
) {
    engine(None, None)
}

#[test]
fn files_that_are_not_plugins_are_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let core = dir.path().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let err = load_err(&core);
    assert!(
        err.contains("core.wasm is a core WebAssembly module, not a component"),
        "{err}"
    );
    assert!(err.contains("wasm32-wasip2"), "{err}");

    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"#!/bin/sh\necho hello\n").unwrap();
    let err = load_err(&junk);
    assert!(err.contains("junk.wasm is not WebAssembly"), "{err}");

    let truncated = dir.path().join("truncated.wasm");
    let bytes = std::fs::read(component(STRATEGY_PLUGIN)).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    let err = load_err(&truncated);
    assert!(
        err.contains("truncated.wasm is not a valid component"),
        "{err}"
    );
    assert!(err.contains("rebuild"), "{err}");
}

#[test]
fn duplicate_names_and_settings_problems() {
    let dir = tempfile::tempdir().unwrap();
    let file = component(STRATEGY_PLUGIN);
    std::fs::copy(&file, dir.path().join("a.wasm")).unwrap();
    std::fs::copy(&file, dir.path().join("b.wasm")).unwrap();
    let (engine, _) = engine(None, None);
    let sources = PluginSources {
        dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let err = PluginSet::load(&engine, &sources).unwrap_err().to_string();
    assert!(err.contains("a.wasm and"), "{err}");
    assert!(
        err.contains("b.wasm both declare plugin `email-strategy`"),
        "{err}"
    );

    std::fs::remove_file(dir.path().join("b.wasm")).unwrap();
    let mut sources = sources;
    sources
        .settings
        .insert("email-stratgy".into(), settings(&[], &[]));
    sources.settings.insert(
        STRATEGY_PLUGIN.into(),
        settings(&[("k", "v")], &[Grant::DbWrite]),
    );
    let set = PluginSet::load(&engine, &sources).unwrap();
    assert_eq!(set.all().len(), 1);
    assert!(set.strategy("email_keep_domain").is_some());
    let warnings = set.warnings.join("\n");
    assert!(
        warnings.contains("plugins.email-stratgy configures a plugin that is not loaded (did you mean `email-strategy`?)"),
        "{warnings}"
    );
    assert!(
        warnings.contains(
            "plugins.email-strategy grants `db-write`, which the plugin does not ask for"
        ),
        "{warnings}"
    );
    assert!(set.all()[0].granted.is_empty());

    // enabled: false with no file named after the plugin: finding it would mean starting
    // a.wasm, so the load is refused before anything starts, saying to rename the file.
    let disabled = PluginSettings {
        enabled: false,
        ..PluginSettings::default()
    };
    sources
        .settings
        .insert(STRATEGY_PLUGIN.into(), disabled.clone());
    let err = PluginSet::load(&engine, &sources).unwrap_err();
    let failure = err.downcast_ref::<confiture::error::Failure>().unwrap();
    assert!(
        failure.message.contains(
            "plugins.email-strategy disables a plugin, and no plugin file is named \
             email-strategy.wasm"
        ),
        "{failure:?}"
    );
    assert!(
        failure
            .hint
            .as_deref()
            .unwrap()
            .contains("to email-strategy.wasm"),
        "{failure:?}"
    );

    // Named after the plugin, a disabled file is not even read: garbage loads as disabled.
    std::fs::remove_file(dir.path().join("a.wasm")).unwrap();
    std::fs::write(dir.path().join("email-strategy.wasm"), b"not wasm at all").unwrap();
    let set = PluginSet::load(&engine, &sources).unwrap();
    assert_eq!(set.all().len(), 0);
    assert_eq!(set.disabled.len(), 1);
    assert!(set.disabled[0].file.ends_with("email-strategy.wasm"));
    assert!(
        !set.warnings.join("\n").contains("rename"),
        "{:?}",
        set.warnings
    );
}

fn confiture(dir: &Path, args: &[&str], cache: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_confiture"))
        .args(args)
        .current_dir(dir)
        .env("CONFITURE_CACHE_DIR", cache)
        .env("NO_COLOR", "1")
        .env_remove("CONFITURE_ENV")
        .stdin(Stdio::null())
        .output()
        .expect("run confiture");
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn plugins_list_and_inspect_commands() {
    let project = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let root = project.path();
    std::fs::create_dir_all(root.join("db/environments")).unwrap();
    std::fs::create_dir_all(root.join("ext")).unwrap();
    std::fs::copy(component(STRATEGY_PLUGIN), root.join("ext/email.wasm")).unwrap();
    std::fs::write(
        root.join("db/environments/local.yaml"),
        "plugins_dir: ext\nplugins:\n  email-strategy:\n    memory_mb: 32\n    config:\n      k: v\n",
    )
    .unwrap();

    let (code, stdout, stderr) =
        confiture(root, &["plugins", "list", "--format", "json"], cache.path());
    assert_eq!(code, 0, "{stdout}{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["plugins_dir"], "ext");
    let row = &json["plugins"][0];
    assert_eq!(row["file"], "ext/email.wasm");
    assert_eq!(row["name"], "email-strategy");
    assert_eq!(row["kinds"], serde_json::json!(["strategy"]));
    assert_eq!(row["strategies"], serde_json::json!(["email_keep_domain"]));
    assert_eq!(row["memory_mb"], 32);
    assert_eq!(row["cache"], "miss");
    assert!(row["load_ms"].as_f64().unwrap() > 0.0);
    let (_, stdout, _) = confiture(root, &["plugins", "list", "--format", "json"], cache.path());
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["plugins"][0]["cache"], "hit");

    let (code, stdout, _) = confiture(
        root,
        &["plugins", "list", "--no-plugin-cache"],
        cache.path(),
    );
    assert_eq!(code, 0);
    assert!(stdout.contains("email-strategy"), "{stdout}");
    assert!(
        stdout.contains("strategies:   email_keep_domain"),
        "{stdout}"
    );
    assert!(stdout.contains("cache off"), "{stdout}");

    // A --plugin file that is not a component: listed as broken with its error, beside every
    // plugin that loads; exit 5.
    std::fs::write(root.join("bad.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let (code, stdout, stderr) = confiture(
        root,
        &["plugins", "list", "--plugin", "bad.wasm"],
        cache.path(),
    );
    assert_eq!(code, 5, "{stdout}{stderr}");
    assert!(stdout.contains("email-strategy"), "{stdout}");
    assert!(stdout.contains("broken bad.wasm"), "{stdout}");
    assert!(
        stdout.contains("bad.wasm is a core WebAssembly module"),
        "{stdout}"
    );
    let (code, stdout, _) = confiture(
        root,
        &[
            "plugins", "list", "--plugin", "bad.wasm", "--format", "json",
        ],
        cache.path(),
    );
    assert_eq!(code, 5);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["plugins"][0]["name"], "email-strategy");
    assert_eq!(json["broken"][0]["file"], "bad.wasm");
    assert!(
        json["broken"][0]["error"]
            .as_str()
            .unwrap()
            .contains("core WebAssembly module"),
        "{json}"
    );

    // Compilation is bounded: a file over the size limit, a compile past its memory or time
    // limit is listed as broken, named, with the setting to raise (cache off: it compiles).
    for (setting, says) in [
        ("max_component_mb: 1\n", "above the 1 MiB limit"),
        (
            "compile_memory_mb: 16\n",
            "needed more than 16 MiB of memory",
        ),
        ("compile_timeout: 1ms\n", "took longer than 1 ms"),
    ] {
        std::fs::write(
            root.join("db/environments/local.yaml"),
            format!("plugins_dir: ext\nplugin_sandbox:\n  {setting}"),
        )
        .unwrap();
        let big = root.join("big.wasm");
        if setting.starts_with("max_component") {
            let mut bytes = std::fs::read(component(STRATEGY_PLUGIN)).unwrap();
            bytes.resize(2 * 1024 * 1024, 0);
            std::fs::write(&big, bytes).unwrap();
        }
        let args: &[&str] = if setting.starts_with("max_component") {
            &[
                "plugins",
                "list",
                "--no-plugin-cache",
                "--plugin",
                "big.wasm",
            ]
        } else {
            &["plugins", "list", "--no-plugin-cache"]
        };
        let (code, stdout, stderr) = confiture(root, args, cache.path());
        assert_eq!(code, 5, "{setting}: {stdout}{stderr}");
        assert!(stdout.contains("broken"), "{setting}: {stdout}");
        assert!(stdout.contains(says), "{setting}: {stdout}");
        assert!(stdout.contains("plugin_sandbox."), "{setting}: {stdout}");
        let _ = std::fs::remove_file(&big);
    }

    // Disabled in the environment file: listed as such, never started.
    std::fs::write(
        root.join("db/environments/local.yaml"),
        "plugins_dir: ext\nplugins:\n  email:\n    enabled: false\n",
    )
    .unwrap();
    let (code, stdout, stderr) = confiture(root, &["plugins", "list"], cache.path());
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("email (disabled, not started)  ext/email.wasm"),
        "{stdout}"
    );

    let (code, stdout, stderr) = confiture(
        root,
        &["plugins", "inspect", "ext/email.wasm", "--format", "json"],
        cache.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["world"], "strategy-plugin");
    assert_eq!(json["metadata"]["name"], "email-strategy");
    let exports: Vec<String> = json["exports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        exports.contains(&format!(
            "confiture:plugin/strategy@{}",
            confiture::plugins::CONTRACT_VERSION
        )),
        "{exports:?}"
    );
    assert_eq!(json["contract"], confiture::plugins::CONTRACT_VERSION);
    // `list` compiled it into this cache above: inspect loads it from there, compiling nothing.
    assert_eq!(json["load"][1], "hit", "{json:#}");
    let (code, stdout, _) = confiture(
        root,
        &["plugins", "inspect", "ext/email.wasm"],
        cache.path(),
    );
    assert_eq!(code, 0);
    assert!(stdout.contains("anonymize: func(batch: record"), "{stdout}");
}

#[test]
fn lint_plugin_reports_through_run_lint() {
    use confiture::plugins::lint::{Column as LintColumn, Location, Table};
    use confiture::plugins::{LintContext, run_lint};
    let (engine, _) = engine(None, None);
    let plugin = load(
        &engine,
        &component("tenant-lint"),
        settings(&[("exempt", "countries")], &[]),
    );
    assert_eq!(plugin.shape.kinds, [Kind::Lint]);
    let at = |line| Location {
        file: "db/schema/10_tables.sql".into(),
        line,
        column: 1,
    };
    let table = |name: &str, columns: &[&str], line| Table {
        schema: "public".into(),
        name: name.into(),
        columns: columns
            .iter()
            .map(|c| LintColumn {
                name: c.to_string(),
                type_name: "text".into(),
                nullable: true,
                default: None,
                comment: None,
                location: at(line),
            })
            .collect(),
        primary_key: vec![],
        unique_keys: vec![],
        foreign_keys: vec![],
        checks: vec![],
        comment: None,
        location: at(line),
    };
    let context = LintContext {
        tables: vec![
            table("users", &["id", "tenant_id"], 1),
            table("orders", &["id"], 5),
            table("countries", &["code"], 9),
        ],
        indexes: vec![],
        statements: vec![],
        enabled_rules: vec!["tenant_id_required".into()],
    };
    let violations = run_lint(&plugin, &context).unwrap();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].rule_id, "tenant_id_required");
    assert!(
        violations[0].message.contains("orders"),
        "{:?}",
        violations[0]
    );
}

/// A compile that runs out of memory is reported at once, even with backtraces on and many
/// compiles at the same time: printing a backtrace under the memory limit once deadlocked the
/// compiling process until the compile timeout (7 of 40 concurrent runs).
#[test]
fn a_compile_out_of_memory_never_waits_for_the_timeout() {
    let project = tempfile::tempdir().unwrap();
    let root = project.path();
    std::fs::create_dir_all(root.join("db/environments")).unwrap();
    std::fs::create_dir_all(root.join("ext")).unwrap();
    std::fs::copy(component(STRATEGY_PLUGIN), root.join("ext/email.wasm")).unwrap();
    std::fs::write(
        root.join("db/environments/local.yaml"),
        "plugins_dir: ext\nplugin_sandbox:\n  compile_memory_mb: 16\n  compile_timeout: 60s\n",
    )
    .unwrap();
    let started = std::time::Instant::now();
    let runs: Vec<_> = (0..16)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_confiture"))
                .args(["plugins", "list", "--no-plugin-cache"])
                .current_dir(root)
                .env("RUST_BACKTRACE", "full")
                .env("NO_COLOR", "1")
                .env_remove("CONFITURE_ENV")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("run confiture")
        })
        .collect();
    for run in runs {
        let out = run.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(5), "{stdout}");
        assert!(
            stdout.contains("needed more than 16 MiB of memory"),
            "{stdout}"
        );
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "{:?}: a compile waited for its timeout",
        started.elapsed()
    );
}
