//! Anonymization strategies: a [`StrategyWorker`] owns one store and instance of a plugin and
//! reuses them batch after batch; a failed call discards them and the next call starts afresh.
//! One worker per thread: workers are `Send` but not shared.

use std::sync::Arc;

use wasmtime::Store;

use wasmtime::component::Instance;

use super::bindings::strategy::{Batch, TextBatch};
use super::calls::{CallFailure, PluginCallError};
use super::component::Kind;
use super::engine::PluginEngine;
use super::plugin::Plugin;
use super::sandbox::HostState;

pub use super::bindings::strategy::{Column, ContextColumn};
pub use super::bindings::types::KeyValue;

/// One plugin instance owned by one thread, reused across batches.
pub struct StrategyWorker {
    plugin: Arc<Plugin>,
    live: Option<(Store<HostState>, Instance)>,
}

impl std::fmt::Debug for StrategyWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StrategyWorker")
            .field("plugin", &self.plugin.name())
            .field("instantiated", &self.live.is_some())
            .finish()
    }
}

impl StrategyWorker {
    /// A worker for `plugin`, which must provide strategies. Instantiates on first use.
    pub fn new(plugin: Arc<Plugin>) -> Result<Self, PluginCallError> {
        if !plugin.has(Kind::Strategy) {
            return Err(plugin.lacks(Kind::Strategy, "anonymize"));
        }
        Ok(StrategyWorker { plugin, live: None })
    }

    /// The plugin this worker runs.
    pub fn plugin(&self) -> &Arc<Plugin> {
        &self.plugin
    }

    /// Anonymizes one batch. On any failure the instance is dropped (a trapped instance is
    /// never reused) and the error names the plugin and the call, `anonymize(table.column)`.
    pub fn anonymize(&mut self, batch: &Batch) -> Result<TextBatch, PluginCallError> {
        crate::bridge::run_blocking(|| self.anonymize_here(batch))
    }

    fn anonymize_here(&mut self, batch: &Batch) -> Result<TextBatch, PluginCallError> {
        let call = format!("anonymize({}.{})", batch.column.table, batch.column.name);
        let plugin = self.plugin.clone();
        if !plugin
            .info
            .strategies
            .iter()
            .any(|s| s.name == batch.strategy)
        {
            return Err(PluginCallError::new(
                plugin.name(),
                &call,
                CallFailure::Host,
                format!(
                    "cannot run: the plugin provides no strategy `{}` (it has: {})",
                    batch.strategy,
                    plugin.strategy_names()
                ),
            ));
        }
        let timeout_ms = plugin.timeout_ms(Kind::Strategy);
        let (mut store, instance) = match self.live.take() {
            Some(live) => live,
            None => plugin.instantiate(&call, timeout_ms)?,
        };
        let export = plugin.exports().anonymize.as_ref().expect("checked in new");
        let func = export
            .typed::<(&Batch,), (Result<TextBatch, String>,)>(&mut store, &instance)
            .map_err(|e| {
                PluginCallError::new(
                    plugin.name(),
                    &call,
                    CallFailure::Host,
                    format!(
                        "cannot load the strategy export: {}",
                        anyhow::Error::from(e)
                    ),
                )
            })?;
        store.set_epoch_deadline(PluginEngine::ticks(timeout_ms));
        let result = func.call(&mut store, (batch,)).map(|(out,)| out);
        store.data().flush_output();
        let expected = batch.values.len();
        match result {
            Err(err) => Err(PluginCallError::from_wasmtime(
                plugin.name(),
                &call,
                err,
                store.data(),
                timeout_ms,
            )),
            Ok(Err(message)) => {
                self.live = Some((store, instance));
                Err(PluginCallError::new(
                    plugin.name(),
                    &call,
                    CallFailure::Returned,
                    format!("failed: {message}"),
                ))
            }
            Ok(Ok(out)) => match out.check(expected) {
                Ok(()) => {
                    self.live = Some((store, instance));
                    Ok(out)
                }
                Err(problem) => Err(PluginCallError::new(
                    plugin.name(),
                    &call,
                    CallFailure::Invalid,
                    format!("{problem}, which breaks the strategy contract"),
                )),
            },
        }
    }
}
