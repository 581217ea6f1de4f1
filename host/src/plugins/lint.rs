//! Lint rules: one fresh instance per `check` call (a lint run calls each plugin once).

use std::sync::Arc;

use super::bindings::lint::{LintContext, Violation};
use super::calls::{CallFailure, PluginCallError};
use super::component::Kind;
use super::engine::PluginEngine;
use super::plugin::Plugin;

pub use super::bindings::lint::{Column, ForeignKey, Index, Location, Statement, Table};

/// Runs the plugin's rules on `context`; every violation must name a rule the plugin declared.
pub fn run_lint(
    plugin: &Arc<Plugin>,
    context: &LintContext,
) -> Result<Vec<Violation>, PluginCallError> {
    crate::bridge::run_blocking(|| lint_here(plugin, context))
}

fn lint_here(plugin: &Plugin, context: &LintContext) -> Result<Vec<Violation>, PluginCallError> {
    let call = "check(lint-context)";
    if !plugin.has(Kind::Lint) {
        return Err(plugin.lacks(Kind::Lint, call));
    }
    let timeout_ms = plugin.timeout_ms(Kind::Lint);
    let (mut store, instance) = plugin.instantiate(call, timeout_ms)?;
    let export = plugin.exports().check.as_ref().expect("checked above");
    let func = export
        .typed::<(&LintContext,), (Vec<Violation>,)>(&mut store, &instance)
        .map_err(|e| {
            PluginCallError::new(
                plugin.name(),
                call,
                CallFailure::Host,
                format!("cannot load the lint export: {}", anyhow::Error::from(e)),
            )
        })?;
    store.set_epoch_deadline(PluginEngine::ticks(timeout_ms));
    let result = func.call(&mut store, (context,)).map(|(out,)| out);
    store.data().flush_output();
    let violations = result.map_err(|err| {
        PluginCallError::from_wasmtime(plugin.name(), call, err, store.data(), timeout_ms)
    })?;
    if let Some(v) = violations
        .iter()
        .find(|v| !plugin.info.rules.iter().any(|r| r.id == v.rule_id))
    {
        return Err(PluginCallError::new(
            plugin.name(),
            call,
            CallFailure::Invalid,
            format!(
                "reported a violation of rule `{}`, which it does not declare",
                v.rule_id
            ),
        ));
    }
    Ok(violations)
}
