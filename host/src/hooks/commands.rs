//! `confiture hooks list`: per event, the hooks that fire in this environment, in order,
//! with their policy and time limit.

use std::io::Write;

use serde::Serialize;

use super::dispatch::load_registration;
use super::registry::{Registration, Skipped};
use crate::context::Globals;
use crate::error::ExitCode;
use crate::output::{Report, paint, style};
use crate::plugins::PluginSources;
use crate::project::settings::hooks::HookPolicy;

/// One hook firing on an event.
#[derive(Debug, Serialize)]
pub struct ListedHook {
    /// Position on this event, from 1.
    pub position: usize,
    /// The plugin.
    pub plugin: String,
    /// Its component file.
    pub file: String,
    /// Failure policy.
    pub policy: HookPolicy,
    /// Time limit per call, ms.
    pub timeout_ms: u64,
    /// Database grants it holds.
    pub granted: Vec<crate::project::settings::plugins::Grant>,
}

/// One event and its hooks.
#[derive(Debug, Serialize)]
pub struct ListedEvent {
    /// The event (WIT spelling).
    pub event: &'static str,
    /// Hooks in firing order.
    pub hooks: Vec<ListedHook>,
}

/// `hooks list`.
#[derive(Debug, Serialize)]
pub struct HooksReport {
    /// The environment.
    pub environment: String,
    /// Every event, in the order a run fires them.
    pub events: Vec<ListedEvent>,
    /// Hook plugins that do not fire in this environment.
    pub skipped: Vec<Skipped>,
}

impl HooksReport {
    fn new(environment: String, registration: &Registration) -> Self {
        let events = registration
            .by_event()
            .into_values()
            .map(|(event, hooks)| ListedEvent {
                event: event.name(),
                hooks: hooks
                    .iter()
                    .enumerate()
                    .map(|(i, h)| ListedHook {
                        position: i + 1,
                        plugin: h.plugin.name().to_string(),
                        file: h.plugin.shown.clone(),
                        policy: h.policy,
                        timeout_ms: h.timeout_ms,
                        granted: h.plugin.granted.clone(),
                    })
                    .collect(),
            })
            .collect();
        HooksReport {
            environment,
            events,
            skipped: registration.skipped.clone(),
        }
    }
}

impl Report for HooksReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "Hooks in environment `{}`:", self.environment)?;
        for event in &self.events {
            if event.hooks.is_empty() {
                writeln!(out, "  {:<14} {}", event.event, paint(style::DIM, "(none)"))?;
                continue;
            }
            writeln!(out, "  {}", event.event)?;
            for h in &event.hooks {
                let granted = if h.granted.is_empty() {
                    "no database".to_string()
                } else {
                    h.granted
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                writeln!(
                    out,
                    "    {}. {}  policy {}, timeout {} ms, {granted}  ({})",
                    h.position, h.plugin, h.policy, h.timeout_ms, h.file
                )?;
            }
        }
        for s in &self.skipped {
            writeln!(
                out,
                "  {} {}: {}",
                paint(style::WARN, "not firing"),
                s.plugin,
                s.reason
            )?;
        }
        Ok(())
    }
}

/// `confiture hooks list`.
pub fn list(g: &Globals) -> anyhow::Result<ExitCode> {
    let project = g.project()?;
    let sources = PluginSources::from_project(&project, &g.plugin_files);
    let registration = if sources.discover()?.is_empty() {
        Registration::default()
    } else {
        load_registration(g, &project, &sources)?
    };
    g.out
        .report(&HooksReport::new(project.env.name.clone(), &registration));
    Ok(ExitCode::Ok)
}
