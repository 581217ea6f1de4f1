//! Which hook plugin fires on which event, in which order, with which policy.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::plugins::{HookEvent, Kind, Plugin, PluginSet};
use crate::project::{Environment, settings::hooks::HookPolicy};
use crate::strings::did_you_mean;

/// One hook plugin, as it fires in this environment.
#[derive(Debug, Clone)]
pub struct Registered {
    /// The plugin.
    pub plugin: Arc<Plugin>,
    /// The events it fires on (declared by the plugin, narrowed by `hooks.plugins.<name>.events`).
    pub events: Vec<HookEvent>,
    /// What a failure does.
    pub policy: HookPolicy,
    /// Its time limit per call, ms.
    pub timeout_ms: u64,
}

/// A hook plugin that does not fire here, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    /// Plugin name.
    pub plugin: String,
    /// Why it does not fire.
    pub reason: String,
}

/// The hooks of a run, in firing order.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    /// Hooks that fire, in order.
    pub hooks: Vec<Registered>,
    /// Hook plugins that do not fire in this environment.
    pub skipped: Vec<Skipped>,
    /// Configuration problems that do not stop the run.
    pub warnings: Vec<String>,
}

impl Registration {
    /// Resolves the hooks of `plugins` for `env`: every enabled plugin exporting hooks handles
    /// the events its metadata declares, narrowed by `hooks.plugins.<name>`; plugins named in
    /// `hooks.order` come first in that order, the others follow by name.
    pub fn resolve(plugins: &PluginSet, env: &Environment) -> Self {
        let settings = &env.hooks;
        let file = env.file.display().to_string();
        let mut registration = Registration::default();
        let mut hook_plugins: Vec<&Arc<Plugin>> =
            plugins.all().iter().filter(|p| p.has(Kind::Hook)).collect();
        let rank = |p: &Arc<Plugin>| {
            settings
                .order
                .iter()
                .position(|n| n == p.name())
                .unwrap_or(usize::MAX)
        };
        hook_plugins.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.name().cmp(b.name())));
        let names: Vec<String> = hook_plugins.iter().map(|p| p.name().to_string()).collect();
        let unknown = |key: &str, name: &str| {
            let hint = did_you_mean(name, &names)
                .map(|b| format!(" (did you mean `{b}`?)"))
                .unwrap_or_default();
            format!("{file}: {key} names `{name}`, which is not a loaded hook plugin{hint}")
        };
        for name in &settings.order {
            if !names.contains(name) {
                registration.warnings.push(unknown("hooks.order", name));
            }
        }
        for name in settings.plugins.keys() {
            if !names.contains(name) {
                registration
                    .warnings
                    .push(unknown(&format!("hooks.plugins.{name}"), name));
            }
        }
        for disabled in &plugins.disabled {
            registration.skipped.push(Skipped {
                plugin: disabled.name.clone(),
                reason: format!(
                    "disabled (plugins.{}.enabled: false): {} is not started",
                    disabled.name, disabled.file
                ),
            });
        }
        for plugin in hook_plugins {
            let name = plugin.name().to_string();
            let own = settings.plugins.get(&name).cloned().unwrap_or_default();
            if let Some(envs) = &own.environments
                && !envs.iter().any(|e| e == &env.name)
            {
                registration.skipped.push(Skipped {
                    plugin: name,
                    reason: format!(
                        "only in environment(s) {} (this is `{}`)",
                        envs.join(", "),
                        env.name
                    ),
                });
                continue;
            }
            let declared: Vec<HookEvent> = HookEvent::ALL
                .into_iter()
                .filter(|e| plugin.handles(*e))
                .collect();
            let events = match &own.events {
                None => declared,
                Some(wanted) => {
                    for w in wanted {
                        if !declared.contains(w) {
                            registration.warnings.push(format!(
                                "{file}{}: hooks.plugins.{name}.events lists `{w}`, which the \
                                 plugin does not handle; it declares {}",
                                own.line.map(|l| format!(":{l}")).unwrap_or_default(),
                                declared
                                    .iter()
                                    .map(|e| e.name())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ));
                        }
                    }
                    declared
                        .into_iter()
                        .filter(|e| wanted.contains(e))
                        .collect()
                }
            };
            registration.hooks.push(Registered {
                timeout_ms: plugin.timeout_ms(Kind::Hook),
                plugin: plugin.clone(),
                events,
                policy: own.policy,
            });
        }
        registration
    }

    /// The hooks that fire on `event`, in order.
    pub fn for_event(&self, event: HookEvent) -> impl Iterator<Item = &Registered> {
        self.hooks.iter().filter(move |h| h.events.contains(&event))
    }

    /// True when no hook fires on any event.
    pub fn is_empty(&self) -> bool {
        self.hooks.iter().all(|h| h.events.is_empty())
    }

    /// Per event, the hooks that fire (for `hooks list`).
    pub fn by_event(&self) -> BTreeMap<usize, (HookEvent, Vec<&Registered>)> {
        HookEvent::ALL
            .iter()
            .enumerate()
            .map(|(i, e)| (i, (*e, self.for_event(*e).collect())))
            .collect()
    }
}
