//! One loaded plugin: its file, compiled and pre-instantiated component, declared metadata,
//! settings from the environment file, and the capabilities it was granted.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;
use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre};

use super::cache::{CacheStatus, sha256_hex};
use super::calls::{CallFailure, PluginCallError};
use super::component::{Kind, Shape, check_header, shape};
use super::engine::{CompiledComponent, PluginEngine};
use super::metadata::PluginInfo;
use super::sandbox::{HostState, PluginContext, PluginKey, new_store};
use super::versions::{ExportFunc, Exports};
use crate::error::Failure;
use crate::project::{settings::plugins::Grant, settings::plugins::PluginSettings};

/// Default memory cap per plugin instance, in MiB.
pub const DEFAULT_MEMORY_MB: u64 = 64;
/// Time limit for instantiating a plugin and reading its metadata, in milliseconds.
const DESCRIBE_TIMEOUT_MS: u64 = 10_000;

/// How long a load took and whether the compiled-artifact cache served it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LoadStats {
    /// Read, compile or load from cache, pre-instantiate and describe, in milliseconds.
    pub millis: f64,
    /// What the cache did.
    pub cache: CacheStatus,
    /// Linear memory the instance holds right after it started, in MiB.
    pub memory_at_start_mb: f64,
}

/// A loaded, validated plugin, ready to instantiate.
pub struct Plugin {
    /// The `.wasm` file.
    pub file: PathBuf,
    /// The file as shown in messages (relative to the project root when inside it).
    pub shown: String,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// What it declared.
    pub info: PluginInfo,
    /// Its imports, exports, kinds and world.
    pub shape: Shape,
    /// Its settings from the environment file (defaults when it has none).
    pub settings: PluginSettings,
    /// Capabilities both asked for and granted.
    pub granted: Vec<Grant>,
    /// Load measurements.
    pub load: LoadStats,
    /// Why the compiled-artifact cache held something for this plugin that was not loaded.
    pub cache_refused: Option<String>,
    pub(crate) engine: Arc<PluginEngine>,
    pub(crate) context: Arc<PluginContext>,
    pre: InstancePre<HostState>,
    exports: Exports,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("file", &self.file)
            .field("name", &self.info.name)
            .field("kinds", &self.shape.kinds)
            .finish_non_exhaustive()
    }
}

impl Plugin {
    /// Reads, checks, compiles (or loads from cache), pre-instantiates and describes the
    /// component in `file`; `settings_for` gives the environment file's settings for a name.
    pub fn load(
        engine: &Arc<PluginEngine>,
        file: &Path,
        shown: String,
        settings_for: impl Fn(&str) -> PluginSettings + Send,
    ) -> anyhow::Result<Plugin> {
        crate::bridge::run_blocking(|| Self::load_here(engine, file, shown, settings_for))
    }

