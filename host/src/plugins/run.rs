//! The plugins of one command run: the engine the run's context asks for, and the one load of
//! the plugin set every feature that runs plugins (hooks, lint rules, sync strategies) goes
//! through.

use std::sync::Arc;

use super::compile::CompileLimits;
use super::engine::{EngineOptions, PluginEngine};
use super::registry::{PluginSet, PluginSources};
use crate::context::Globals;

/// The engine for a run, honouring `--no-plugin-cache` and the environment's `plugin_sandbox`
/// compile limits (the defaults without a project).
pub fn engine(g: &Globals) -> anyhow::Result<Arc<PluginEngine>> {
    let limits = g
        .project()
        .map(|project| CompileLimits::from_settings(&project.env.plugin_sandbox))
        .unwrap_or_default();
    PluginEngine::new(EngineOptions::from_env(g.no_plugin_cache, limits)?)
}

/// Starts the run's engine and loads every plugin `sources` lists (any that cannot load is an
/// error, see [`PluginSet::load`]), printing the set's warnings.
pub fn load(g: &Globals, sources: &PluginSources) -> anyhow::Result<PluginSet> {
    let set = PluginSet::load(&engine(g)?, sources)?;
    for warning in &set.warnings {
        g.out.warn(warning);
    }
    Ok(set)
}
