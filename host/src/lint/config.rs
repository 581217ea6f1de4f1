//! The effective configuration of a run: which rules run at which severity, the rules' options,
//! and the fail level — from the environment's `linting:` block and the command line.

use std::collections::HashMap;

use super::registry::{ALIASES, Registry, Target};
use super::rule::{Category, RuleOptions, Severity};
use crate::error::Failure;
use crate::project::{settings::linting::LintingSettings, settings::linting::RuleSetting};
use crate::strings::did_you_mean;

/// Which rules run and how.
#[derive(Debug, Clone)]
pub struct LintConfig {
    /// Enabled rules → the severity override, if the configuration set one.
    enabled: HashMap<String, Option<Severity>>,
    /// The options rules read.
    pub options: RuleOptions,
    /// The fail level from the configuration, if set (`--fail-level` wins).
    pub fail_level: Option<Severity>,
}

impl LintConfig {
    /// True when the rule runs.
    pub fn is_enabled(&self, id: &str) -> bool {
        self.enabled.contains_key(id)
    }

    /// The severity a finding of rule `id` gets: the configured one, else what the rule said.
    pub fn severity(&self, id: &str, reported: Severity) -> Severity {
        self.enabled.get(id).copied().flatten().unwrap_or(reported)
    }

    /// The configured severity of a rule, if one was set.
    pub fn override_of(&self, id: &str) -> Option<Severity> {
        self.enabled.get(id).copied().flatten()
    }
}

/// Where configuration errors point: the environment file's shown path and its text.
pub struct Source<'a> {
    /// The file as shown in messages.
    pub shown: &'a str,
    /// Its text, to find the line of a key (empty when there is no file).
    pub text: &'a str,
}

impl Source<'_> {
    /// `file:line` of the first `key:` in the file, else just the file.
    fn at(&self, key: &str) -> String {
        match line_of(self.text, key) {
            Some(line) => format!("{}:{line}", self.shown),
            None => self.shown.to_string(),
        }
    }

    fn unknown(&self, path: &str, name: &str, candidates: &[String], what: &str) -> Failure {
        let failure = Failure::config(format!(
            "{}: {path}: unknown {what} `{name}`",
            self.at(name)
        ));
        match did_you_mean(name, candidates) {
            Some(best) => failure.hint(format!("did you mean `{best}`?")),
            None => failure.hint("`confiture lint --list-rules` lists every rule and category"),
        }
    }
}

/// The 1-based line of the first `key` followed by `:` that is not part of a longer name.
fn line_of(text: &str, key: &str) -> Option<usize> {
    let is_name = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    text.lines()
        .position(|line| {
            line.match_indices(key).any(|(i, _)| {
                let before_ok = line[..i].chars().next_back().is_none_or(|c| !is_name(c));
                let rest = &line[i + key.len()..];
                before_ok && rest.trim_start().starts_with(':') && !rest.starts_with(is_name)
            })
        })
        .map(|i| i + 1)
}

