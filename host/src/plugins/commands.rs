//! `confiture plugins list` and `confiture plugins inspect`.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::cache::CacheStatus;
use super::component::{Item, Kind, check_header, interface};
use super::metadata::PluginInfo;
use super::plugin::Plugin;
use super::registry::{DisabledPlugin, PluginSet, PluginSources, plugins_dir_shown};
use super::run::engine;
use crate::context::Globals;
use crate::error::{ExitCode, Failure};
use crate::output::{Report, paint, style};
use crate::project::settings::plugins::Grant;
use crate::text::neutralise;

/// Where the command's plugins come from: the project (when there is one) plus `--plugin`.
pub fn sources(g: &Globals) -> anyhow::Result<(PluginSources, Option<String>)> {
    match g.project() {
        Ok(project) => Ok((
            PluginSources::from_project(&project, &g.plugin_files),
            Some(plugins_dir_shown(&project)),
        )),
        Err(_) if !g.plugin_files.is_empty() => Ok((PluginSources::files(&g.plugin_files), None)),
        Err(err) => Err(err),
    }
}

/// One row of `plugins list`.
#[derive(Debug, Serialize)]
pub struct PluginRow {
    /// The component file.
    pub file: String,
    /// Declared name.
    pub name: String,
    /// Declared version.
    pub version: String,
    /// One line of description.
    pub description: String,
    /// Kinds exported.
    pub kinds: Vec<Kind>,
    /// The WIT world it matches.
    pub world: String,
    /// Hook events handled.
    pub hooks: Vec<String>,
    /// Strategy names.
    pub strategies: Vec<String>,
    /// Rule ids.
    pub rules: Vec<String>,
    /// Capabilities asked for.
    pub capabilities_asked: Vec<Grant>,
    /// Capabilities asked for and granted.
    pub capabilities_granted: Vec<Grant>,
    /// The role its SQL runs as, when one is configured.
    pub role: Option<String>,
    /// Memory cap, MiB.
    pub memory_mb: u64,
    /// Load time, milliseconds.
    pub load_ms: f64,
    /// What the compiled-artifact cache did.
    pub cache: CacheStatus,
}

impl From<&Plugin> for PluginRow {
    fn from(p: &Plugin) -> Self {
        PluginRow {
            file: p.shown.clone(),
            name: p.info.name.clone(),
            version: p.info.version.clone(),
            description: p.info.description.clone(),
            kinds: p.shape.kinds.clone(),
            world: p.shape.world.clone(),
            hooks: p.info.hooks.clone(),
            strategies: p.info.strategies.iter().map(|s| s.name.clone()).collect(),
            rules: p.info.rules.iter().map(|r| r.id.clone()).collect(),
            capabilities_asked: p.info.capabilities.clone(),
            capabilities_granted: p.granted.clone(),
            role: p.db_role().map(str::to_string),
            memory_mb: p.memory_mb(),
            load_ms: (p.load.millis * 10.0).round() / 10.0,
            cache: p.load.cache,
        }
    }
}

/// A plugin file `plugins list` could not load.
#[derive(Debug, Serialize)]
pub struct BrokenRow {
    /// The file.
    pub file: String,
    /// Why.
    pub error: String,
    /// What to do, when there is something to say.
    pub hint: Option<String>,
}

