//! `plugins:` (per plugin: grants, role, limits, its own config) and `plugin_sandbox:` (what
//! every plugin runs as and how loading plugins is bounded).

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use super::values::{ConfigValue, duration_ms, flag};
use super::yaml::{at_line, line_below, line_of_key};
use crate::error::Failure;
use crate::strings::is_plugin_name;

/// One entry of `plugins:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPlugin {
    grant: Option<Vec<Grant>>,
    /// The role its SQL runs as (issue #14); overrides `plugin_sandbox.role`.
    role: Option<String>,
    config: Option<BTreeMap<String, ConfigValue>>,
    memory_mb: Option<u64>,
    #[serde(default, deserialize_with = "duration_ms")]
    timeout_ms: Option<u64>,
    #[serde(default, deserialize_with = "flag")]
    enabled: Option<bool>,
}

/// A capability the environment file grants a plugin (`plugins.<name>.grant`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Grant {
    /// Queries against the hook's database; nothing written survives.
    DbRead,
    /// Statements inside the migration's transaction.
    DbWrite,
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Grant::DbRead => "db-read",
            Grant::DbWrite => "db-write",
        })
    }
}

/// Largest memory cap a plugin may be given, in MiB.
pub const MAX_PLUGIN_MEMORY_MB: u64 = 4096;

/// What the environment file says about one plugin (`plugins: {<name>: {...}}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginSettings {
    /// Capabilities granted; the plugin gets those it also asks for.
    pub grant: Vec<Grant>,
    /// The plugin's own settings, read through the `config` import (`${VAR}`-expanded).
    pub config: BTreeMap<String, String>,
    /// Memory cap in MiB, overriding the default.
    pub memory_mb: Option<u64>,
    /// Time limit per call in milliseconds, overriding the default of the plugin's kind.
    pub timeout_ms: Option<u64>,
    /// False turns the plugin off without removing its file.
    pub enabled: bool,
    /// 1-based line of the entry in the environment file, for messages.
    pub line: Option<usize>,
    /// The role its SQL runs as (`plugins.<name>.role`, else `plugin_sandbox.role`).
    pub role: Option<String>,
}

impl Default for PluginSettings {
    fn default() -> Self {
        PluginSettings {
            role: None,
            grant: Vec::new(),
            config: BTreeMap::new(),
            memory_mb: None,
            timeout_ms: None,
            enabled: true,
            line: None,
        }
    }
}

/// Validates one `plugins.<name>` entry.
pub(super) fn plugin_settings(
    name: &str,
    raw: RawPlugin,
    shown: &str,
    text: &str,
    expand: &impl Fn(&str, String) -> Result<String, Failure>,
) -> Result<PluginSettings, Failure> {
    let line = line_of_key(text, name);
    let at = |key: &str| at_line(shown, line_below(text, line, key));
    if !is_plugin_name(name) {
        return Err(Failure::config(format!(
            "{}: plugins: `{name}` is not a plugin name",
            at(name)
        ))
        .hint("plugin names are lower-case letters, digits and `-`, as the plugin's metadata declares them"));
    }
    if let Some(mb) = raw.memory_mb
        && !(1..=MAX_PLUGIN_MEMORY_MB).contains(&mb)
    {
        return Err(Failure::config(format!(
            "{}: plugins.{name}.memory_mb: {mb} is out of range",
            at("memory_mb")
        ))
        .hint(format!("give between 1 and {MAX_PLUGIN_MEMORY_MB} MiB")));
    }
    if raw.timeout_ms == Some(0) {
        return Err(Failure::config(format!(
            "{}: plugins.{name}.timeout_ms: 0 would fail every call",
            at("timeout_ms")
        ))
        .hint("give a time limit such as 5000 or \"30s\", or remove the key for the default"));
    }
    let mut grant = raw.grant.unwrap_or_default();
    grant.sort();
    grant.dedup();
    let config = raw
        .config
        .unwrap_or_default()
        .into_iter()
        .map(|(key, ConfigValue(value))| {
            let value = expand(&format!("plugins.{name}.config.{key}"), value)?;
            Ok((key, value))
        })
        .collect::<Result<_, Failure>>()?;
    Ok(PluginSettings {
        role: raw.role,
        grant,
        config,
        memory_mb: raw.memory_mb,
        timeout_ms: raw.timeout_ms,
        enabled: raw.enabled.unwrap_or(true),
        line,
    })
}