/// Builds the effective configuration. `exclude` holds `--exclude-rules`; `runner_lock_timeout`
/// says whether the migration runner sets `lock_timeout`.
pub fn resolve(
    settings: &LintingSettings,
    registry: &Registry,
    source: &Source<'_>,
    exclude: &[String],
    runner_lock_timeout: bool,
) -> Result<LintConfig, Failure> {
    if let Some(version) = settings.postgres_version
        && !(9..=99).contains(&version)
    {
        return Err(Failure::config(format!(
            "{}: linting.postgres_version: {version} is not a PostgreSQL major version",
            source.at("postgres_version")
        ))
        .hint("write the major version the migrations run on, e.g. `postgres_version: 15`"));
    }
    let mut enabled: HashMap<String, Option<Severity>> = registry
        .rules()
        .iter()
        .filter(|r| r.enabled_by_default())
        .map(|r| (r.id().to_string(), None))
        .collect();
    let names = registry.names();

    // Categories first, then single rules, so a rule's setting refines its category's.
    let mut by_rule: Vec<(String, &RuleSetting, String)> = Vec::new();
    for (key, value) in &settings.rules {
        match registry.target(key) {
            Some(Target::Category(category)) => match value {
                RuleSetting::Map(entries) => {
                    for (name, setting) in entries {
                        let path = format!("linting.rules.{key}");
                        let id = rule_in(registry, category, name, source, &path)?;
                        by_rule.push((id, setting, format!("{path}.{name}")));
                    }
                }
                other => {
                    let (on, level) = switch(other, source, &format!("linting.rules.{key}"), key)?;
                    for rule in registry.rules().iter().filter(|r| r.category() == category) {
                        apply(&mut enabled, rule.id(), on, level);
                    }
                }
            },
            Some(Target::Rule(id)) => {
                by_rule.push((id.to_string(), value, format!("linting.rules.{key}")))
            }
            None => return Err(source.unknown("linting.rules", key, &names, "rule or category")),
        }
    }
    for (id, setting, path) in by_rule {
        let (on, level) = rule_setting(setting, source, &path)?;
        apply(&mut enabled, &id, on, level);
    }

    for name in settings.exclude_rules.iter().chain(exclude) {
        let target = registry.target(name).ok_or_else(|| {
            let failure = Failure::config(format!("unknown rule or category `{name}` to exclude"));
            match did_you_mean(name, &names) {
                Some(best) => failure.hint(format!("did you mean `{best}`?")),
                None => failure.hint("`confiture lint --list-rules` lists every rule and category"),
            }
        })?;
        for rule in registry.rules() {
            if Registry::selects(target, rule.as_ref()) {
                enabled.remove(rule.id());
            }
        }
    }

    let fail_level = match &settings.fail_level {
        None => None,
        Some(word) => Some(match Severity::parse(word) {
            Some(Severity::Info) | None => {
                return Err(Failure::config(format!(
                    "{}: linting.fail_level: `{word}` is not a fail level",
                    source.at("fail_level")
                ))
                .hint("use `warning` or `critical`"));
            }
            Some(level) => level,
        }),
    };

    Ok(LintConfig {
        enabled,
        options: options(settings, runner_lock_timeout),
        fail_level,
    })
}

fn apply(
    enabled: &mut HashMap<String, Option<Severity>>,
    id: &str,
    on: bool,
    level: Option<Severity>,
) {
    if on {
        let entry = enabled.entry(id.to_string()).or_default();
        if level.is_some() {
            *entry = level;
        }
    } else {
        enabled.remove(id);
    }
}

/// A rule named under a category: it must exist and belong to that category.
fn rule_in(
    registry: &Registry,
    category: Category,
    name: &str,
    source: &Source<'_>,
    path: &str,
) -> Result<String, Failure> {
    match registry.get(name) {
        Some(rule) if rule.category() == category => Ok(rule.id().to_string()),
        Some(rule) => Err(Failure::config(format!(
            "{}: {path}: rule `{name}` is in category `{}`, not `{category}`",
            source.at(name),
            rule.category()
        ))
        .hint(format!("move it under `linting.rules.{}`", rule.category()))),
        None => {
            let mut candidates: Vec<String> = registry
                .rules()
                .iter()
                .filter(|r| r.category() == category)
                .map(|r| r.id().to_string())
                .collect();
            candidates.extend(
                ALIASES
                    .iter()
                    .filter(|(_, id)| registry.get(id).is_some_and(|r| r.category() == category))
                    .map(|(alias, _)| alias.to_string()),
            );
            Err(source.unknown(path, name, &candidates, "rule"))
        }
    }
}