    fn load_here(
        engine: &Arc<PluginEngine>,
        file: &Path,
        shown: String,
        settings_for: impl Fn(&str) -> PluginSettings,
    ) -> anyhow::Result<Plugin> {
        let started = Instant::now();
        let bytes = std::fs::read(file).map_err(|e| {
            Failure::config(format!("cannot read plugin {shown}: {e}"))
                .hint("check the path and its permissions")
        })?;
        check_header(&shown, &bytes)?;
        let CompiledComponent {
            component,
            cache,
            cache_refused,
        } = engine.component(&shown, &bytes)?;
        let shape = shape(&engine.engine, &component, &shown)?;
        let pre = engine.linker.instantiate_pre(&component).map_err(|e| {
            Failure::config(format!(
                "{shown} needs imports Confiture does not provide: {}",
                anyhow::Error::from(e)
            ))
            .hint(
                "plugins may import only confiture:plugin/{host,database} and WASI preview 2; \
                 rebuild it against wit/worlds.wit",
            )
        })?;
        let exports = Exports::find(&pre, &shape.contract, &shape.kinds).map_err(|(kind, e)| {
            let interface = kind.map_or("metadata", Kind::interface);
            Failure::config(format!(
                "{shown}: the {interface} export does not match the contract: {e}"
            ))
            .hint("rebuild the plugin against this Confiture's wit/")
        })?;
        // Its own cap is not known before its name is: it starts under the cap of the entry
        // named after its file (the default without one), then is checked against its own.
        let provisional = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("plugin")
            .to_string();
        let start_cap = settings_for(&provisional)
            .memory_mb
            .unwrap_or(DEFAULT_MEMORY_MB);
        let (info, used) = describe(
            engine,
            &pre,
            &exports.describe,
            &shown,
            &provisional,
            start_cap,
        )?;
        info.validate(&shown, &shape.kinds)?;
        let settings = settings_for(&info.name);
        let granted: Vec<Grant> = info
            .capabilities
            .iter()
            .copied()
            .filter(|c| settings.grant.contains(c))
            .collect();
        let cap = settings.memory_mb.unwrap_or(DEFAULT_MEMORY_MB);
        if used > cap * 1024 * 1024 {
            return Err(Failure::config(format!(
                "plugin {} ({shown}) needs {} MiB just to start, and its memory limit is {cap} MiB",
                info.name,
                used.div_ceil(1024 * 1024)
            ))
            .hint(format!(
                "raise it in the environment file: plugins: {{{}: {{memory_mb: {}}}}}",
                info.name,
                (used.div_ceil(1024 * 1024) * 2).max(cap * 2)
            ))
            .into());
        }
        let context = Arc::new(PluginContext {
            name: info.name.clone(),
            config: settings.config.clone(),
            granted: granted.clone(),
            log: engine.log.clone(),
            key: PluginKey::of(engine.hasher.as_ref(), &info.name),
        });
        Ok(Plugin {
            file: file.to_path_buf(),
            shown,
            sha256: sha256_hex(&bytes),
            info,
            shape,
            settings,
            granted,
            load: LoadStats {
                millis: started.elapsed().as_secs_f64() * 1000.0,
                cache,
                memory_at_start_mb: used as f64 / (1024.0 * 1024.0),
            },
            cache_refused,
            engine: engine.clone(),
            context,
            pre,
            exports,
        })
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// The names of the strategies it provides, comma-separated, for messages.
    pub fn strategy_names(&self) -> String {
        let names: Vec<&str> = self
            .info
            .strategies
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        names.join(", ")
    }

    /// True when it provides `kind`.
    pub fn has(&self, kind: Kind) -> bool {
        self.shape.kinds.contains(&kind)
    }

    /// The role its database statements run as, when one is configured.
    pub fn db_role(&self) -> Option<&str> {
        self.settings.role.as_deref()
    }

    /// The memory cap of its instances, in MiB.
    pub fn memory_mb(&self) -> u64 {
        self.settings.memory_mb.unwrap_or(DEFAULT_MEMORY_MB)
    }

    /// The time limit of a call of `kind`, in milliseconds.
    pub fn timeout_ms(&self, kind: Kind) -> u64 {
        self.settings
            .timeout_ms
            .unwrap_or_else(|| kind.default_timeout_ms())
    }

    /// A fresh store and instance, with the deadline for instantiation armed.
    pub(crate) fn instantiate(
        &self,
        call: &str,
        timeout_ms: u64,
    ) -> Result<(Store<HostState>, Instance), PluginCallError> {
        let mut store = new_store(&self.engine.engine, self.context.clone(), self.memory_mb());
        store.set_epoch_deadline(PluginEngine::ticks(timeout_ms));
        match self.pre.instantiate(&mut store) {
            Ok(instance) => Ok((store, instance)),
            Err(err) => {
                store.data().flush_output();
                Err(PluginCallError::from_wasmtime(
                    self.name(),
                    call,
                    err,
                    store.data(),
                    timeout_ms,
                ))
            }
        }
    }

    /// The contract functions it exports.
    pub(crate) fn exports(&self) -> &Exports {
        &self.exports
    }

    /// An error for a call whose export the plugin does not have.
    pub(crate) fn lacks(&self, kind: Kind, call: &str) -> PluginCallError {
        PluginCallError::new(
            self.name(),
            call,
            CallFailure::Host,
            format!(
                "cannot run: the plugin does not export confiture:plugin/{}",
                kind.interface()
            ),
        )
    }
}

/// Instantiates the component under its provisional name (its file's) and a memory cap of
/// `memory_mb`, and calls `describe`; returns the metadata and the memory the instance held
/// afterwards.
fn describe(
    engine: &Arc<PluginEngine>,
    pre: &InstancePre<HostState>,
    describe: &ExportFunc,
    shown: &str,
    provisional: &str,
    memory_mb: u64,
) -> anyhow::Result<(PluginInfo, u64)> {
    let context = Arc::new(PluginContext {
        name: provisional.to_string(),
        config: Default::default(),
        granted: Vec::new(),
        log: engine.log.clone(),
        key: PluginKey::Unnamed,
    });
    let mut store = new_store(&engine.engine, context, memory_mb);
    store.set_epoch_deadline(PluginEngine::ticks(DESCRIBE_TIMEOUT_MS));
    let fail = |store: &Store<HostState>, call: &str, err: wasmtime::Error| {
        store.data().flush_output();
        let err = PluginCallError::from_wasmtime(
            provisional,
            call,
            err,
            store.data(),
            DESCRIBE_TIMEOUT_MS,
        );
        Failure::config(format!("{shown}: {err}"))
            .hint("the plugin fails before it can be used; fix and rebuild it")
    };
    let instance = pre
        .instantiate(&mut store)
        .map_err(|e| fail(&store, "instantiate", e))?;
    let func = describe
        .typed::<(), (super::bindings::metadata::PluginInfo,)>(&mut store, &instance)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("{shown}: the metadata export does not match the contract"))?;
    let (info,) = func
        .call(&mut store, ())
        .map_err(|e| fail(&store, "describe()", e))?;
    store.data().flush_output();
    Ok((PluginInfo::from(info), store.data().limiter.used() as u64))
}