/// `plugins list`.
#[derive(Debug, Serialize)]
pub struct ListReport {
    /// The plugins directory scanned, when in a project.
    pub plugins_dir: Option<String>,
    /// Every plugin loaded.
    pub plugins: Vec<PluginRow>,
    /// Plugins the environment file turns off.
    pub disabled: Vec<DisabledPlugin>,
    /// Files that could not be loaded.
    pub broken: Vec<BrokenRow>,
    /// Configuration warnings.
    pub warnings: Vec<String>,
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Report for ListReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.plugins.is_empty() && self.disabled.is_empty() && self.broken.is_empty() {
            let place = self.plugins_dir.as_deref().unwrap_or("--plugin");
            return writeln!(out, "No plugins found in {place}.");
        }
        for p in &self.plugins {
            writeln!(
                out,
                "{} {}  {}",
                paint(style::BOLD, &p.name),
                p.version,
                paint(style::DIM, neutralise(&p.file))
            )?;
            if !p.description.is_empty() {
                writeln!(out, "  {}", p.description)?;
            }
            writeln!(out, "  kinds:        {} ({})", join(&p.kinds), p.world)?;
            if !p.hooks.is_empty() {
                writeln!(out, "  hooks:        {}", join(&p.hooks))?;
            }
            if !p.strategies.is_empty() {
                writeln!(out, "  strategies:   {}", join(&p.strategies))?;
            }
            if !p.rules.is_empty() {
                writeln!(out, "  rules:        {}", join(&p.rules))?;
            }
            writeln!(
                out,
                "  capabilities: asked {}; granted {}",
                join(&p.capabilities_asked),
                join(&p.capabilities_granted)
            )?;
            writeln!(
                out,
                "  loaded in {:.1} ms ({}); memory limit {} MiB",
                p.load_ms,
                cache_words(p.cache),
                p.memory_mb
            )?;
        }
        for d in &self.disabled {
            writeln!(
                out,
                "{} {}  {}",
                paint(style::BOLD, &d.name),
                paint(style::WARN, "(disabled, not started)"),
                paint(style::DIM, neutralise(&d.file))
            )?;
        }
        for b in &self.broken {
            writeln!(
                out,
                "{} {}",
                paint(style::ERR, "broken"),
                paint(style::BOLD, neutralise(&b.file))
            )?;
            writeln!(out, "  {}", neutralise(&b.error))?;
            if let Some(hint) = &b.hint {
                writeln!(out, "  {} {hint}", paint(style::BOLD, "hint:"))?;
            }
        }
        Ok(())
    }
}

/// What the compiled-artifact cache did, in words.
fn cache_words(cache: CacheStatus) -> &'static str {
    match cache {
        CacheStatus::Hit => "cache hit",
        CacheStatus::Miss => "compiled, cached",
        CacheStatus::Replaced => "compiled, bad cache entry replaced",
        CacheStatus::Off => "compiled, cache off",
    }
}

/// `confiture plugins list`: every plugin, loaded, disabled or broken; exits 5 when any is
/// broken.
pub fn list(g: &Globals) -> anyhow::Result<ExitCode> {
    let (sources, plugins_dir) = sources(g)?;
    let engine = engine(g)?;
    let (set, broken) = PluginSet::scan(&engine, &sources)?;
    for warning in &set.warnings {
        g.out.warn(warning);
    }
    let broken: Vec<BrokenRow> = broken
        .into_iter()
        .map(|b| {
            let failure = crate::error::failure_of(&b.error);
            BrokenRow {
                file: b.file,
                error: failure.map_or_else(|| format!("{:#}", b.error), |f| f.message.clone()),
                hint: failure.and_then(|f| f.hint.clone()),
            }
        })
        .collect();
    let code = if broken.is_empty() {
        ExitCode::Ok
    } else {
        ExitCode::Config
    };
    g.out.report(&ListReport {
        plugins_dir,
        plugins: set
            .all()
            .iter()
            .map(|p| PluginRow::from(p.as_ref()))
            .collect(),
        disabled: set.disabled.clone(),
        broken,
        warnings: set.warnings.clone(),
    });
    Ok(code)
}

/// `plugins inspect`.
#[derive(Debug, Serialize)]
pub struct InspectReport {
    /// The file.
    pub file: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
    /// The world it matches (when it is a valid plugin).
    pub world: Option<String>,
    /// Its imports.
    pub imports: Vec<Item>,
    /// Its exports.
    pub exports: Vec<Item>,
    /// Its metadata (when it is a valid plugin).
    pub metadata: Option<PluginInfo>,
    /// Why it cannot be used as a plugin, if it cannot.
    pub problem: Option<String>,
    /// The contract version it was built against (when it is a valid plugin).
    pub contract: Option<String>,
    /// Load time in milliseconds and what the compiled-artifact cache did (when it loaded).
    pub load: Option<(f64, CacheStatus)>,
}