/// `true`/`false`/`off`/a severity → (enabled, severity override).
fn switch(
    setting: &RuleSetting,
    source: &Source<'_>,
    path: &str,
    key: &str,
) -> Result<(bool, Option<Severity>), Failure> {
    match setting {
        RuleSetting::Switch(on) => Ok((*on, None)),
        RuleSetting::Level(word) if word == "off" => Ok((false, None)),
        RuleSetting::Level(word) => match Severity::parse(word) {
            Some(level) => Ok((true, Some(level))),
            None => Err(Failure::config(format!(
                "{}: {path}: `{word}` is not a setting",
                source.at(key)
            ))
            .hint("use true, false, off, info, warning or critical")),
        },
        RuleSetting::Map(_) => Err(Failure::config(format!(
            "{}: {path}: expected true, false, off, info, warning or critical",
            source.at(key)
        ))),
    }
}

/// A rule's setting: a switch, a level, or `{enabled: bool, severity: level}`.
fn rule_setting(
    setting: &RuleSetting,
    source: &Source<'_>,
    path: &str,
) -> Result<(bool, Option<Severity>), Failure> {
    let key = path.rsplit('.').next().unwrap_or(path);
    let RuleSetting::Map(entries) = setting else {
        return switch(setting, source, path, key);
    };
    let (mut on, mut level) = (true, None);
    for (name, value) in entries {
        match (name.as_str(), value) {
            ("enabled", RuleSetting::Switch(b)) => on = *b,
            ("severity", RuleSetting::Level(_)) => {
                let (enabled, l) = switch(value, source, &format!("{path}.severity"), "severity")?;
                on &= enabled;
                level = l;
            }
            ("enabled" | "severity", _) => {
                return Err(Failure::config(format!(
                    "{}: {path}.{name}: wrong type",
                    source.at(name)
                ))
                .hint(
                    "`enabled` takes true or false; `severity` takes info, warning or critical",
                ));
            }
            _ => {
                let keys = ["enabled".to_string(), "severity".to_string()];
                return Err(source.unknown(path, name, &keys, "key"));
            }
        }
    }
    Ok((on, level))
}

