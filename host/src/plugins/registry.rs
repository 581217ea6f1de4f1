//! Discovery: every `*.wasm` in the project's plugins directory plus `--plugin PATH`, loaded
//! into a [`PluginSet`] with names checked for duplicates and settings checked against what
//! was found.
//!
//! A disabled plugin runs no code, so it is recognised by its file name, before anything of
//! it is read: when the settings of `<name>` (the file's name without `.wasm`) say
//! `enabled: false`, the file is neither read, compiled nor started. Learning the name of a
//! plugin in a file named otherwise means running it, so a disabled entry that names no file
//! refuses the load before any plugin starts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::component::{Kind, shown};
use super::engine::PluginEngine;
use super::plugin::Plugin;
use crate::error::Failure;
use crate::project::{
    Project, settings::plugins::PluginSandbox, settings::plugins::PluginSettings,
};
use crate::strings::did_you_mean;

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

/// A plugin the environment file turns off (`plugins.<name>.enabled: false`).
#[derive(Debug, Clone, Serialize)]
pub struct DisabledPlugin {
    /// Its name.
    pub name: String,
    /// Its file, as shown.
    pub file: String,
}

/// A plugin file that could not be loaded, and why.
#[derive(Debug)]
pub struct BrokenPlugin {
    /// The file, as shown.
    pub file: String,
    /// What is wrong with it (a [`Failure`] naming the file and what to do, mostly).
    pub error: anyhow::Error,
}

/// The loaded plugins of a run.
#[derive(Debug, Default)]
pub struct PluginSet {
    plugins: Vec<Arc<Plugin>>,
    /// Plugins turned off in the environment file: their files were never read.
    pub disabled: Vec<DisabledPlugin>,
    /// Configuration problems that do not stop the run (unknown names, unasked grants).
    pub warnings: Vec<String>,
}

impl PluginSet {
    /// Loads every plugin `sources` lists. Any invalid plugin, duplicate plugin name or
    /// duplicate strategy name is an error naming the file(s).
    pub fn load(engine: &Arc<PluginEngine>, sources: &PluginSources) -> anyhow::Result<Self> {
        let (set, broken) = Self::scan(engine, sources)?;
        match broken.into_iter().next() {
            Some(broken) => Err(broken.error),
            None => Ok(set),
        }
    }

    /// Loads every plugin `sources` lists that can be loaded, and says why each other one
    /// cannot (`plugins list` shows them all).
    pub fn scan(
        engine: &Arc<PluginEngine>,
        sources: &PluginSources,
    ) -> anyhow::Result<(Self, Vec<BrokenPlugin>)> {
        let mut set = PluginSet::default();
        let mut broken = Vec::new();
        let files = sources.discover()?;
        refuse_unidentified_disabled(sources, &files)?;
        for file in files {
            let shown_file = shown(sources.root.as_deref(), &file);
            let stem = file
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if !sources.settings_for(stem).enabled {
                set.disabled.push(DisabledPlugin {
                    name: stem.to_string(),
                    file: shown_file,
                });
                continue;
            }
            let loaded = Plugin::load(engine, &file, shown_file.clone(), |name| {
                sources.settings_for(name)
            })
            .and_then(|plugin| set.add(plugin).map_err(anyhow::Error::from));
            if let Err(error) = loaded {
                broken.push(BrokenPlugin {
                    file: shown_file,
                    error,
                });
            }
        }
        let warnings = set.check_settings(sources);
        set.warnings.extend(warnings);
        Ok((set, broken))
    }

    fn add(&mut self, plugin: Plugin) -> Result<(), Failure> {
        if let Some(refused) = &plugin.cache_refused {
            self.warnings.push(format!(
                "plugin {} ({}): {refused}",
                plugin.name(),
                plugin.shown
            ));
        }
        if !plugin.settings.enabled {
            // Its file is not named after it: the file that is was disabled, this one ran.
            return Err(Failure::config(format!(
                "{} declares plugin `{}`, which the environment file disables",
                plugin.shown,
                plugin.name()
            ))
            .hint(format!(
                "Confiture skips a disabled plugin by its file name ({}.wasm); remove {} from \
                 the plugins directory, or rename the plugin",
                plugin.name(),
                plugin.shown
            )));
        }
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
            if let Some(other) = self
                .plugins
                .iter()
                .find(|p| p.info.strategies.iter().any(|s| s.name == strategy.name))
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
        let names: Vec<String> = self
            .plugins
            .iter()
            .map(|p| p.name().to_string())
            .chain(self.disabled.iter().map(|d| d.name.clone()))
            .collect();
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

    /// Every loaded plugin (disabled ones are in [`PluginSet::disabled`]).
    pub fn all(&self) -> &[Arc<Plugin>] {
        &self.plugins
    }

    /// The plugin called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<Plugin>> {
        self.plugins.iter().find(|p| p.name() == name)
    }

    /// Plugins of `kind`.
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Arc<Plugin>> {
        self.plugins.iter().filter(move |p| p.has(kind))
    }

    /// The enabled plugin providing strategy `name`.
    pub fn strategy(&self, name: &str) -> Option<&Arc<Plugin>> {
        self.of_kind(Kind::Strategy)
            .find(|p| p.info.strategies.iter().any(|s| s.name == name))
    }
}

/// Refuses a `plugins.<name>.enabled: false` entry that no file is named after
/// (`<name>.wasm`): finding the plugin among the other files would mean starting each of them
/// to learn its name, and a disabled plugin must run no code.
fn refuse_unidentified_disabled(sources: &PluginSources, files: &[PathBuf]) -> Result<(), Failure> {
    let stems: Vec<&str> = files
        .iter()
        .filter_map(|f| f.file_stem().and_then(|s| s.to_str()))
        .collect();
    let Some((name, settings)) = sources
        .settings
        .iter()
        .find(|(name, settings)| !settings.enabled && !stems.contains(&name.as_str()))
    else {
        return Ok(());
    };
    let file = sources
        .env_file
        .as_deref()
        .map(|f| shown(sources.root.as_deref(), f))
        .unwrap_or_else(|| "the environment file".into());
    let at = settings.line.map(|l| format!(":{l}")).unwrap_or_default();
    let dir = sources
        .dir
        .as_deref()
        .map(|d| shown(sources.root.as_deref(), d))
        .unwrap_or_else(|| "the plugins directory".into());
    Err(Failure::config(format!(
        "{file}{at}: plugins.{name} disables a plugin, and no plugin file is named {name}.wasm"
    ))
    .hint(format!(
        "a disabled plugin is recognised by its file name, so that it never runs: rename its \
         file in {dir} to {name}.wasm, or remove the entry if the plugin is not installed"
    )))
}

/// The plugins directory of a project, as shown in messages.
pub fn plugins_dir_shown(project: &Project) -> String {
    shown(
        Some(&project.root),
        &project.path(Path::new(&project.env.plugins_dir)),
    )
}
