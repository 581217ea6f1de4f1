//! Hostile plugins are contained: each failure is an error naming the plugin and the call,
//! and the same engine keeps serving a good plugin afterwards. A panic's message reaches the
//! host log as the plugin's stderr, under its name.

use std::sync::Arc;

use confiture::plugins::{
    CallFailure, HookContext, HookEvent, LogSource, Plugin, PluginCallError, PluginEngine,
    StrategyWorker, call_hook,
};
use confiture::project::settings::plugins::PluginSettings;

use crate::plugins_support::{STRATEGY_PLUGIN, batch, component, engine, hostile, load};

fn limits(timeout_ms: u64) -> PluginSettings {
    PluginSettings {
        timeout_ms: Some(timeout_ms),
        ..PluginSettings::default()
    }
}

/// The good plugin still answers on the same engine.
fn still_serves(engine: &Arc<PluginEngine>) {
    let good = load(
        engine,
        &component(STRATEGY_PLUGIN),
        PluginSettings::default(),
    );
    let out = StrategyWorker::new(good)
        .unwrap()
        .anonymize(&batch("email_keep_domain", &[Some("a@b.org")]))
        .expect("the good plugin still works");
    assert!(out.get(0).unwrap().ends_with("@b.org"));
}

/// Runs strategy `name` of hostile plugin `file` twice on one worker (the second call gets a
/// fresh instance), returning the first outcome.
fn strategy_outcome(
    engine: &Arc<PluginEngine>,
    file: &str,
    name: &str,
    settings: PluginSettings,
) -> Result<Vec<Option<String>>, PluginCallError> {
    let plugin = load(engine, &hostile(file), settings);
    let mut worker = StrategyWorker::new(plugin).unwrap();
    let first = worker.anonymize(&batch(name, &[Some("x@y.z"), None]));
    let second = worker.anonymize(&batch(name, &[Some("x@y.z"), None]));
    assert_eq!(
        first.is_ok(),
        second.is_ok(),
        "same outcome on a fresh instance"
    );
    first.map(|b| b.values().map(|v| v.map(str::to_string)).collect())
}

fn hook_context() -> HookContext {
    HookContext {
        event: HookEvent::PreValidate.into(),
        migration: None,
        environment: "test".into(),
        status: "pending".into(),
        duration_ms: None,
        error: None,
        metadata: vec![],
    }
}