/// `plugin_sandbox:` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPluginSandbox {
    role: Option<String>,
    max_component_mb: Option<u64>,
    #[serde(default, deserialize_with = "duration_ms")]
    compile_timeout: Option<u64>,
    compile_memory_mb: Option<u64>,
}

/// `plugin_sandbox:` in an environment file: what every plugin runs as and how loading plugins
/// is bounded (`None`: the default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginSandbox {
    /// The role plugins' SQL runs as, unless `plugins.<name>.role` says otherwise.
    pub role: Option<String>,
    /// Largest component file, in MiB.
    pub max_component_mb: Option<u64>,
    /// Longest compilation of a component, in milliseconds.
    pub compile_timeout_ms: Option<u64>,
    /// Most memory compiling a component may use, in MiB.
    pub compile_memory_mb: Option<u64>,
}

pub(super) fn plugin_sandbox(
    raw: RawPluginSandbox,
    shown: &str,
    text: &str,
) -> Result<PluginSandbox, Failure> {
    if let Some(role) = &raw.role {
        check_role(role, "plugin_sandbox.role", shown, text)?;
    }
    for (key, value) in [
        ("max_component_mb", raw.max_component_mb),
        ("compile_timeout", raw.compile_timeout),
        ("compile_memory_mb", raw.compile_memory_mb),
    ] {
        if value == Some(0) {
            return Err(Failure::config(format!(
                "{}: plugin_sandbox.{key}: 0 would refuse every plugin",
                at_line(shown, line_of_key(text, key))
            ))
            .hint("remove the key for the default, or give a positive value"));
        }
    }
    Ok(PluginSandbox {
        role: raw.role,
        max_component_mb: raw.max_component_mb,
        compile_timeout_ms: raw.compile_timeout,
        compile_memory_mb: raw.compile_memory_mb,
    })
}

/// Checks each `plugins.<name>.role`.
pub(super) fn check_plugin_roles(
    plugins: &BTreeMap<String, PluginSettings>,
    shown: &str,
    text: &str,
) -> Result<(), Failure> {
    for (name, settings) in plugins {
        if let Some(role) = &settings.role {
            check_role(role, &format!("plugins.{name}.role"), shown, text)?;
        }
    }
    Ok(())
}