/// The rules' options: configured lists replace the defaults.
fn options(settings: &LintingSettings, runner_lock_timeout: bool) -> RuleOptions {
    let defaults = RuleOptions::default();
    let list = |given: &Option<Vec<String>>, default: Vec<String>| {
        given
            .as_ref()
            .map(|l| l.iter().map(|s| s.trim().to_lowercase()).collect())
            .unwrap_or(default)
    };
    RuleOptions {
        lookup_keys: list(&settings.lookup_keys, defaults.lookup_keys),
        timestamp_columns: list(&settings.timestamp_columns, defaults.timestamp_columns),
        audit_columns: list(&settings.audit_columns, defaults.audit_columns),
        pii_columns: list(&settings.pii_columns, defaults.pii_columns),
        secret_columns: list(&settings.secret_columns, defaults.secret_columns),
        retention_columns: list(&settings.retention_columns, defaults.retention_columns),
        runner_sets_lock_timeout: runner_lock_timeout,
        postgres_version: settings
            .postgres_version
            .unwrap_or(defaults.postgres_version),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::Environment;
    use std::path::Path;

    fn config(yaml: &str, exclude: &[&str]) -> Result<LintConfig, Failure> {
        let env = Environment::parse(
            yaml,
            "local",
            Path::new("/p/db/environments/local.yaml"),
            Path::new("/p"),
            |_| None,
        )
        .expect("valid YAML");
        let source = Source {
            shown: "db/environments/local.yaml",
            text: yaml,
        };
        let exclude: Vec<String> = exclude.iter().map(|s| s.to_string()).collect();
        resolve(&env.linting, &Registry::builtin(), &source, &exclude, true)
    }

    #[test]
    fn release_notes_block_works_as_written() {
        let c = config(
            "linting:\n  rules:\n    security:\n      warn_plain_text_pii: true\n      \
             require_password_hash: true\n    performance:\n      warn_missing_indices: true\n",
            &[],
        )
        .unwrap();
        assert!(c.is_enabled("plain-text-pii"));
        assert!(c.is_enabled("password-not-hashed"));
        assert!(c.is_enabled("missing-lookup-index"));
        let c = config(
            "linting:\n  rules:\n    security:\n      warn_plain_text_pii: false\n",
            &[],
        )
        .unwrap();
        assert!(!c.is_enabled("plain-text-pii"));
        assert!(c.is_enabled("password-not-hashed"));
    }

    #[test]
    fn categories_rules_severities_and_exclusions() {
        let c = config(
            "linting:\n  rules:\n    naming: off\n    naming-reserved-word: critical\n    \
             migration: info\n    drop-column: {severity: critical}\n    \
             prefer-jsonb: {enabled: false}\n  fail_level: warning\n  exclude_rules: [truncate]\n",
            &["compliance"],
        )
        .unwrap();
        assert!(!c.is_enabled("naming-snake-case"));
        assert!(c.is_enabled("naming-reserved-word"));
        assert_eq!(
            c.severity("naming-reserved-word", Severity::Info),
            Severity::Critical
        );
        assert_eq!(
            c.severity("set-not-null", Severity::Warning),
            Severity::Info
        );
        assert_eq!(
            c.severity("drop-column", Severity::Warning),
            Severity::Critical
        );
        assert_eq!(
            c.severity("require-primary-key", Severity::Warning),
            Severity::Warning
        );
        assert!(!c.is_enabled("prefer-jsonb"));
        assert!(!c.is_enabled("truncate"));
        assert!(!c.is_enabled("pii-table-comment"));
        assert_eq!(c.fail_level, Some(Severity::Warning));
    }

    #[test]
    fn unknown_names_are_errors_with_line_and_suggestion() {
        let f = config(
            "linting:\n  rules:\n    security:\n      warn_plain_text_pi: true\n",
            &[],
        )
        .unwrap_err();
        assert!(f.message.contains("local.yaml:4"), "{}", f.message);
        assert!(
            f.message.contains("unknown rule `warn_plain_text_pi`"),
            "{}",
            f.message
        );
        assert_eq!(
            f.hint.as_deref(),
            Some("did you mean `warn_plain_text_pii`?")
        );

        let f = config("linting:\n  rules:\n    securty: off\n", &[]).unwrap_err();
        assert!(f.message.contains("local.yaml:3"), "{}", f.message);
        assert_eq!(f.hint.as_deref(), Some("did you mean `security`?"));

        let f = config(
            "linting:\n  rules:\n    naming:\n      prefer-jsonb: true\n",
            &[],
        )
        .unwrap_err();
        assert!(
            f.message.contains("in category `structure`"),
            "{}",
            f.message
        );

        let f = config("", &["fk-without-indx"]).unwrap_err();
        assert_eq!(f.hint.as_deref(), Some("did you mean `fk-without-index`?"));

        let f = config("linting:\n  rules:\n    truncate: loud\n", &[]).unwrap_err();
        assert!(
            f.message.contains("`loud` is not a setting"),
            "{}",
            f.message
        );

        let f = config("linting:\n  fail_level: info\n", &[]).unwrap_err();
        assert!(f.message.contains("local.yaml:2"), "{}", f.message);
    }

    #[test]
    fn options_replace_defaults() {
        let c = config(
            "linting:\n  lookup_keys: [Slug]\n  audit_columns: [created_by]\n",
            &[],
        )
        .unwrap();
        assert_eq!(c.options.lookup_keys, vec!["slug".to_string()]);
        assert_eq!(c.options.audit_columns, vec!["created_by".to_string()]);
        assert_eq!(
            c.options.timestamp_columns,
            RuleOptions::default().timestamp_columns
        );
    }

    #[test]
    fn line_of_finds_flow_style_keys_but_not_longer_names() {
        assert_eq!(
            line_of("a:\n  {rules: {security: x}}\n", "security"),
            Some(2)
        );
        assert_eq!(
            line_of("warn_plain_text_pii_x: 1\n", "warn_plain_text_pii"),
            None
        );
    }
}
