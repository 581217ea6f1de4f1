//! What a plugin says about itself (`describe`), in host types, checked against its exports.

use serde::Serialize;

use super::bindings::{metadata, types};
use super::component::Kind;
use super::hooks::HookEvent;
use crate::error::Failure;
use crate::project::settings::linting::Severity;
use crate::project::settings::plugins::Grant;
use crate::strings::is_plugin_name;
use crate::text::neutralise;

/// One strategy a plugin provides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StrategyInfo {
    /// Name used in `anonymization.yaml`.
    pub name: String,
    /// One line of description.
    pub description: String,
    /// Other columns of the row it needs to see.
    pub context_columns: Vec<String>,
    /// PostgreSQL types it accepts (empty: any).
    pub accepted_types: Vec<String>,
    /// Output depends only on the input and the keyed hash.
    pub deterministic: bool,
}

/// One lint rule a plugin provides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    /// Stable identifier.
    pub id: String,
    /// Category (naming, structure, security, ...).
    pub category: String,
    /// Severity unless the configuration overrides it.
    pub default_severity: Severity,
    /// What it checks and why.
    pub description: String,
}

/// Everything a plugin declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginInfo {
    /// Unique name.
    pub name: String,
    /// Its own version.
    pub version: String,
    /// One line of description.
    pub description: String,
    /// Capabilities it asks for.
    pub capabilities: Vec<Grant>,
    /// Hook events it handles (`pre-execute`, ...).
    pub hooks: Vec<String>,
    /// Strategies it provides.
    pub strategies: Vec<StrategyInfo>,
    /// Lint rules it provides.
    pub rules: Vec<RuleInfo>,
}

/// The WIT severity a plugin declares or reports, as the host's one severity type.
impl From<types::Severity> for Severity {
    fn from(severity: types::Severity) -> Self {
        match severity {
            types::Severity::Info => Severity::Info,
            types::Severity::Warning => Severity::Warning,
            types::Severity::Critical => Severity::Critical,
        }
    }
}

impl From<metadata::PluginInfo> for PluginInfo {
    fn from(info: metadata::PluginInfo) -> Self {
        let mut capabilities: Vec<Grant> = info
            .capabilities
            .iter()
            .map(|c| match c {
                types::Capability::DbRead => Grant::DbRead,
                types::Capability::DbWrite => Grant::DbWrite,
            })
            .collect();
        capabilities.sort();
        capabilities.dedup();
        PluginInfo {
            name: info.name,
            version: neutralise(&info.version).into_owned(),
            description: neutralise(&info.description).into_owned(),
            capabilities,
            hooks: info
                .hooks
                .iter()
                .map(|e| HookEvent::from(*e).name().to_string())
                .collect(),
            strategies: info
                .strategies
                .into_iter()
                .map(|s| StrategyInfo {
                    name: s.name,
                    description: neutralise(&s.description).into_owned(),
                    context_columns: s.context_columns,
                    accepted_types: s.accepted_types,
                    deterministic: s.deterministic,
                })
                .collect(),
            rules: info
                .rules
                .into_iter()
                .map(|r| RuleInfo {
                    id: r.id,
                    category: r.category,
                    default_severity: r.default_severity.into(),
                    description: neutralise(&r.description).into_owned(),
                })
                .collect(),
        }
    }
}

impl PluginInfo {
    /// Checks the declaration against itself and against the kinds the component exports.
    pub fn validate(&self, file: &str, kinds: &[Kind]) -> Result<(), Failure> {
        let bad = |what: String| {
            Failure::config(format!("{file}: describe() {what}")).hint(
                "fix the plugin's metadata and rebuild it; the host checks it against the \
                 component's exports",
            )
        };
        if !is_plugin_name(&self.name) {
            return Err(bad(format!(
                "returned the name `{}`, which is not lower-case `a-z0-9-` starting with a letter",
                self.name.escape_debug()
            )));
        }
        if self.version.trim().is_empty() || self.version.len() > 64 {
            return Err(bad(format!(
                "of plugin {} returned no usable version",
                self.name
            )));
        }
        let declared = [
            (Kind::Hook, !self.hooks.is_empty(), "hook events"),
            (Kind::Strategy, !self.strategies.is_empty(), "strategies"),
            (Kind::Lint, !self.rules.is_empty(), "lint rules"),
        ];
        for (kind, has, what) in declared {
            let exported = kinds.contains(&kind);
            if has && !exported {
                return Err(bad(format!(
                    "of plugin {} declares {what}, but the component does not export \
                     confiture:plugin/{}",
                    self.name,
                    kind.interface()
                )));
            }
            if exported && !has {
                return Err(bad(format!(
                    "of plugin {} declares no {what}, but the component exports \
                     confiture:plugin/{}",
                    self.name,
                    kind.interface()
                )));
            }
        }
        let mut names: Vec<&str> = self.strategies.iter().map(|s| s.name.as_str()).collect();
        names.extend(self.rules.iter().map(|r| r.id.as_str()));
        if let Some(empty) = names.iter().find(|n| n.trim().is_empty()) {
            return Err(bad(format!(
                "of plugin {} declares a strategy or rule with an empty name `{empty}`",
                self.name
            )));
        }
        let mut sorted_strategies: Vec<&str> =
            self.strategies.iter().map(|s| s.name.as_str()).collect();
        sorted_strategies.sort();
        if let Some(w) = sorted_strategies.windows(2).find(|w| w[0] == w[1]) {
            return Err(bad(format!(
                "of plugin {} declares strategy `{}` twice",
                self.name, w[0]
            )));
        }
        let mut rules: Vec<&str> = self.rules.iter().map(|r| r.id.as_str()).collect();
        rules.sort();
        if let Some(w) = rules.windows(2).find(|w| w[0] == w[1]) {
            return Err(bad(format!(
                "of plugin {} declares rule `{}` twice",
                self.name, w[0]
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> PluginInfo {
        PluginInfo {
            name: "email-strategy".into(),
            version: "0.1.0".into(),
            description: String::new(),
            capabilities: vec![],
            hooks: vec![],
            strategies: vec![StrategyInfo {
                name: "email_keep_domain".into(),
                description: String::new(),
                context_columns: vec![],
                accepted_types: vec![],
                deterministic: true,
            }],
            rules: vec![],
        }
    }

    #[test]
    fn declarations_must_match_exports() {
        assert!(info().validate("p.wasm", &[Kind::Strategy]).is_ok());
        let f = info().validate("p.wasm", &[Kind::Lint]).unwrap_err();
        assert!(
            f.message.contains(
                "p.wasm: describe() of plugin email-strategy declares strategies, but the \
                 component does not export confiture:plugin/strategy"
            ),
            "{}",
            f.message
        );
        let f = info()
            .validate("p.wasm", &[Kind::Strategy, Kind::Hook])
            .unwrap_err();
        assert!(
            f.message.contains("declares no hook events"),
            "{}",
            f.message
        );
        let mut bad = info();
        bad.name = "Email Strategy".into();
        assert!(bad.validate("p.wasm", &[Kind::Strategy]).is_err());
        let mut twice = info();
        twice.strategies.push(twice.strategies[0].clone());
        let f = twice.validate("p.wasm", &[Kind::Strategy]).unwrap_err();
        assert!(f.message.contains("twice"), "{}", f.message);
    }
}