/// A role name PostgreSQL accepts: 1 to 63 bytes, no NUL.
fn check_role(role: &str, key: &str, shown: &str, text: &str) -> Result<(), Failure> {
    if role.is_empty() || role.len() > 63 || role.contains('\0') {
        let leaf = key.rsplit('.').next().unwrap_or(key);
        return Err(Failure::config(format!(
            "{}: {key}: `{}` is not a role name",
            at_line(shown, line_of_key(text, leaf)),
            role.escape_debug()
        ))
        .hint("give the name of a PostgreSQL role (1 to 63 bytes), e.g. one made by `confiture plugins create-role`"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::settings::testing::{failure, parse};
    use std::path::PathBuf;

    #[test]
    fn reads_plugin_roles() {
        let env = parse(
            "plugin_sandbox:\n  role: confiture_plugin\nplugins:\n  audit-hook:\n    role: \"Audit Role\"\n",
        )
        .unwrap();
        assert_eq!(env.plugin_sandbox.role.as_deref(), Some("confiture_plugin"));
        assert_eq!(
            env.plugins["audit-hook"].role.as_deref(),
            Some("Audit Role")
        );
        let f = failure("plugins:\n  audit-hook:\n    grant: [db-read]\n    role: ''\n");
        assert!(
            f.message
                .contains("local.yaml:4: plugins.audit-hook.role: `` is not a role name"),
            "{}",
            f.message
        );
        let f = failure("plugin_sandbox:\n  rol: x\n");
        assert!(f.message.contains("plugin_sandbox.rol"), "{}", f.message);
        let env = parse(
            "plugin_sandbox:\n  max_component_mb: 8\n  compile_timeout: 2s\n  compile_memory_mb: 512\n",
        )
        .unwrap();
        assert_eq!(env.plugin_sandbox.max_component_mb, Some(8));
        assert_eq!(env.plugin_sandbox.compile_timeout_ms, Some(2000));
        assert_eq!(env.plugin_sandbox.compile_memory_mb, Some(512));
        let f = failure("plugin_sandbox:\n  compile_timeout: 0\n");
        assert!(
            f.message
                .contains("local.yaml:2: plugin_sandbox.compile_timeout"),
            "{}",
            f.message
        );
    }

    #[test]
    fn reads_plugin_settings() {
        let env = parse(
            "plugins_dir: ext/wasm\nplugins:\n  email-strategy:\n    grant: [db-read, db-write, db-read]\n    \
             config:\n      domain: example.org\n      rounds: 3\n      strict: true\n      \
             password: ${DB_PASSWORD}\n    memory_mb: 128\n    timeout_ms: 2s\n  \
             old-hook:\n    enabled: false\n",
        )
        .unwrap();
        assert_eq!(env.plugins_dir, PathBuf::from("ext/wasm"));
        let email = &env.plugins["email-strategy"];
        assert_eq!(email.grant, vec![Grant::DbRead, Grant::DbWrite]);
        assert_eq!(email.config["domain"], "example.org");
        assert_eq!(email.config["rounds"], "3");
        assert_eq!(email.config["strict"], "true");
        assert_eq!(email.config["password"], "s3cret");
        assert_eq!((email.memory_mb, email.timeout_ms), (Some(128), Some(2000)));
        assert!(email.enabled);
        assert_eq!(email.line, Some(3));
        assert!(!env.plugins["old-hook"].enabled);
        let defaults = parse("name: local\n").unwrap();
        assert_eq!(defaults.plugins_dir, PathBuf::from("plugins"));
        assert!(defaults.plugins.is_empty());
    }

    #[test]
    fn plugin_setting_typo_names_line_and_suggestion() {
        let f = failure("plugins:\n  email-strategy:\n    grants: [db-read]\n");
        assert!(f.message.contains("local.yaml:3:5"), "{}", f.message);
        assert!(
            f.message.contains("`plugins.email-strategy.grants`"),
            "{}",
            f.message
        );
        assert_eq!(f.hint.as_deref(), Some("did you mean `grant`?"));
    }

    #[test]
    fn plugin_grant_and_limits_are_checked() {
        let f = failure("plugins:\n  p:\n    grant: [db-admin]\n");
        assert!(f.message.contains("local.yaml:3:"), "{}", f.message);
        assert!(f.message.contains("db-admin"), "{}", f.message);
        let f = failure("plugins:\n  p:\n    memory_mb: 0\n");
        assert!(
            f.message.contains("local.yaml:3: plugins.p.memory_mb"),
            "{}",
            f.message
        );
        let f = failure("plugins:\n  p:\n    timeout_ms: 0\n");
        assert!(f.message.contains("plugins.p.timeout_ms"), "{}", f.message);
        let f = failure("plugins:\n  Bad_Name:\n    enabled: true\n");
        assert!(
            f.message.contains("local.yaml:2: plugins: `Bad_Name`"),
            "{}",
            f.message
        );
        let f = failure("plugins:\n  p:\n    config:\n      token: ${NOPE}\n");
        assert!(f.message.contains("${NOPE}"), "{}", f.message);
        assert!(f.message.contains(":4"), "{}", f.message);
    }
}
