//! The one wasmtime engine of a process: configuration, the linker every plugin is
//! instantiated with, and the ticker thread that drives epoch interruption.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine};

use super::bindings::FullPlugin;
use super::cache::{ArtifactCache, CacheStatus, Lookup};
use super::compile::{CompileLimits, Compiler, check_size, compile};
use super::keyed_hash::KeyedHasher;
use super::log::PluginLog;
use super::progress::{ANNOUNCE_BYTES, CompileProgress};
use super::sandbox::HostState;

/// How often the epoch advances; time limits are rounded up to a multiple of it.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// What the engine is built with.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Where compiled components are cached, and their key; `None` compiles every time
    /// (`--no-plugin-cache`).
    pub cache: Option<ArtifactCache>,
    /// Where plugin log lines go.
    pub log: PluginLog,
    /// The deployment secret (each plugin hashes under its own key derived from it), if set.
    pub hasher: Option<KeyedHasher>,
    /// Where components are compiled.
    pub compiler: Compiler,
    /// Bounds on compiling a component.
    pub compile_limits: CompileLimits,
}

impl EngineOptions {
    /// Options from the process environment: the user cache directory (unless `no_cache`),
    /// `ANONYMIZATION_SECRET`, `CONFITURE_PLUGIN_LOG` as the log threshold (or `off`), and
    /// compilation in a child process of this executable under `compile_limits`.
    pub fn from_env(no_cache: bool, compile_limits: CompileLimits) -> anyhow::Result<Self> {
        Ok(EngineOptions {
            cache: if no_cache {
                None
            } else {
                ArtifactCache::from_env()
            },
            log: PluginLog::from_env(),
            hasher: KeyedHasher::from_env(),
            compiler: Compiler::child().context("cannot find the confiture executable")?,
            compile_limits,
        })
    }
}

/// A component ready to pre-instantiate, and what the cache did.
pub(crate) struct CompiledComponent {
    pub component: wasmtime::component::Component,
    pub cache: CacheStatus,
    /// Why the cache held something that was not loaded (for a warning naming the plugin).
    pub cache_refused: Option<String>,
}

/// The engine, the linker with every host import, and the epoch ticker.
pub struct PluginEngine {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<HostState>,
    pub(crate) cache: Option<ArtifactCache>,
    pub(crate) log: PluginLog,
    pub(crate) hasher: Option<KeyedHasher>,
    compiler: Compiler,
    compile_limits: CompileLimits,
}

impl std::fmt::Debug for PluginEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginEngine")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl PluginEngine {
    /// Builds the engine (Cranelift, component model, epoch interruption) and its linker:
    /// WASI preview 2 (synchronous, granting nothing; see [`super::sandbox`]) plus the
    /// `confiture:plugin` imports.
    pub fn new(options: EngineOptions) -> anyhow::Result<Arc<Self>> {
        let engine = new_engine()?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(anyhow::Error::from)
            .context("cannot link WASI")?;
        FullPlugin::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .map_err(anyhow::Error::from)
            .context("cannot link the confiture:plugin imports")?;
        super::versions::add_older_imports(&mut linker)
            .map_err(anyhow::Error::from)
            .context("cannot link the imports of older confiture:plugin versions")?;
        spawn_ticker(&engine)?;
        Ok(Arc::new(PluginEngine {
            engine,
            linker,
            cache: options.cache,
            log: options.log,
            hasher: options.hasher,
            compiler: options.compiler,
            compile_limits: options.compile_limits,
        }))
    }

    /// The compiled component in `bytes` (the file `shown`): from the cache when it holds an
    /// authenticated artifact, else compiled within the limits (and cached when the cache can
    /// be trusted). Also says why the cache was not used, when it held something it refused.
    pub(crate) fn component(
        &self,
        shown: &str,
        bytes: &[u8],
    ) -> Result<CompiledComponent, crate::error::Failure> {
        check_size(shown, bytes.len(), &self.compile_limits)?;
        let lookup = self
            .cache
            .as_ref()
            .map(|cache| cache.lookup(&self.engine, bytes));
        let (status, refused) = match lookup {
            Some(Lookup::Hit(component)) => {
                return Ok(CompiledComponent {
                    component,
                    cache: CacheStatus::Hit,
                    cache_refused: None,
                });
            }
            None => (CacheStatus::Off, None),
            Some(Lookup::Missing) => (CacheStatus::Miss, None),
            Some(Lookup::Bad(why)) => (
                CacheStatus::Replaced,
                Some(format!(
                    "its cached compiled code failed authentication ({why}); it was recompiled \
                     and the cache entry replaced"
                )),
            ),
            Some(Lookup::Untrusted(why)) => (
                CacheStatus::Off,
                Some(format!(
                    "the compiled-artifact cache is not used ({why}); it was compiled instead"
                )),
            ),
        };
        // A cold compile of a large component shows progress on stderr.
        let progress =
            (bytes.len() >= ANNOUNCE_BYTES).then(|| CompileProgress::start(shown, bytes.len()));
        let compiled = compile(
            &self.engine,
            &self.compiler,
            &self.compile_limits,
            shown,
            bytes,
        );
        if let Some(progress) = progress {
            progress.finish(compiled.is_ok());
        }
        let compiled = compiled?;
        if let Some(cache) = &self.cache
            && status != CacheStatus::Off
        {
            // A cache that cannot be written costs time, not correctness.
            let _ = cache.store(&self.engine, bytes, &compiled);
        }
        Ok(CompiledComponent {
            component: compiled.component,
            cache: status,
            cache_refused: refused,
        })
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Epoch ticks for a time limit (at least one).
    pub(crate) fn ticks(timeout_ms: u64) -> u64 {
        timeout_ms.div_ceil(EPOCH_TICK.as_millis() as u64).max(1) + 1
    }
}