impl Report for InspectReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "{}", paint(style::BOLD, &self.file))?;
        writeln!(out, "  sha256 {}  ({} bytes)", self.sha256, self.bytes)?;
        if let Some(world) = &self.world {
            let version = self.contract.as_deref().unwrap_or("?");
            writeln!(
                out,
                "  world: confiture:plugin/{world} (contract {version})"
            )?;
        }
        if let Some((millis, cache)) = self.load {
            writeln!(out, "  loaded in {millis:.1} ms ({})", cache_words(cache))?;
        }
        for (title, items) in [("imports", &self.imports), ("exports", &self.exports)] {
            writeln!(out, "{title}:")?;
            for item in items {
                writeln!(out, "  {}", item.name)?;
                for f in &item.functions {
                    writeln!(out, "    {}", paint(style::DIM, f))?;
                }
            }
        }
        if let Some(info) = &self.metadata {
            writeln!(out, "metadata:")?;
            writeln!(out, "  name:         {} {}", info.name, info.version)?;
            writeln!(out, "  description:  {}", info.description)?;
            writeln!(out, "  capabilities: {}", join(&info.capabilities))?;
            if !info.hooks.is_empty() {
                writeln!(out, "  hooks:        {}", join(&info.hooks))?;
            }
            for s in &info.strategies {
                writeln!(
                    out,
                    "  strategy {}: {} (context: {}; types: {}; deterministic: {})",
                    s.name,
                    s.description,
                    join(&s.context_columns),
                    join(&s.accepted_types),
                    s.deterministic
                )?;
            }
            for r in &info.rules {
                writeln!(
                    out,
                    "  rule {} [{}, {}]: {}",
                    r.id, r.category, r.default_severity, r.description
                )?;
            }
        }
        if let Some(problem) = &self.problem {
            writeln!(out, "{} {problem}", paint(style::ERR, "not usable:"))?;
        }
        Ok(())
    }
}

/// `confiture plugins inspect FILE`: the interface of any component, and its metadata when it
/// is a valid plugin. Exits 5 when it is not.
pub fn inspect(g: &Globals, file: &Path) -> anyhow::Result<ExitCode> {
    let shown_file = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|e| {
        Failure::config(format!("cannot read {shown_file}: {e}"))
            .hint("give the path of a .wasm component")
    })?;
    check_header(&shown_file, &bytes)?;
    let engine = engine(g)?;
    let sources = g
        .project()
        .map(|project| PluginSources::from_project(&project, &[]))
        .unwrap_or_default();
    // One load, through the compiled-artifact cache as `plugins list` does; only a component
    // that fails to load as a plugin is looked at again (from the cache it was just put in).
    let loaded = Plugin::load(&engine, Path::new(file), shown_file.clone(), |name| {
        sources.settings_for(name)
    });
    let (imports, exports, problem) = match &loaded {
        Ok(plugin) => (
            plugin.shape.imports.clone(),
            plugin.shape.exports.clone(),
            None,
        ),
        Err(err) => {
            let component = engine.component(&shown_file, &bytes)?.component;
            let (imports, exports) = interface(&engine.engine, &component);
            (imports, exports, Some(format!("{err:#}")))
        }
    };
    let plugin = loaded.as_ref().ok();
    g.out.report(&InspectReport {
        file: shown_file,
        sha256: super::cache::sha256_hex(&bytes),
        bytes: bytes.len() as u64,
        world: plugin.map(|p| p.shape.world.clone()),
        imports,
        exports,
        metadata: plugin.map(|p| p.info.clone()),
        problem,
        contract: plugin.map(|p| p.shape.contract.clone()),
        load: plugin.map(|p| ((p.load.millis * 10.0).round() / 10.0, p.load.cache)),
    });
    Ok(if loaded.is_ok() {
        ExitCode::Ok
    } else {
        ExitCode::Config
    })
}
