//! Shared by the plugin tests: the example and hostile components that
//! `cargo xtask build-plugins` puts in `target/plugins/`, and an engine whose log the test can
//! read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use confiture::plugins::cache::ArtifactCache;
use confiture::plugins::compile::{CompileLimits, Compiler};
use confiture::plugins::keyed_hash::KeyedHasher;
use confiture::plugins::{EngineOptions, LogLevel, LogRecord, Plugin, PluginEngine, PluginLog};
use confiture::project::settings::plugins::PluginSettings;

/// The example strategy plugin (Rust).
pub const STRATEGY_PLUGIN: &str = "email-strategy";
/// The example hook plugin (Rust, `db-read`).
pub const HOOK_PLUGIN: &str = "email-not-null-hook";

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ has a parent")
        .to_path_buf()
}

/// `target/plugins/<name>.wasm`, or a panic saying how to build it.
pub fn component(name: &str) -> PathBuf {
    existing(
        workspace()
            .join("target/plugins")
            .join(format!("{name}.wasm")),
    )
}

/// `target/plugins/hostile/<name>.wasm`.
pub fn hostile(name: &str) -> PathBuf {
    existing(
        workspace()
            .join("target/plugins/hostile")
            .join(format!("{name}.wasm")),
    )
}

fn existing(path: PathBuf) -> PathBuf {
    assert!(
        path.is_file(),
        "{} is missing: run `cargo xtask build-plugins` before the plugin tests",
        path.display()
    );
    path
}

/// The lines plugins logged, shared with the engine's log sink.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<LogRecord>>>);

impl Logs {
    /// Every record so far.
    pub fn records(&self) -> Vec<LogRecord> {
        self.0.lock().unwrap().clone()
    }
}

/// The cache in `dir`, its key in `cache.key` beside `dir`.
pub fn test_cache(dir: &Path) -> ArtifactCache {
    ArtifactCache::new(dir.to_path_buf(), dir.with_file_name("cache.key"))
}

/// An engine with its cache in `cache` (or none), the given secret, and a log the test reads.
pub fn engine(cache: Option<&Path>, secret: Option<&[u8]>) -> (Arc<PluginEngine>, Logs) {
    let logs = Logs::default();
    let sink = logs.clone();
    let engine = PluginEngine::new(EngineOptions {
        cache: cache.map(test_cache),
        log: PluginLog::to(LogLevel::Trace, move |r| {
            sink.0.lock().unwrap().push(r.clone())
        }),
        hasher: secret.and_then(KeyedHasher::new),
        compiler: Compiler::InProcess,
        compile_limits: CompileLimits::default(),
    })
    .expect("engine");
    (engine, logs)
}

/// Loads one component with `settings` for whatever name it declares.
pub fn load(engine: &Arc<PluginEngine>, file: &Path, settings: PluginSettings) -> Arc<Plugin> {
    Arc::new(
        Plugin::load(engine, file, file.display().to_string(), |_| {
            settings.clone()
        })
        .unwrap_or_else(|e| panic!("load {}: {e:#}", file.display())),
    )
}

/// A batch of `values` for `strategy` on the text column `public.users.email`.
pub fn batch(strategy: &str, values: &[Option<&str>]) -> confiture::plugins::Batch {
    confiture::plugins::Batch {
        strategy: strategy.into(),
        column: confiture::plugins::strategy::Column {
            schema: "public".into(),
            table: "users".into(),
            name: "email".into(),
            type_name: "text".into(),
        },
        params: vec![],
        values: confiture::plugins::TextBatch::from_values(values.iter().copied()),
        context: vec![],
    }
}

/// Settings with a config map and grants.
pub fn settings(
    config: &[(&str, &str)],
    grant: &[confiture::project::settings::plugins::Grant],
) -> PluginSettings {
    PluginSettings {
        config: config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        grant: grant.to_vec(),
        ..PluginSettings::default()
    }
}

/// The cluster-wide role the tests' plugins run their SQL as (`plugin_sandbox.role`).
pub const PLUGIN_ROLE: &str = "confiture_e2e_plugin";

/// Creates [`PLUGIN_ROLE`] on the shared cluster (once per test process) and grants it read
/// and write on `db`'s public schema, tables created later included — what
/// `confiture plugins create-role --write` does. Synchronous: from async tests, call it through
/// `spawn_blocking`.
pub fn grant_plugin_role(db: &crate::harness::TestDb) {
    use confiture::plugins::role::{create_sql, grant_sql};
    static CREATED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    let mut client = db.client();
    CREATED.get_or_init(|| {
        let exists = client
            .query_one(
                "SELECT count(*) FROM pg_roles WHERE rolname = $1",
                &[&PLUGIN_ROLE],
            )
            .expect("look the role up")
            .get::<_, i64>(0)
            == 1;
        if !exists {
            client
                .batch_execute(&create_sql(PLUGIN_ROLE))
                .expect("create the plugin role");
        }
    });
    for statement in grant_sql(PLUGIN_ROLE, true, &["public".to_string()]) {
        client
            .batch_execute(&statement)
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
}
