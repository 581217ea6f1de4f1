//! Discovery: every `*.wasm` in the project's plugins directory plus `--plugin PATH`, loaded
//! into a [`PluginSet`] with names checked for duplicates and settings checked against what
//! was found.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::component::{Kind, shown};
use super::engine::PluginEngine;
use super::plugin::Plugin;
use crate::error::Failure;
use crate::project::{PluginSandbox, PluginSettings, Project, did_you_mean};

/// Where plugins come from and how they are configured.
#[derive(Debug, Clone, Default)]
pub struct PluginSources {
    /// The project root, for showing paths relative to it.
    pub root: Option<PathBuf>,
    /// The plugins directory (scanned for `*.wasm`, not recursively); may not exist.
    pub dir: Option<PathBuf>,
    /// Files given with `--plugin`.
    pub extra: Vec<PathBuf>,
    /// `plugins:` of the environment file.
    pub settings: BTreeMap<String, PluginSettings>,
    /// The environment file, for warnings.
    pub env_file: Option<PathBuf>,
    /// `plugin_sandbox:` of the environment file.
    pub sandbox: PluginSandbox,
}

impl PluginSources {
    /// The project's plugins directory and settings, plus `extra` files.
    pub fn from_project(project: &Project, extra: &[PathBuf]) -> Self {
        PluginSources {
            root: Some(project.root.clone()),
            dir: Some(project.path(&project.env.plugins_dir)),
            extra: extra.to_vec(),
            settings: project.env.plugins.clone(),
            env_file: Some(project.env.file.clone()),
            sandbox: project.env.plugin_sandbox.clone(),
        }
    }

    /// The settings of plugin `name`: its entry under `plugins:` (defaults without one), with
    /// the environment's `plugin_sandbox.role` when it names no role of its own.
    pub fn settings_for(&self, name: &str) -> PluginSettings {
        let mut settings = self.settings.get(name).cloned().unwrap_or_default();
        if settings.role.is_none() {
            settings.role.clone_from(&self.sandbox.role);
        }
        settings
    }

    /// Only `extra` files, with default settings (no project).
    pub fn files(extra: &[PathBuf]) -> Self {
        PluginSources {
            extra: extra.to_vec(),
            ..Default::default()
        }
    }

    /// Every plugin file, in a stable order, without duplicates.
    pub fn discover(&self) -> anyhow::Result<Vec<PathBuf>> {
        let mut files = Vec::new();
        if let Some(dir) = &self.dir
            && dir.is_dir()
        {
            let entries = std::fs::read_dir(dir).map_err(|e| {
                Failure::config(format!(
                    "cannot read the plugins directory {}: {e}",
                    shown(self.root.as_deref(), dir)
                ))
            })?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "wasm"))
                .collect();
            found.sort();
            files.extend(found);
        }
        for file in &self.extra {
            if !file.is_file() {
                return Err(
                    Failure::config(format!("--plugin {}: no such file", file.display()))
                        .hint("give the path of a plugin's .wasm component")
                        .into(),
                );
            }
            files.push(file.clone());
        }
        let mut seen = Vec::new();
        files.retain(|f| {
            let canonical = f.canonicalize().unwrap_or_else(|_| f.clone());
            let fresh = !seen.contains(&canonical);
            seen.push(canonical);
            fresh
        });
        Ok(files)
    }
}

/// The loaded plugins of a run.
#[derive(Debug, Default)]
pub struct PluginSet {
    plugins: Vec<Arc<Plugin>>,
    /// Configuration problems that do not stop the run (unknown names, unasked grants).
    pub warnings: Vec<String>,
}

impl PluginSet {
    /// Loads every plugin `sources` lists. Any invalid plugin, duplicate plugin name or
    /// duplicate strategy name is an error naming the file(s).
    pub fn load(engine: &Arc<PluginEngine>, sources: &PluginSources) -> anyhow::Result<Self> {
        let mut set = PluginSet::default();
        for file in sources.discover()? {
            let shown_file = shown(sources.root.as_deref(), &file);
            let plugin =
                Plugin::load(engine, &file, shown_file, |name| sources.settings_for(name))?;
            set.add(plugin)?;
        }
        set.warnings = set.check_settings(sources);
        Ok(set)
    }

    fn add(&mut self, plugin: Plugin) -> Result<(), Failure> {
        if let Some(other) = self.plugins.iter().find(|p| p.name() == plugin.name()) {
            return Err(Failure::config(format!(
                "{} and {} both declare plugin `{}`",
                other.shown,
                plugin.shown,
                plugin.name()
            ))
            .hint("plugin names must be unique: remove one of the files, or rename one plugin"));
        }
        for strategy in &plugin.info.strategies {
            if let Some(other) = self.plugins.iter().find(|p| {
                p.settings.enabled && p.info.strategies.iter().any(|s| s.name == strategy.name)
            }) && plugin.settings.enabled
            {
                return Err(Failure::config(format!(
                    "strategy `{}` is provided by both plugin {} ({}) and plugin {} ({})",
                    strategy.name,
                    other.name(),
                    other.shown,
                    plugin.name(),
                    plugin.shown
                ))
                .hint("strategy names must be unique: disable one plugin with `enabled: false`"));
            }
        }
        self.plugins.push(Arc::new(plugin));
        Ok(())
    }

    fn check_settings(&self, sources: &PluginSources) -> Vec<String> {
        let file = sources
            .env_file
            .as_deref()
            .map(|f| shown(sources.root.as_deref(), f))
            .unwrap_or_else(|| "the environment file".into());
        let names: Vec<String> = self.plugins.iter().map(|p| p.name().to_string()).collect();
        let mut warnings = Vec::new();
        for (name, settings) in &sources.settings {
            let at = settings.line.map(|l| format!(":{l}")).unwrap_or_default();
            if !names.contains(name) {
                let hint = match did_you_mean(name, &names) {
                    Some(best) => format!(" (did you mean `{best}`?)"),
                    None => String::new(),
                };
                warnings.push(format!(
                    "{file}{at}: plugins.{name} configures a plugin that is not loaded{hint}"
                ));
            }
        }
        for plugin in &self.plugins {
            for grant in &plugin.settings.grant {
                if !plugin.info.capabilities.contains(grant) {
                    let at = plugin
                        .settings
                        .line
                        .map(|l| format!(":{l}"))
                        .unwrap_or_default();
                    warnings.push(format!(
                        "{file}{at}: plugins.{} grants `{grant}`, which the plugin does not ask \
                         for; the grant has no effect",
                        plugin.name()
                    ));
                }
            }
        }
        warnings
    }

    /// Every plugin found, disabled ones included.
    pub fn all(&self) -> &[Arc<Plugin>] {
        &self.plugins
    }

    /// The enabled plugin called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<Plugin>> {
        self.enabled().find(|p| p.name() == name)
    }

    /// Enabled plugins.
    pub fn enabled(&self) -> impl Iterator<Item = &Arc<Plugin>> {
        self.plugins.iter().filter(|p| p.settings.enabled)
    }

    /// Enabled plugins of `kind`.
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Arc<Plugin>> {
        self.enabled().filter(move |p| p.has(kind))
    }

    /// The enabled plugin providing strategy `name`.
    pub fn strategy(&self, name: &str) -> Option<&Arc<Plugin>> {
        self.of_kind(Kind::Strategy)
            .find(|p| p.info.strategies.iter().any(|s| s.name == name))
    }
}

/// The plugins directory of a project, as shown in messages.
pub fn plugins_dir_shown(project: &Project) -> String {
    shown(
        Some(&project.root),
        &project.path(Path::new(&project.env.plugins_dir)),
    )
}