async fn hook_outcome(
    engine: &Arc<PluginEngine>,
    file: &str,
    settings: PluginSettings,
) -> PluginCallError {
    let plugin: Arc<Plugin> = load(engine, &hostile(file), settings);
    match call_hook(&plugin, hook_context(), None).await {
        Err(confiture::plugins::HookCallError::Plugin(err)) => err,
        other => panic!("hostile hooks fail as plugins: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_loop_times_out() {
    let (engine, _) = engine(None, Some(b"k"));
    let err =
        strategy_outcome(&engine, "endless-loop", "hostile_endless_loop", limits(200)).unwrap_err();
    assert_eq!(err.failure, CallFailure::Timeout, "{err}");
    assert_eq!(
        err.to_string(),
        "plugin hostile-endless-loop: anonymize(users.email) timed out after 200 ms"
    );
    let err = hook_outcome(&engine, "endless-loop", limits(200)).await;
    assert_eq!(err.failure, CallFailure::Timeout, "{err}");
    assert!(
        err.to_string()
            .contains("handle(pre-validate) timed out after 200 ms"),
        "{err}"
    );
    still_serves(&engine);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_bomb_hits_its_cap() {
    let (engine, _) = engine(None, Some(b"k"));
    let err = strategy_outcome(
        &engine,
        "memory-bomb",
        "hostile_memory_bomb",
        PluginSettings::default(),
    )
    .unwrap_err();
    assert_eq!(err.failure, CallFailure::OutOfMemory, "{err}");
    assert!(err.to_string().contains("its limit is 64 MiB"), "{err}");
    let small = PluginSettings {
        memory_mb: Some(16),
        ..PluginSettings::default()
    };
    let err = hook_outcome(&engine, "memory-bomb", small).await;
    assert_eq!(err.failure, CallFailure::OutOfMemory, "{err}");
    assert!(err.to_string().contains("its limit is 16 MiB"), "{err}");
    still_serves(&engine);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_environment_and_sockets_are_denied() {
    let (engine, _) = engine(None, Some(b"k"));
    let seen = |file: &str, name: &str| {
        strategy_outcome(&engine, file, name, PluginSettings::default())
            .expect("the plugin reports what it saw")[0]
            .clone()
            .unwrap()
    };
    let file = seen("read-file", "hostile_read_file");
    assert!(file.starts_with("could not read /etc/passwd"), "{file}");
    assert!(!file.contains("root:"), "{file}");
    let env = seen("read-env", "hostile_read_env");
    assert!(env.starts_with("no HOME"), "{env}");
    assert!(env.contains("0 variables"), "{env}");
    assert!(env.contains("0 arguments"), "{env}");
    let socket = seen("open-socket", "hostile_open_socket");
    assert!(
        socket.starts_with("could not connect to 127.0.0.1:5432"),
        "{socket}"
    );
    for file in ["read-file", "read-env", "open-socket"] {
        let err = hook_outcome(&engine, file, PluginSettings::default()).await;
        assert_eq!(err.failure, CallFailure::Returned, "{err}");
        assert!(
            err.detail.contains("could not") || err.detail.contains("no HOME"),
            "{err}"
        );
    }
    still_serves(&engine);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panics_become_trap_errors_naming_the_plugin() {
    let (engine, logs) = engine(None, Some(b"k"));
    let err = strategy_outcome(
        &engine,
        "panics",
        "hostile_panics",
        PluginSettings::default(),
    )
    .unwrap_err();
    assert_eq!(err.failure, CallFailure::Trap, "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with("plugin hostile-panics: anonymize(users.email) panicked:"),
        "{text}"
    );
    assert!(text.contains("hostile-panics always panics"), "{text}");
    let err = hook_outcome(&engine, "panics", PluginSettings::default()).await;
    assert_eq!(err.failure, CallFailure::Trap, "{err}");
    // The panic message also went to the log, as the plugin's stderr.
    assert!(logs.records().iter().any(|r| {
        r.plugin == "hostile-panics"
            && r.source == LogSource::Stderr
            && r.message.contains("always panics")
    }));
    still_serves(&engine);
}

#[test]
fn garbage_results_are_refused() {
    let (engine, _) = engine(None, Some(b"k"));
    for (strategy, problem) in [
        ("garbage_count", "values for 2"),
        ("garbage_offsets", "offsets"),
        ("garbage_utf8", "not UTF-8"),
        ("garbage_nulls", "null bitmap"),
    ] {
        let err =
            strategy_outcome(&engine, "garbage", strategy, PluginSettings::default()).unwrap_err();
        assert_eq!(err.failure, CallFailure::Invalid, "{strategy}: {err}");
        assert!(err.detail.contains(problem), "{strategy}: {err}");
        assert!(
            err.to_string()
                .starts_with("plugin hostile-garbage: anonymize(users.email)")
        );
    }
    still_serves(&engine);
}

#[test]
fn other_contract_version_is_refused_naming_the_file() {
    let (engine, _) = engine(None, Some(b"k"));
    let file = hostile("other-contract");
    let err = Plugin::load(&engine, &file, file.display().to_string(), |_| {
        PluginSettings::default()
    })
    .unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("other-contract.wasm was built against confiture:plugin@1.0.0"),
        "{text}"
    );
    assert!(
        text.contains("speaks confiture:plugin@{0.2.0, 0.1.0}"),
        "{text}"
    );
    let hint = confiture::error::failure_of(&err)
        .and_then(|f| f.hint.clone())
        .unwrap();
    assert!(hint.contains("rebuild the plugin"), "{hint}");
    still_serves(&engine);
}

/// A strategy called straight from async code on a current-thread runtime: WASI's output
/// (the panic message) must not trip over the runtime, and the call still fails cleanly.
#[tokio::test]
async fn strategies_run_from_a_current_thread_runtime() {
    let (engine, _) = engine(None, Some(b"k"));
    let err = strategy_outcome(
        &engine,
        "panics",
        "hostile_panics",
        PluginSettings::default(),
    )
    .unwrap_err();
    assert_eq!(err.failure, CallFailure::Trap, "{err}");
    still_serves(&engine);
}

#[test]
fn a_core_module_is_refused() {
    let (engine, _) = engine(None, None);
    let file = hostile("not-a-component");
    let err = Plugin::load(&engine, &file, file.display().to_string(), |_| {
        PluginSettings::default()
    })
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("not-a-component.wasm is a core WebAssembly module, not a component"),
        "{text}"
    );
}
