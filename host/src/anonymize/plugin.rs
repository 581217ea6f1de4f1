//! WebAssembly strategies: every strategy a plugin declares becomes a [`Strategy`] in the
//! registry. Calls go out one batch at a time, with only the context columns the strategy
//! declared; each calling thread takes its own plugin instance from a small pool and gives it
//! back, so a worker reuses one instance batch after batch. Every value a plugin returns is
//! checked against the column's type by the caller ([`Strategy::needs_output_check`]).

use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};

use super::registry::{ColumnSite, Registry};
use super::{ColumnType, KeyedHasher, Params, Strategy, TextBatch};
use crate::plugins::strategy::{Column, ContextColumn};
use crate::plugins::{Batch, KeyValue, Kind, Plugin, PluginSet, StrategyWorker};

/// `--strategy NAME=PLUGIN[:EXPORT]` (or the release notes' `NAME=PLUGIN.EXPORT`): the name
/// used in anonymization.yaml for one plugin's strategy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyMapping {
    /// Name used in anonymization.yaml.
    pub name: String,
    /// Plugin name.
    pub plugin: String,
    /// The plugin's strategy (default: `name`).
    pub export: String,
}

impl std::str::FromStr for StrategyMapping {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let usage = || format!("`{text}`: expected NAME=PLUGIN[:EXPORT] (or NAME=PLUGIN.EXPORT)");
        let (name, target) = text.split_once('=').ok_or_else(usage)?;
        let (plugin, export) = match target.split_once([':', '.']) {
            Some((plugin, export)) => (plugin, export),
            None => (target, name),
        };
        if [name, plugin, export]
            .iter()
            .any(|part| part.trim().is_empty())
        {
            return Err(usage());
        }
        Ok(StrategyMapping {
            name: name.trim().to_string(),
            plugin: plugin.trim().to_string(),
            export: export.trim().to_string(),
        })
    }
}

/// Registers every strategy of the plugins in `set` under its own name, and each `mappings`
/// entry under its chosen name. Fails on a mapping to a missing plugin or strategy, and on
/// names that clash with built-ins or each other.
pub fn register(
    registry: &mut Registry,
    set: &PluginSet,
    mappings: &[StrategyMapping],
) -> anyhow::Result<()> {
    for plugin in set.of_kind(Kind::Strategy) {
        for info in &plugin.info.strategies {
            if mappings.iter().any(|m| m.name == info.name) {
                continue;
            }
            add(registry, &info.name, plugin, &info.name)
                .with_context(|| format!("plugin {} ({})", plugin.name(), plugin.shown))?;
        }
    }
    for mapping in mappings {
        let plugin = set.get(&mapping.plugin).ok_or_else(|| {
            anyhow::anyhow!(
                "--strategy {}: no plugin named `{}` is loaded (see `confiture plugins list`)",
                mapping.name,
                mapping.plugin
            )
        })?;
        if !plugin
            .info
            .strategies
            .iter()
            .any(|s| s.name == mapping.export)
        {
            bail!(
                "--strategy {}: plugin {} provides no strategy `{}` (it has: {})",
                mapping.name,
                mapping.plugin,
                mapping.export,
                plugin.strategy_names()
            );
        }
        add(registry, &mapping.name, plugin, &mapping.export)
            .with_context(|| format!("--strategy {}", mapping.name))?;
    }
    Ok(())
}

fn add(
    registry: &mut Registry,
    name: &str,
    plugin: &Arc<Plugin>,
    export: &str,
) -> anyhow::Result<()> {
    let plugin = plugin.clone();
    let export = export.to_string();
    registry.register_factory(
        name,
        Arc::new(
            move |site: &ColumnSite, params: &Params, _: Option<KeyedHasher>| {
                let strategy: Arc<dyn Strategy> =
                    Arc::new(PluginStrategy::new(plugin.clone(), &export, site, params)?);
                Ok(strategy)
            },
        ),
    )
}

