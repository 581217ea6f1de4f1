//! Anonymization strategies: a [`StrategyWorker`] owns one store and instance of a plugin and
//! reuses them batch after batch; a failed call discards them and the next call starts afresh.
//! One worker per thread: workers are `Send` but not shared.

use std::sync::Arc;

use wasmtime::Store;

use super::bindings::strategy::{Batch, Guest, TextBatch};
use super::calls::{CallFailure, PluginCallError};
use super::component::Kind;
use super::engine::PluginEngine;
use super::plugin::Plugin;
use super::sandbox::HostState;

pub use super::bindings::strategy::{Column, ContextColumn};
pub use super::bindings::types::KeyValue;

impl TextBatch {
    /// Packs values (`None` is NULL) into one buffer with offsets and a null bitmap.
    pub fn from_values<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> TextBatch {
        let mut batch = TextBatch {
            data: Vec::new(),
            offsets: vec![0],
            nulls: Vec::new(),
        };
        for (i, value) in values.into_iter().enumerate() {
            if i % 8 == 0 {
                batch.nulls.push(0);
            }
            match value {
                Some(text) => batch.data.extend_from_slice(text.as_bytes()),
                None => batch.nulls[i / 8] |= 1 << (i % 8),
            }
            batch.offsets.push(batch.data.len() as u32);
        }
        batch
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// True when there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `i` (`None` for NULL); call [`TextBatch::check`] first on untrusted batches.
    pub fn get(&self, i: usize) -> Option<&str> {
        if self
            .nulls
            .get(i / 8)
            .is_some_and(|b| b & (1 << (i % 8)) != 0)
        {
            return None;
        }
        let (start, end) = (self.offsets[i] as usize, self.offsets[i + 1] as usize);
        std::str::from_utf8(&self.data[start..end]).ok()
    }

    /// Every value, in order.
    pub fn values(&self) -> impl Iterator<Item = Option<&str>> {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Checks the batch is well formed and holds `expected` values: offsets start at 0,
    /// never decrease and stay inside the data, the bitmap covers every value, and every
    /// non-NULL value is UTF-8.
    pub fn check(&self, expected: usize) -> Result<(), String> {
        if self.offsets.len() != expected + 1 {
            return Err(format!(
                "returned {} values for {expected}",
                self.offsets.len().saturating_sub(1)
            ));
        }
        if self.offsets.first() != Some(&0) {
            return Err("returned offsets that do not start at 0".into());
        }
        if self.offsets.windows(2).any(|w| w[0] > w[1]) {
            return Err("returned decreasing offsets".into());
        }
        if *self.offsets.last().unwrap_or(&0) as usize > self.data.len() {
            return Err(format!(
                "returned offsets past the end of its {} bytes of data",
                self.data.len()
            ));
        }
        if self.nulls.len() < expected.div_ceil(8) {
            return Err(format!(
                "returned a null bitmap of {} bytes for {expected} values",
                self.nulls.len()
            ));
        }
        for i in 0..expected {
            let null = self.nulls[i / 8] & (1 << (i % 8)) != 0;
            let (start, end) = (self.offsets[i] as usize, self.offsets[i + 1] as usize);
            if !null && std::str::from_utf8(&self.data[start..end]).is_err() {
                return Err(format!("returned value {i}, which is not UTF-8"));
            }
        }
        Ok(())
    }
}

/// One plugin instance owned by one thread, reused across batches.
pub struct StrategyWorker {
    plugin: Arc<Plugin>,
    live: Option<(Store<HostState>, Guest)>,
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
        super::engine::run_sync(|| self.anonymize_here(batch))
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
                    plugin
                        .info
                        .strategies
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let timeout_ms = plugin.timeout_ms(Kind::Strategy);
        let (mut store, guest) = match self.live.take() {
            Some(live) => live,
            None => {
                let (mut store, instance) = plugin.instantiate(&call, timeout_ms)?;
                let indices = plugin.strategy_indices().expect("checked in new");
                let guest = indices.load(&mut store, &instance).map_err(|e| {
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
                (store, guest)
            }
        };
        store.set_epoch_deadline(PluginEngine::ticks(timeout_ms));
        let result = guest.call_anonymize(&mut store, batch);
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
                self.live = Some((store, guest));
                Err(PluginCallError::new(
                    plugin.name(),
                    &call,
                    CallFailure::Returned,
                    format!("failed: {message}"),
                ))
            }
            Ok(Ok(out)) => match out.check(expected) {
                Ok(()) => {
                    self.live = Some((store, guest));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_and_checks_batches() {
        let batch = TextBatch::from_values([Some("a@x.org"), None, Some(""), Some("é")]);
        assert_eq!(batch.len(), 4);
        assert_eq!(batch.offsets, vec![0, 7, 7, 7, 9]);
        assert_eq!(batch.nulls, vec![0b10]);
        assert_eq!(
            batch.values().collect::<Vec<_>>(),
            vec![Some("a@x.org"), None, Some(""), Some("é")]
        );
        assert!(batch.check(4).is_ok());
        assert_eq!(batch.check(3).unwrap_err(), "returned 4 values for 3");

        let mut bad = batch.clone();
        bad.offsets[4] = 99;
        assert!(bad.check(4).unwrap_err().contains("past the end"));
        let mut bad = batch.clone();
        bad.offsets[2] = 1;
        assert!(bad.check(4).unwrap_err().contains("decreasing"));
        let mut bad = batch.clone();
        bad.data[7] = 0xff;
        assert!(bad.check(4).unwrap_err().contains("not UTF-8"));
        let mut bad = batch;
        bad.nulls.clear();
        assert!(bad.check(4).unwrap_err().contains("null bitmap"));
    }
}