/// The engine every plugin runs on (and the compiling child compiles for): Cranelift, the
/// component model, epoch interruption.
pub(crate) fn new_engine() -> anyhow::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    Engine::new(&config)
        .map_err(anyhow::Error::from)
        .context("cannot start the WebAssembly engine")
}

/// Advances the engine's epoch every [`EPOCH_TICK`] for as long as any clone of the engine
/// lives (a store holds one), so no running call outlives its timer. The thread holds only a
/// weak reference, so it never keeps the engine alive.
fn spawn_ticker(engine: &Engine) -> anyhow::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("confiture-plugin-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(EPOCH_TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        })
        .context("cannot start the plugin epoch ticker thread")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Instant;

    use wasmtime::{Instance, Module, Store, Trap};

    use super::*;
    use crate::plugins::wasm_fixtures::{EMPTY_COMPONENT, SPIN};

    /// Runs `spin` on `engine` under a limit of `limit_ms`, in a thread; returns how long it
    /// ran before it was interrupted, failing the test if it is still running after 10 s.
    fn spin_for(engine: &Engine, limit_ms: u64) -> Duration {
        let module = Module::new(engine, SPIN).unwrap();
        let mut store = Store::new(engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let spin = instance
            .get_typed_func::<(), ()>(&mut store, "spin")
            .unwrap();
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            store.set_epoch_deadline(PluginEngine::ticks(limit_ms));
            let started = Instant::now();
            let result = spin.call(&mut store, ());
            let _ = sender.send((result, started.elapsed()));
        });
        let (result, elapsed) = receiver
            .recv_timeout(Duration::from_secs(10))
            .expect("a call past its time limit was not interrupted within 10 s");
        let error = result.expect_err("spin never returns");
        assert_eq!(
            error.downcast_ref::<Trap>(),
            Some(&Trap::Interrupt),
            "{error}"
        );
        elapsed
    }

    #[test]
    fn a_limit_gets_its_whole_ticks_plus_the_one_already_started() {
        // The tick under way when the deadline is set may be nearly over: one more tick
        // than the limit needs, so a call never gets less than its limit.
        assert_eq!(PluginEngine::ticks(10), 2);
        assert_eq!(PluginEngine::ticks(15), 3);
        assert_eq!(PluginEngine::ticks(1_000), 101);
        assert_eq!(PluginEngine::ticks(0), 2, "at least one whole tick");
    }

    #[test]
    fn a_call_past_its_limit_is_interrupted_after_the_limit_and_not_long_after() {
        let plugins = PluginEngine::new(EngineOptions::default()).unwrap();
        for limit_ms in [10, 50] {
            let elapsed = spin_for(plugins.engine(), limit_ms);
            assert!(
                elapsed >= Duration::from_millis(limit_ms),
                "interrupted after {elapsed:?}, under its {limit_ms} ms"
            );
            assert!(
                elapsed < Duration::from_millis(limit_ms + 2_000),
                "interrupted after {elapsed:?}, for a {limit_ms} ms limit"
            );
        }
    }

    #[test]
    fn the_timer_runs_while_any_store_can_still_run() {
        let plugins = PluginEngine::new(EngineOptions::default()).unwrap();
        let engine = plugins.engine().clone();
        drop(plugins);
        spin_for(&engine, 20);
    }

    #[test]
    fn a_compiled_component_is_cached_and_a_tampered_artifact_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ArtifactCache::new(dir.path().join("plugins"), dir.path().join("cache.key"));
        let plugins = PluginEngine::new(EngineOptions {
            cache: Some(cache.clone()),
            ..EngineOptions::default()
        })
        .unwrap();
        let load = || plugins.component("empty.wasm", EMPTY_COMPONENT).unwrap();
        assert_eq!(load().cache, CacheStatus::Miss);
        let hit = load();
        assert_eq!((hit.cache, hit.cache_refused), (CacheStatus::Hit, None));
        let artifact = cache.artifact_path(plugins.engine(), EMPTY_COMPONENT);
        let mut bytes = std::fs::read(&artifact).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&artifact, bytes).unwrap();
        let replaced = load();
        assert_eq!(replaced.cache, CacheStatus::Replaced);
        let why = replaced.cache_refused.unwrap();
        assert!(why.contains("failed authentication"), "{why}");
        assert_eq!(load().cache, CacheStatus::Hit, "the entry was replaced");

        let uncached = PluginEngine::new(EngineOptions::default()).unwrap();
        let off = uncached.component("empty.wasm", EMPTY_COMPONENT).unwrap();
        assert_eq!((off.cache, off.cache_refused), (CacheStatus::Off, None));
    }
}