/// One plugin strategy bound to one column.
pub struct PluginStrategy {
    plugin: Arc<Plugin>,
    export: String,
    site: ColumnSite,
    params: Vec<KeyValue>,
    context: Vec<String>,
    /// Idle instances; a calling thread takes one and puts it back.
    idle: Mutex<Vec<StrategyWorker>>,
}

impl PluginStrategy {
    fn new(
        plugin: Arc<Plugin>,
        export: &str,
        site: &ColumnSite,
        params: &Params,
    ) -> anyhow::Result<Self> {
        let info = plugin
            .info
            .strategies
            .iter()
            .find(|s| s.name == export)
            .expect("registered strategies exist");
        let context = info.context_columns.clone();
        let params = params
            .iter()
            .map(|(key, value)| {
                Ok(KeyValue {
                    key: key.clone(),
                    value: param_text(key, value)?,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(PluginStrategy {
            plugin,
            export: export.to_string(),
            site: site.clone(),
            params,
            context,
            idle: Mutex::new(Vec::new()),
        })
    }

    fn take_worker(&self) -> anyhow::Result<StrategyWorker> {
        let idle = self
            .idle
            .lock()
            .expect("the pool lock is never poisoned")
            .pop();
        match idle {
            Some(worker) => Ok(worker),
            None => StrategyWorker::new(self.plugin.clone()).map_err(anyhow::Error::from),
        }
    }
}

/// A param as the text the plugin receives: scalars as written, anything else as JSON.
fn param_text(key: &str, value: &serde_yaml_ng::Value) -> anyhow::Result<String> {
    use serde_yaml_ng::Value;
    Ok(match value {
        Value::String(text) => text.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => String::new(),
        other => serde_json::to_string(other)
            .with_context(|| format!("param `{key}` cannot be passed to a plugin"))?,
    })
}

impl Strategy for PluginStrategy {
    fn name(&self) -> &str {
        &self.export
    }

    fn anonymize(&self, column: &ColumnType, values: &TextBatch) -> anyhow::Result<TextBatch> {
        self.anonymize_rows(column, values, &[])
    }

    fn context_columns(&self) -> &[String] {
        &self.context
    }

    fn anonymize_rows(
        &self,
        column: &ColumnType,
        values: &TextBatch,
        context: &[&TextBatch],
    ) -> anyhow::Result<TextBatch> {
        if context.len() != self.context.len() {
            bail!(
                "strategy `{}` of plugin {} reads context columns {} but got {} of them",
                self.export,
                self.plugin.name(),
                self.context.join(", "),
                context.len()
            );
        }
        let batch = Batch {
            strategy: self.export.clone(),
            column: Column {
                schema: self.site.schema.clone(),
                table: self.site.table.clone(),
                name: self.site.column.clone(),
                type_name: column.to_string(),
            },
            params: self.params.clone(),
            values: values.clone(),
            context: self
                .context
                .iter()
                .zip(context)
                .map(|(name, values)| ContextColumn {
                    name: name.clone(),
                    values: (*values).clone(),
                })
                .collect(),
        };
        let mut worker = self.take_worker()?;
        let out = worker.anonymize(&batch)?;
        self.idle
            .lock()
            .expect("the pool lock is never poisoned")
            .push(worker);
        Ok(out)
    }

    fn needs_output_check(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings_parse_both_forms() {
        let colon: StrategyMapping = "email=mask:email_keep_domain".parse().unwrap();
        assert_eq!(
            colon,
            StrategyMapping {
                name: "email".into(),
                plugin: "mask".into(),
                export: "email_keep_domain".into()
            }
        );
        let dot: StrategyMapping = "email=mask.email_keep_domain".parse().unwrap();
        assert_eq!(dot, colon);
        let bare: StrategyMapping = "phone=python-strategy".parse().unwrap();
        assert_eq!(bare.export, "phone");
        assert!("email".parse::<StrategyMapping>().is_err());
        assert!("email=".parse::<StrategyMapping>().is_err());
        assert!("=p:x".parse::<StrategyMapping>().is_err());
    }
}
