//! `linting:`, as written, and the [`Severity`] its levels name: rule names and levels are
//! checked by `confiture lint`, which knows the rules.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

/// How serious a finding is: the one severity type of the linter, its configuration
/// (`linting.rules`, `linting.fail_level`), `--fail-level`, plugin metadata (the WIT `severity`,
/// converted in `plugins::metadata`) and the reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never fails a run.
    Info,
    /// Should be fixed; fails a run with `--fail-level warning`.
    Warning,
    /// Must be fixed; fails a run by default.
    Critical,
}

impl Severity {
    /// The lower-case name used in configuration and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    /// Parses `info`, `warning` or `critical`.
    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `linting:` in an environment file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintingSettings {
    /// `rules:` — category or rule id → on/off, a severity, or a map of rules.
    #[serde(default, deserialize_with = "rule_map")]
    pub rules: Vec<(String, RuleSetting)>,
    /// Default `--fail-level` (`warning` or `critical`).
    pub fail_level: Option<String>,
    /// Rules or categories never run (added to `--exclude-rules`).
    #[serde(default)]
    pub exclude_rules: Vec<String>,
    /// Columns looked up by value that need an index.
    pub lookup_keys: Option<Vec<String>>,
    /// Timestamp columns every table should have.
    pub timestamp_columns: Option<Vec<String>>,
    /// Audit columns every table must have (none: not checked).
    pub audit_columns: Option<Vec<String>>,
    /// Column-name words that mean personal data.
    pub pii_columns: Option<Vec<String>>,
    /// Column-name words that mean a secret or token.
    pub secret_columns: Option<Vec<String>>,
    /// Columns that record how long personal data is kept.
    pub retention_columns: Option<Vec<String>>,
    /// PostgreSQL major version the migrations run on, for version-dependent rules.
    pub postgres_version: Option<u32>,
}

/// A value under `linting.rules`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleSetting {
    /// `true` / `false`: enable or disable.
    Switch(bool),
    /// A word: `off`, `info`, `warning` or `critical`.
    Level(String),
    /// A map: a category's rules, or a rule's `enabled` / `severity`, in file order.
    Map(Vec<(String, RuleSetting)>),
}

impl<'de> Deserialize<'de> for RuleSetting {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct SettingVisitor;
        impl<'de> Visitor<'de> for SettingVisitor {
            type Value = RuleSetting;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true, false, off, info, warning, critical, or a map of rules to those")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(RuleSetting::Switch(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RuleSetting::Level(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, RuleSetting>()? {
                    entries.push((key, value));
                }
                Ok(RuleSetting::Map(entries))
            }
        }
        de.deserialize_any(SettingVisitor)
    }
}

/// `linting.rules`: a map, kept in file order.
fn rule_map<'de, D: Deserializer<'de>>(de: D) -> Result<Vec<(String, RuleSetting)>, D::Error> {
    match RuleSetting::deserialize(de)? {
        RuleSetting::Map(entries) => Ok(entries),
        _ => Err(de::Error::custom(
            "expected a map of categories or rule ids, e.g. `security: {warn_plain_text_pii: true}`",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::settings::testing::{failure, parse};

    #[test]
    fn linting_block_of_the_release_notes() {
        let env = parse(
            "linting:\n  rules:\n    security:\n      warn_plain_text_pii: true\n      \
             require_password_hash: true\n    performance:\n      warn_missing_indices: true\n    \
             naming-snake-case: off\n  lookup_keys: [email, slug]\n",
        )
        .unwrap();
        let rules = &env.linting.rules;
        assert_eq!(rules.len(), 3);
        assert_eq!(rules[0].0, "security");
        assert_eq!(
            rules[0].1,
            RuleSetting::Map(vec![
                ("warn_plain_text_pii".into(), RuleSetting::Switch(true)),
                ("require_password_hash".into(), RuleSetting::Switch(true)),
            ])
        );
        assert_eq!(rules[2].1, RuleSetting::Level("off".into()));
        assert_eq!(
            env.linting.lookup_keys.as_deref().map(<[String]>::len),
            Some(2)
        );
        assert_eq!(
            parse("name: x\n").unwrap().linting,
            LintingSettings::default()
        );
    }

    #[test]
    fn linting_unknown_key_and_bad_rules_value() {
        let f = failure("linting:\n  lookup_key: [email]\n");
        assert!(f.message.contains("local.yaml:2:3"), "{}", f.message);
        assert!(f.message.contains("`linting.lookup_key`"), "{}", f.message);
        assert_eq!(f.hint.as_deref(), Some("did you mean `lookup_keys`?"));
        let f = failure("linting:\n  rules: [security]\n");
        assert!(f.message.contains("linting.rules"), "{}", f.message);
    }
}
