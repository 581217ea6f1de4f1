//! `db/environments/<name>.yaml`: the upstream Python Confiture's keys plus Confiture's own.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::MapAccess;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::schema_files::{DEFAULT_INCLUDE, IncludeDir, SortMode};
use super::upstream::{self, with_reported_keys};
use super::vars;
use crate::db::connect::DatabaseParts;
use crate::error::Failure;
use crate::risk::SizeThresholds;
use crate::strings::{did_you_mean, display_relative, is_plugin_name, parse_duration_ms};

/// Default name of the migrations tracking table (the upstream ledger's name).
pub const DEFAULT_MIGRATIONS_TABLE: &str = "tb_confiture";
/// Default `lock_timeout` for migrations, in milliseconds.
pub const DEFAULT_LOCK_TIMEOUT_MS: u64 = 10_000;

with_reported_keys! {
    /// The file as written: every key the file may contain, nothing else. The `reported` keys
    /// are upstream's that Confiture has no feature for (see `upstream.rs`).
    struct RawEnvironment {
        name: Option<String>,
        database_url: Option<String>,
        database: Option<RawDatabase>,
        include_dirs: Option<Vec<RawIncludeDir>>,
        exclude_dirs: Option<Vec<String>>,
        migrations_dir: Option<String>,
        migrations_table: Option<String>,
        #[serde(default, deserialize_with = "duration_ms")]
        lock_timeout: Option<u64>,
        #[serde(default, deserialize_with = "duration_ms")]
        statement_timeout: Option<u64>,
        lock_retries: Option<u32>,
        #[serde(default, deserialize_with = "flag")]
        protected: Option<bool>,
        plugins_dir: Option<String>,
        plugins: Option<BTreeMap<String, RawPlugin>>,
        hooks: Option<RawHooks>,
        linting: Option<LintingSettings>,
        risk: Option<SizeThresholds>,
        wizard: Option<WizardSettings>,
        plugin_sandbox: Option<RawPluginSandbox>,
        migration: Option<RawMigration>,
        migration_table: Option<String>,
        #[serde(default, deserialize_with = "flag")]
        require_confirmation: Option<bool>,
        build: Option<RawBuild>,
    }
    reported {
        auto_backup, seed, superuser_dirs, superuser_post_dirs, infrastructure, drift,
        ssh_tunnel, acls, acls_lint_enabled, ownership, function_coverage, security_lint, lint, options, project,
        verbose, log_queries, rebuild, locking,
    }
}

with_reported_keys! {
    /// Upstream's `migration:` block.
    struct RawMigration {
        tracking_table: Option<String>,
        locking: Option<RawLocking>,
    }
    reported {
        strict_mode, destructive, backfill, view_helpers, migration_generators,
        snapshot_history, snapshots_dir, live_snapshot, rebuild_threshold, grant_dir,
        allow_unsafe_under_replication,
    }
}

/// Upstream's `migration.locking:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLocking {
    #[serde(default, deserialize_with = "flag")]
    enabled: Option<bool>,
    #[serde(default, deserialize_with = "duration_ms")]
    timeout_ms: Option<u64>,
}

with_reported_keys! {
    /// Upstream's `build:` block.
    struct RawBuild {
        sort_mode: Option<String>,
    }
    reported { two_pass, validate_comments, separators, lint, output_path }
}

/// An `include_dirs` entry as written: a path, or upstream's map form.
#[derive(Debug)]
enum RawIncludeDir {
    Path(String),
    Map(RawIncludeMap),
}

/// Upstream's map form of an `include_dirs` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIncludeMap {
    path: String,
    #[serde(default, deserialize_with = "flag")]
    recursive: Option<bool>,
    include: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
    #[serde(default, deserialize_with = "flag")]
    auto_discover: Option<bool>,
    order: Option<i64>,
}

impl<'de> Deserialize<'de> for RawIncludeDir {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = RawIncludeDir;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a directory, or a map with `path:` (and recursive, include, exclude, order, auto_discover)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawIncludeDir::Path(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                RawIncludeMap::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawIncludeDir::Map)
            }
        }
        de.deserialize_any(EntryVisitor)
    }
}

/// One entry of `plugins:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlugin {
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

/// A plugin setting as written: any YAML scalar, kept as text.
#[derive(Debug)]
struct ConfigValue(String);

impl<'de> Deserialize<'de> for ConfigValue {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl Visitor<'_> for ScalarVisitor {
            type Value = ConfigValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a text, number or boolean value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(ConfigValue(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(ConfigValue(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(ConfigValue(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(ConfigValue(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(ConfigValue(v.to_string()))
            }
        }
        de.deserialize_any(ScalarVisitor)
    }
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

with_reported_keys! {
    /// `database:` in its upstream map form.
    struct RawDatabase {
        host: Option<String>,
        #[serde(default, deserialize_with = "port")]
        port: Option<String>,
        database: Option<String>,
        user: Option<String>,
        password: Option<String>,
        sslmode: Option<String>,
        connect_timeout: Option<u64>,
    }
    reported { pool_size, max_overflow, pool_timeout }
}

/// Where an environment says its database is.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseSetting {
    /// `database_url:` (already `${VAR}`-expanded).
    Url(String),
    /// `database:` map.
    Parts(DatabaseParts),
    /// A setting that uses a `${VAR}` that is not set: the configuration failure (file:line,
    /// the variable) for a command that connects; commands that never connect (lint, migrate
    /// generate, build without --apply...) do not need it.
    Unresolved {
        /// What is missing, and where.
        message: String,
        /// What to do.
        hint: String,
    },
}

impl fmt::Debug for DatabaseSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseSetting::Url(_) => f.write_str("Url(<redacted>)"),
            DatabaseSetting::Parts(parts) => parts.fmt(f),
            DatabaseSetting::Unresolved { message, .. } => {
                f.debug_tuple("Unresolved").field(message).finish()
            }
        }
    }
}

/// A validated environment.
#[derive(Debug, Clone)]
pub struct Environment {
    /// Display name (the file's `name:`, else its stem).
    pub name: String,
    /// The file it was read from.
    pub file: PathBuf,
    /// The database it names, if any.
    pub database: Option<DatabaseSetting>,
    /// Schema directories (relative to the project root) and how each selects its files.
    pub include_dirs: Vec<IncludeDir>,
    /// How the schema files of one `order` block are sorted (`build.sort_mode`).
    pub sort_mode: SortMode,
    /// Directories left out of the schema build.
    pub exclude_dirs: Vec<PathBuf>,
    /// Migrations directory, relative to the project root.
    pub migrations_dir: PathBuf,
    /// Tracking table, optionally schema-qualified.
    pub migrations_table: String,
    /// `lock_timeout` for every migration, in milliseconds (0 disables).
    pub lock_timeout_ms: u64,
    /// `statement_timeout` for every migration, in milliseconds (0 disables).
    pub statement_timeout_ms: u64,
    /// How many times a migration is retried after a lock timeout (SQLSTATE 55P03).
    pub lock_retries: u32,
    /// A protected environment (production) asks before changing anything.
    pub protected: bool,
    /// Upstream's `require_confirmation`: `migrate up`, `down` and `baseline` ask first.
    pub require_confirmation: bool,
    /// How long to wait for the migration lock, in milliseconds
    /// (`migration.locking.timeout_ms`); `None` leaves it to `--lock-wait`'s default.
    pub lock_wait_ms: Option<u64>,
    /// Upstream keys the file sets that Confiture does not use, one message each
    /// (`file:line: key ...: what to do instead`), printed when the project opens.
    pub warnings: Vec<String>,
    /// Directory scanned for `*.wasm` plugins, relative to the project root.
    pub plugins_dir: PathBuf,
    /// Per-plugin settings, by plugin name.
    pub plugins: BTreeMap<String, PluginSettings>,
    /// Migration hooks: metadata, order, and per-hook events, environments and policy.
    pub hooks: HooksSettings,
    /// `linting:`, as written; rule names and levels are checked by `confiture lint`, which
    /// knows the rules.
    pub linting: LintingSettings,
    /// `risk:` — thresholds that sharpen risk levels with live table sizes.
    pub risk: SizeThresholds,
    /// `wizard:` — approvals required per risk level.
    pub wizard: WizardSettings,
    /// `plugin_sandbox:` — what plugins run as and how their loading is bounded.
    pub plugin_sandbox: PluginSandbox,
}

/// `wizard:` in an environment file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WizardSettings {
    /// Approvals needed (from people other than the one applying) per risk level.
    #[serde(default)]
    pub approvals_required: ApprovalsRequired,
}

/// `wizard.approvals_required`: approvals per risk level; a level left out needs none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApprovalsRequired {
    /// For low-risk migrations.
    pub low: u32,
    /// For high-risk migrations.
    pub high: u32,
    /// For critical migrations.
    pub critical: u32,
}

impl ApprovalsRequired {
    /// The approvals a migration at `level` needs.
    pub fn at(&self, level: crate::risk::Level) -> u32 {
        match level {
            crate::risk::Level::Low => self.low,
            crate::risk::Level::High => self.high,
            crate::risk::Level::Critical => self.critical,
        }
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

impl Environment {
    /// The defaults for an environment without a file (or with an empty one).
    pub fn defaults(name: &str, file: PathBuf) -> Self {
        Environment {
            name: name.to_string(),
            file,
            database: None,
            include_dirs: vec![IncludeDir::bare("db/schema")],
            sort_mode: SortMode::Natural,
            exclude_dirs: Vec::new(),
            migrations_dir: PathBuf::from("db/migrations"),
            migrations_table: DEFAULT_MIGRATIONS_TABLE.to_string(),
            lock_timeout_ms: DEFAULT_LOCK_TIMEOUT_MS,
            statement_timeout_ms: 0,
            lock_retries: 3,
            protected: false,
            require_confirmation: false,
            lock_wait_ms: None,
            warnings: Vec::new(),
            plugins_dir: PathBuf::from("plugins"),
            plugins: BTreeMap::new(),
            hooks: HooksSettings::default(),
            linting: LintingSettings::default(),
            risk: SizeThresholds::default(),
            wizard: WizardSettings::default(),
            plugin_sandbox: PluginSandbox::default(),
        }
    }

    /// Reads and validates `db/environments/<name>.yaml` (or `.yml`) under `root`.
    pub fn load(root: &Path, name: &str) -> anyhow::Result<Self> {
        let dir = root.join("db").join("environments");
        let file = ["yaml", "yml"]
            .iter()
            .map(|ext| dir.join(format!("{name}.{ext}")))
            .find(|path| path.is_file());
        let Some(file) = file else {
            return Err(missing_environment(root, &dir, name).into());
        };
        let text = std::fs::read_to_string(&file).map_err(|e| {
            Failure::config(format!(
                "cannot read {}: {e}",
                display_relative(root, &file)
            ))
        })?;
        Self::parse(&text, name, &file, root, |var| std::env::var(var).ok())
    }

    /// Reads and validates the environment file `file` (any name and place), named by its
    /// `name:` or else its stem.
    pub fn load_file(root: &Path, file: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(file).map_err(|e| {
            Failure::config(format!("cannot read {}: {e}", display_relative(root, file)))
                .hint("--config names an environment file, e.g. db/environments/production.yaml; `--env production` finds it by name")
        })?;
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("config");
        Self::parse(&text, stem, file, root, |var| std::env::var(var).ok())
    }

    /// Parses an environment file's text; `lookup` resolves `${VAR}`.
    pub fn parse(
        text: &str,
        stem: &str,
        file: &Path,
        root: &Path,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let shown = display_relative(root, file);
        let mut raw: RawEnvironment = if text.trim().is_empty() {
            RawEnvironment::default()
        } else {
            let de = serde_yaml_ng::Deserializer::from_str(text);
            serde_path_to_error::deserialize(de).map_err(|e| yaml_failure(&shown, e))?
        };
        // `url`: a database URL, whose expanded values are percent-encoded (see
        // `vars::expand_url`).
        let expand_value = |key: &str, value: String, url: bool| -> Result<String, Failure> {
            let expanded = if url {
                vars::expand_url(&value, &lookup)
            } else {
                vars::expand(&value, &lookup)
            };
            expanded.map_err(|var| {
                let line = line_of_key(text, key.rsplit('.').next().unwrap_or(key));
                Failure::config(format!(
                    "{shown}{}: `{key}` uses ${{{var}}}, which is not set",
                    line.map(|l| format!(":{l}")).unwrap_or_default()
                ))
                .hint(format!(
                    "export {var}=... before running, or write `${{{var}:-default}}` to give a default"
                ))
            })
        };
        let expand = |key: &str, value: String| expand_value(key, value, false);

        let mut env =
            Environment::defaults(raw.name.as_deref().unwrap_or(stem), file.to_path_buf());
        env.warnings = upstream_warnings(&raw, &shown, text);
        // A database setting's unset variable fails the commands that connect, not the file;
        // any other mistake in it fails the file.
        let unset_variable = std::cell::Cell::new(false);
        let expand_database = |key: &str, value: String, url: bool| {
            let expanded = expand_value(key, value, url);
            unset_variable.set(expanded.is_err());
            expanded
        };
        let deferred = |result: Result<DatabaseSetting, Failure>| match result {
            Err(failure) if unset_variable.get() => Ok(DatabaseSetting::Unresolved {
                message: failure.message,
                hint: failure.hint.unwrap_or_default(),
            }),
            result => result,
        };
        env.database = match (raw.database_url, raw.database) {
            (Some(_), Some(_)) => {
                return Err(Failure::config(format!(
                    "{shown}: both `database_url` and `database` are set"
                ))
                .hint("keep one of them")
                .into());
            }
            (Some(url), None) => Some(deferred(
                expand_database("database_url", url, true).map(DatabaseSetting::Url),
            )?),
            (None, Some(db)) => Some(deferred(
                parts(db, &shown, text, &|key: &str, value: String| {
                    expand_database(key, value, false)
                })
                .map(DatabaseSetting::Parts),
            )?),
            (None, None) => None,
        };
        if let Some(dirs) = raw.include_dirs {
            env.include_dirs = include_dirs(dirs, &shown, text, &expand)?;
        }
        if let Some(mode) = raw.build.as_ref().and_then(|b| b.sort_mode.as_deref()) {
            env.sort_mode = sort_mode(mode, &shown, text)?;
        }
        if let Some(dirs) = raw.exclude_dirs {
            env.exclude_dirs = expand_paths("exclude_dirs", dirs, &expand)?;
        }
        if let Some(dir) = raw.migrations_dir {
            env.migrations_dir = PathBuf::from(expand("migrations_dir", dir)?);
        }
        let tracking_table = raw.migration.as_mut().and_then(|m| m.tracking_table.take());
        if let Some(table) = one_tracking_table(
            [
                ("migrations_table", raw.migrations_table),
                ("migration.tracking_table", tracking_table),
                ("migration_table", raw.migration_table),
            ],
            &shown,
            text,
        )? {
            env.migrations_table = validate_table_name(&shown, text, table)?;
        }
        let locking = raw.migration.as_ref().and_then(|m| m.locking.as_ref());
        env.lock_wait_ms = locking.and_then(|l| l.timeout_ms);
        env.require_confirmation = raw.require_confirmation.unwrap_or(false);
        env.lock_timeout_ms = raw.lock_timeout.unwrap_or(env.lock_timeout_ms);
        env.statement_timeout_ms = raw.statement_timeout.unwrap_or(env.statement_timeout_ms);
        env.lock_retries = raw.lock_retries.unwrap_or(env.lock_retries);
        env.protected = raw.protected.unwrap_or(false);
        if let Some(dir) = raw.plugins_dir {
            env.plugins_dir = PathBuf::from(expand("plugins_dir", dir)?);
        }
        for (name, plugin) in raw.plugins.unwrap_or_default() {
            let settings = plugin_settings(&name, plugin, &shown, text, &expand)?;
            env.plugins.insert(name, settings);
        }
        if let Some(hooks) = raw.hooks {
            env.hooks = hooks_settings(hooks, &shown, text, &expand)?;
        }
        env.linting = raw.linting.unwrap_or_default();
        env.risk = raw.risk.unwrap_or_default();
        if env.risk.huge_table_rows < env.risk.large_table_rows {
            return Err(Failure::config(format!(
                "{shown}{}: `risk.huge_table_rows` ({}) is below `risk.large_table_rows` ({})",
                line_of_key(text, "huge_table_rows")
                    .map(|l| format!(":{l}"))
                    .unwrap_or_default(),
                env.risk.huge_table_rows,
                env.risk.large_table_rows
            ))
            .hint("a huge table is also a large one: raise huge_table_rows")
            .into());
        }
        env.wizard = raw.wizard.unwrap_or_default();
        if let Some(sandbox) = raw.plugin_sandbox {
            env.plugin_sandbox = plugin_sandbox(sandbox, &shown, text)?;
        }
        for (name, settings) in &mut env.plugins {
            if let Some(role) = &settings.role {
                check_role(role, &format!("plugins.{name}.role"), &shown, text)?;
            }
        }
        Ok(env)
    }
}

/// The messages for the upstream keys `raw` sets that Confiture does not use (see
/// `upstream.rs`), each with its line and what to use instead.
fn upstream_warnings(raw: &RawEnvironment, shown: &str, text: &str) -> Vec<String> {
    let say = |key: &str, line: Option<usize>, advice: &str| {
        format!(
            "{shown}{}: `{key}` is an upstream Confiture setting that has no effect here: {advice}",
            line.map(|l| format!(":{l}")).unwrap_or_default()
        )
    };
    let mut warnings = Vec::new();
    let mut block =
        |block: Option<&str>, keys: Vec<&'static str>, table: &[(&str, &'static str)]| {
            for key in keys {
                let (path, line) = match block {
                    None => (key.to_string(), top_level_line(text, key)),
                    Some(block) => (format!("{block}.{key}"), line_in_block(text, block, key)),
                };
                let advice = upstream::advice(table, key).unwrap_or("Confiture does not use it");
                warnings.push(say(&path, line, advice));
            }
        };
    block(None, raw.reported(), upstream::TOP_LEVEL);
    if let Some(migration) = &raw.migration {
        block(Some("migration"), migration.reported(), upstream::MIGRATION);
    }
    if let Some(build) = &raw.build {
        block(Some("build"), build.reported(), upstream::BUILD);
    }
    if let Some(database) = &raw.database {
        block(Some("database"), database.reported(), upstream::DATABASE);
    }
    if let Some(Some(false)) = raw
        .migration
        .as_ref()
        .map(|m| m.locking.as_ref().and_then(|l| l.enabled))
    {
        warnings.push(say(
            "migration.locking.enabled",
            line_in_block(text, "migration", "enabled"),
            "Confiture always takes the migration lock: it is what keeps two runs (of \
             Confiture or of upstream) from applying one migration twice",
        ));
    }
    if raw.migration_table.is_some() {
        warnings.push(say(
            "migration_table",
            top_level_line(text, "migration_table"),
            "it names the tracking table here, but upstream 1.29 refuses it; write \
             `migration: {tracking_table: ...}` (or Confiture's `migrations_table:`)",
        ));
    }
    warnings
}

/// The tracking table named by at most one spelling (`migrations_table`,
/// `migration.tracking_table`, upstream's old `migration_table`); two different names are an
/// error.
fn one_tracking_table<const N: usize>(
    spellings: [(&str, Option<String>); N],
    shown: &str,
    text: &str,
) -> Result<Option<String>, Failure> {
    let mut chosen: Option<(&str, String)> = None;
    for (key, value) in spellings {
        let Some(value) = value else { continue };
        match &chosen {
            Some((first, name)) if *name != value => {
                let line = line_of_key(text, key.rsplit('.').next().unwrap_or(key));
                return Err(Failure::config(format!(
                    "{shown}{}: `{first}` and `{key}` name different tracking tables \
                     (`{name}`, `{value}`)",
                    line.map(|l| format!(":{l}")).unwrap_or_default()
                ))
                .hint("keep one of them"));
            }
            Some(_) => {}
            None => chosen = Some((key, value)),
        }
    }
    Ok(chosen.map(|(_, name)| name))
}

/// `build.sort_mode`: `alphabetical` or `hex`, as upstream spells them.
fn sort_mode(mode: &str, shown: &str, text: &str) -> Result<SortMode, Failure> {
    match mode {
        "alphabetical" => Ok(SortMode::Alphabetical),
        "hex" => Ok(SortMode::Numbered),
        other => Err(Failure::config(format!(
            "{shown}{}: build.sort_mode: `{other}` is not a sort mode",
            line_in_block(text, "build", "sort_mode")
                .map(|l| format!(":{l}"))
                .unwrap_or_default()
        ))
        .hint("use `alphabetical` (paths as text) or `hex` (numbered names by value); leave it out for natural order")),
    }
}

/// Validates `include_dirs`: paths, and upstream's map form with its defaults.
fn include_dirs(
    raw: Vec<RawIncludeDir>,
    shown: &str,
    text: &str,
    expand: &impl Fn(&str, String) -> Result<String, Failure>,
) -> Result<Vec<IncludeDir>, Failure> {
    raw.into_iter()
        .map(|entry| match entry {
            RawIncludeDir::Path(path) => Ok(IncludeDir::bare(expand("include_dirs", path)?)),
            RawIncludeDir::Map(map) => {
                let include = map.include.unwrap_or_else(|| vec![DEFAULT_INCLUDE.to_string()]);
                let exclude = map.exclude.unwrap_or_default();
                if let Some(bad) = include
                    .iter()
                    .chain(&exclude)
                    .find(|g| g.split('/').any(|part| part == ".."))
                {
                    return Err(Failure::config(format!(
                        "{shown}{}: include_dirs: the pattern `{bad}` climbs out of its \
                         directory with `..`, so it can match nothing",
                        line_of_key(text, "path")
                            .map(|l| format!(":{l}"))
                            .unwrap_or_default()
                    ))
                    .hint("patterns are relative to the entry's `path`; add an include_dirs entry for the other directory instead"));
                }
                Ok(IncludeDir {
                    path: PathBuf::from(expand("include_dirs.path", map.path)?),
                    recursive: map.recursive.unwrap_or(true),
                    include,
                    exclude,
                    order: map.order.unwrap_or(0),
                    required: !map.auto_discover.unwrap_or(true),
                })
            }
        })
        .collect()
}

/// The 1-based line of `key:` at the top level (column 0).
fn top_level_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map(|i| i + 1)
}

/// The 1-based line of `key:` inside the top-level block `block:` (before the next
/// top-level key).
fn line_in_block(text: &str, block: &str, key: &str) -> Option<usize> {
    let start = top_level_line(text, block)?;
    text.lines()
        .enumerate()
        .skip(start)
        .take_while(|(_, line)| {
            line.is_empty() || line.starts_with([' ', '\t', '#']) || line.starts_with("- ")
        })
        .find(|(_, line)| {
            line.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map(|(i, _)| i + 1)
}

/// `hooks:` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHooks {
    metadata: Option<BTreeMap<String, ConfigValue>>,
    order: Option<Vec<String>>,
    plugins: Option<BTreeMap<String, RawHook>>,
}

/// One entry of `hooks.plugins:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHook {
    events: Option<Vec<String>>,
    environments: Option<Vec<String>>,
    policy: Option<HookPolicy>,
}

/// The hook events, as the WIT spells them (the file may also write `pre_validate`).
pub const HOOK_EVENTS: [&str; 6] = [
    "pre-validate",
    "post-validate",
    "pre-execute",
    "post-execute",
    "post-rollback",
    "on-error",
];

/// What a failing hook does to the run (`hooks.plugins.<name>.policy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HookPolicy {
    /// The migration is rolled back and the run stops with the hook's message (exit 1).
    #[default]
    Abort,
    /// The failure is reported and the run continues.
    Warn,
    /// The failure is recorded in the JSON output only.
    Ignore,
}

impl fmt::Display for HookPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HookPolicy::Abort => "abort",
            HookPolicy::Warn => "warn",
            HookPolicy::Ignore => "ignore",
        })
    }
}

/// `hooks:` of the environment file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HooksSettings {
    /// Extra `metadata` given to every hook (`${VAR}`-expanded).
    pub metadata: BTreeMap<String, String>,
    /// Plugin names that fire first, in this order; the others follow by name.
    pub order: Vec<String>,
    /// Per-hook settings, by plugin name.
    pub plugins: BTreeMap<String, HookSettings>,
}

/// `hooks.plugins.<name>`: where and how one hook plugin fires. Its time limit and `enabled`
/// are the plugin's own settings under `plugins.<name>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookSettings {
    /// Only these events (of those the plugin declares); `None` = all it declares.
    pub events: Option<Vec<String>>,
    /// Only in these environments; `None` = everywhere.
    pub environments: Option<Vec<String>>,
    /// What a failure does.
    pub policy: HookPolicy,
    /// 1-based line of the entry, for messages.
    pub line: Option<usize>,
}

/// Validates `hooks:`.
fn hooks_settings(
    raw: RawHooks,
    shown: &str,
    text: &str,
    expand: &impl Fn(&str, String) -> Result<String, Failure>,
) -> Result<HooksSettings, Failure> {
    // The line of `key:` at or below `from` (1-based), falling back to `from`.
    let below = |from: Option<usize>, key: &str| {
        let after = from.unwrap_or(1) - 1;
        let rest = text.lines().skip(after).collect::<Vec<_>>().join("\n");
        line_of_key(&rest, key).map(|l| l + after).or(from)
    };
    let shown_at = |line: Option<usize>| {
        format!(
            "{shown}{}",
            line.map(|l| format!(":{l}")).unwrap_or_default()
        )
    };
    let hooks_line = line_of_key(text, "hooks");
    let at = |key: &str| {
        let line = below(hooks_line, key);
        (line, shown_at(line))
    };
    let metadata = raw
        .metadata
        .unwrap_or_default()
        .into_iter()
        .map(|(key, ConfigValue(value))| {
            let value = expand(&format!("hooks.metadata.{key}"), value)?;
            Ok((key, value))
        })
        .collect::<Result<_, Failure>>()?;
    let order = raw.order.unwrap_or_default();
    for (i, name) in order.iter().enumerate() {
        if order[..i].contains(name) {
            return Err(Failure::config(format!(
                "{}: hooks.order lists `{name}` twice",
                at("order").1
            ))
            .hint("list each hook plugin once"));
        }
    }
    let known: Vec<String> = HOOK_EVENTS.iter().map(|e| e.to_string()).collect();
    let mut plugins = BTreeMap::new();
    for (name, hook) in raw.plugins.unwrap_or_default() {
        let (line, here) = at(&name);
        if !is_plugin_name(&name) {
            return Err(Failure::config(format!(
                "{here}: hooks.plugins: `{name}` is not a plugin name"
            ))
            .hint("plugin names are lower-case letters, digits and `-`, as the plugin's metadata declares them"));
        }
        let events = match hook.events {
            None => None,
            Some(events) => {
                let mut normalized = Vec::new();
                for event in events {
                    let canonical = event.replace('_', "-");
                    if !known.contains(&canonical) {
                        let hint = match did_you_mean(&canonical, &known) {
                            Some(best) => format!("did you mean `{best}`?"),
                            None => format!("the events are {}", known.join(", ")),
                        };
                        return Err(Failure::config(format!(
                            "{}: hooks.plugins.{name}.events: `{event}` is not a hook event",
                            shown_at(below(line, "events"))
                        ))
                        .hint(hint));
                    }
                    if !normalized.contains(&canonical) {
                        normalized.push(canonical);
                    }
                }
                Some(normalized)
            }
        };
        plugins.insert(
            name,
            HookSettings {
                events,
                environments: hook.environments,
                policy: hook.policy.unwrap_or_default(),
                line,
            },
        );
    }
    Ok(HooksSettings {
        metadata,
        order,
        plugins,
    })
}

/// Validates one `plugins.<name>` entry.
fn plugin_settings(
    name: &str,
    raw: RawPlugin,
    shown: &str,
    text: &str,
    expand: &impl Fn(&str, String) -> Result<String, Failure>,
) -> Result<PluginSettings, Failure> {
    let line = line_of_key(text, name);
    let at = |key: &str| {
        let after = line.unwrap_or(1) - 1;
        let below = text.lines().skip(after).collect::<Vec<_>>().join("\n");
        let line = line_of_key(&below, key).map(|l| l + after).or(line);
        format!(
            "{shown}{}",
            line.map(|l| format!(":{l}")).unwrap_or_default()
        )
    };
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

fn parts(
    db: RawDatabase,
    shown: &str,
    text: &str,
    expand: &impl Fn(&str, String) -> Result<String, Failure>,
) -> Result<DatabaseParts, Failure> {
    let field = |key: &str, value: Option<String>| value.map(|v| expand(key, v)).transpose();
    let dbname = field("database.database", db.database)?.ok_or_else(|| {
        Failure::config(format!(
            "{shown}{}: `database` has no `database:` (the database name)",
            line_of_key(text, "database")
                .map(|l| format!(":{l}"))
                .unwrap_or_default()
        ))
        .hint("add `database: <name>` under `database:`, or use `database_url:` instead")
    })?;
    let port = match field("database.port", db.port)? {
        None => 5432,
        Some(port) => port.trim().parse().map_err(|_| {
            Failure::config(format!(
                "{shown}{}: database.port: `{port}` is not a port number",
                line_of_key(text, "port")
                    .map(|l| format!(":{l}"))
                    .unwrap_or_default()
            ))
        })?,
    };
    Ok(DatabaseParts {
        host: field("database.host", db.host)?.unwrap_or_else(|| "localhost".into()),
        port,
        dbname,
        user: field("database.user", db.user)?.unwrap_or_else(|| "postgres".into()),
        password: field("database.password", db.password)?,
        sslmode: field("database.sslmode", db.sslmode)?,
        connect_timeout_secs: db.connect_timeout,
    })
}

fn expand_paths(
    key: &str,
    dirs: Vec<String>,
    expand: &impl Fn(&str, String) -> Result<String, Failure>,
) -> Result<Vec<PathBuf>, Failure> {
    dirs.into_iter()
        .map(|d| expand(key, d).map(PathBuf::from))
        .collect()
}

/// A tracking table name is `table` or `schema.table`, each a plain identifier (letters,
/// digits and `_`, as upstream allows; quoted, so case counts).
fn validate_table_name(shown: &str, text: &str, table: String) -> Result<String, Failure> {
    let plain = |part: &str| {
        !part.is_empty()
            && part.len() <= 63
            && part
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let parts: Vec<&str> = table.split('.').collect();
    if parts.len() <= 2 && parts.iter().all(|p| plain(p)) {
        Ok(table)
    } else {
        let line = ["migrations_table", "tracking_table", "migration_table"]
            .iter()
            .find_map(|key| line_of_key(text, key));
        Err(Failure::config(format!(
            "{shown}{}: tracking table `{table}` is not a plain identifier",
            line.map(|l| format!(":{l}")).unwrap_or_default()
        ))
        .hint("use letters, digits and underscores, optionally `schema.table`"))
    }
}

/// Turns a serde/YAML error into one naming file, line, key, and a "did you mean".
fn yaml_failure(shown: &str, err: serde_path_to_error::Error<serde_yaml_ng::Error>) -> Failure {
    let path = err.path().to_string();
    let inner = err.into_inner();
    let location = inner
        .location()
        .map(|l| format!(":{}:{}", l.line(), l.column()))
        .unwrap_or_default();
    let message = inner.to_string();
    // serde_yaml appends " at line L column C"; we print the location ourselves.
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_string();
    if let Some((unknown, expected)) = parse_unknown_field(&message) {
        // The path may or may not already end with the unknown key itself.
        let qualified = if path == "." || path.is_empty() {
            unknown.clone()
        } else if path == unknown || path.ends_with(&format!(".{unknown}")) {
            path.clone()
        } else {
            format!("{path}.{unknown}")
        };
        let mut failure = Failure::config(format!("{shown}{location}: unknown key `{qualified}`"));
        failure = match did_you_mean(&unknown, &expected) {
            Some(best) => failure.hint(format!("did you mean `{best}`?")),
            None => failure.hint(format!("known keys here: {}", expected.join(", "))),
        };
        return failure;
    }
    let message = message
        .strip_prefix(&format!("{path}: "))
        .unwrap_or(&message)
        .to_string();
    let key = if path == "." {
        String::new()
    } else {
        format!(" {path}:")
    };
    Failure::config(format!("{shown}{location}:{key} {message}"))
        .hint("see docs/reference/configuration.md for every key and its type")
}

/// Extracts `X` and the expected list from serde's "unknown field `X`, expected ..." message.
fn parse_unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    // serde_yaml prefixes nested errors with their YAML path (`database: unknown field ...`).
    let marker = "unknown field `";
    let rest = &message[message.find(marker)? + marker.len()..];
    let (name, rest) = rest.split_once('`')?;
    let expected = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    Some((name.to_string(), expected))
}

/// The 1-based line where `key:` first appears, for errors found after parsing.
fn line_of_key(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let line = line.trim_start().trim_start_matches("- ");
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map(|i| i + 1)
}

fn missing_environment(root: &Path, dir: &Path, name: &str) -> Failure {
    let available: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .filter_map(|e| {
                    let path = e.path();
                    let ext = path.extension()?.to_str()?;
                    (ext == "yaml" || ext == "yml")
                        .then(|| path.file_stem()?.to_str().map(str::to_string))?
                })
                .collect();
            names.sort();
            names
        })
        .unwrap_or_default();
    let file = display_relative(root, &dir.join(format!("{name}.yaml")));
    let failure = Failure::config(format!(
        "environment `{name}` not found: {file} does not exist"
    ));
    match (did_you_mean(name, &available), available.is_empty()) {
        (Some(best), _) => failure.hint(format!("did you mean `--env {best}`?")),
        (None, true) => failure.hint("create it, or run `confiture init` to start a project"),
        (None, false) => failure.hint(format!("available environments: {}", available.join(", "))),
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

/// Accepts a port as a number or as a string (which may hold `${VAR}`).
fn port<'de, D: Deserializer<'de>>(de: D) -> Result<Option<String>, D::Error> {
    struct PortVisitor;
    impl Visitor<'_> for PortVisitor {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a port number")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            u16::try_from(v)
                .map(|p| Some(p.to_string()))
                .map_err(|_| E::custom(format!("{v} is not a port number (1-65535)")))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Err(E::custom(format!("{v} is not a port number (1-65535)")))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
    }
    de.deserialize_any(PortVisitor)
}

/// Accepts a yes/no setting as YAML 1.2's `true`/`false` or as YAML 1.1's and PostgreSQL's
/// words `yes`/`no`, `on`/`off` (any case): `protected: yes` means what its author meant.
fn flag<'de, D: Deserializer<'de>>(de: D) -> Result<Option<bool>, D::Error> {
    struct FlagVisitor;
    impl Visitor<'_> for FlagVisitor {
        type Value = Option<bool>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("true/false, yes/no or on/off")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            parse_flag(v).map(Some).ok_or_else(|| {
                E::custom(format!(
                    "`{v}` is not a yes/no value (use true/false, yes/no or on/off)"
                ))
            })
        }
    }
    de.deserialize_any(FlagVisitor)
}

/// `true`/`yes`/`on` and `false`/`no`/`off`, in any case.
fn parse_flag(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" => Some(true),
        "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Accepts a duration as milliseconds (a number) or a PostgreSQL-style string: `500ms`, `5s`,
/// `2min`, `1h`; `0` disables the timeout. At most
/// [`MAX_DURATION_MS`](crate::strings::MAX_DURATION_MS).
fn duration_ms<'de, D: Deserializer<'de>>(de: D) -> Result<Option<u64>, D::Error> {
    struct DurationVisitor;
    impl Visitor<'_> for DurationVisitor {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a duration such as 5000, \"500ms\", \"5s\", \"2min\" or \"1h\"")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            parse_duration_ms(&v.to_string())
                .map(Some)
                .map_err(E::custom)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            let v = u64::try_from(v).map_err(|_| E::custom("a duration cannot be negative"))?;
            self.visit_u64(v)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            parse_duration_ms(v).map(Some).map_err(E::custom)
        }
    }
    de.deserialize_any(DurationVisitor)
}

// ---- Plugin sandbox (issue #14) ---------------------------------------------------------

/// `plugin_sandbox:` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPluginSandbox {
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

fn plugin_sandbox(
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
                "{shown}{}: plugin_sandbox.{key}: 0 would refuse every plugin",
                line_of_key(text, key)
                    .map(|l| format!(":{l}"))
                    .unwrap_or_default()
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

/// A role name PostgreSQL accepts: 1 to 63 bytes, no NUL.
fn check_role(role: &str, key: &str, shown: &str, text: &str) -> Result<(), Failure> {
    if role.is_empty() || role.len() > 63 || role.contains('\0') {
        let leaf = key.rsplit('.').next().unwrap_or(key);
        return Err(Failure::config(format!(
            "{shown}{}: {key}: `{}` is not a role name",
            line_of_key(text, leaf)
                .map(|l| format!(":{l}"))
                .unwrap_or_default(),
            role.escape_debug()
        ))
        .hint("give the name of a PostgreSQL role (1 to 63 bytes), e.g. one made by `confiture plugins create-role`"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<Environment> {
        let lookup = |v: &str| (v == "DB_PASSWORD").then(|| "s3cret".to_string());
        Environment::parse(
            text,
            "local",
            Path::new("/p/db/environments/local.yaml"),
            Path::new("/p"),
            lookup,
        )
    }

    fn failure(text: &str) -> Failure {
        let err = parse(text).unwrap_err();
        err.downcast::<Failure>().expect("a Failure")
    }

    #[test]
    fn reads_upstream_keys_and_ours() {
        let env = parse(
            "name: staging\ninclude_dirs: [db/schema/00_common, db/schema/10_tables]\n\
             exclude_dirs: [db/schema/99_seed]\ndatabase:\n  host: db\n  port: 6543\n  \
             database: app\n  user: app\n  password: ${DB_PASSWORD}\n\
             migrations_table: ops.ledger\nlock_timeout: 2s\nstatement_timeout: 1min\nprotected: true\n",
        )
        .unwrap();
        assert_eq!(env.name, "staging");
        assert_eq!(env.include_dirs.len(), 2);
        assert_eq!(env.migrations_table, "ops.ledger");
        assert_eq!(env.lock_timeout_ms, 2_000);
        assert_eq!(env.statement_timeout_ms, 60_000);
        assert!(env.protected);
        let Some(DatabaseSetting::Parts(parts)) = env.database else {
            panic!("parts")
        };
        assert_eq!(
            (parts.host.as_str(), parts.port, parts.password.as_deref()),
            ("db", 6543, Some("s3cret"))
        );
        assert!(!format!("{parts:?}").contains("s3cret"));
    }

    /// An upstream-shaped fixture (tests/e2e/fixtures/upstream/), parsed.
    fn upstream_fixture(name: &str) -> Environment {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/fixtures/upstream");
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        Environment::parse(
            &text,
            name.trim_end_matches(".yaml"),
            &Path::new("/p/db/environments").join(name),
            Path::new("/p"),
            |_| None,
        )
        .unwrap_or_else(|e| panic!("{name}: {e:#}"))
    }

    /// The keys the warnings name, with their lines.
    fn warned(env: &Environment) -> Vec<String> {
        env.warnings
            .iter()
            .map(|w| {
                let (at, rest) = w.split_once(": `").expect("file:line: `key`");
                let key = rest.split('`').next().unwrap();
                let line = at.rsplit(':').next().unwrap();
                format!("{key}@{line}")
            })
            .collect()
    }

    #[test]
    fn upstream_init_file_is_read_with_one_warning() {
        let env = upstream_fixture("init.yaml");
        let Some(DatabaseSetting::Parts(parts)) = &env.database else {
            panic!("the database map")
        };
        assert_eq!(
            (
                parts.dbname.as_str(),
                parts.user.as_str(),
                parts.password.as_deref()
            ),
            ("shop_local", "shop", Some("shop"))
        );
        assert_eq!(env.include_dirs.len(), 2);
        assert_eq!(warned(&env), ["migration.view_helpers@18"]);
        assert!(
            env.warnings[0].contains("dependent views"),
            "{}",
            env.warnings[0]
        );
    }

    #[test]
    fn upstream_reference_example_names_the_table_and_asks_first() {
        let env = upstream_fixture("reference.yaml");
        assert_eq!(env.migrations_table, "ops.shop_ledger");
        assert!(env.require_confirmation && !env.protected);
        assert_eq!(warned(&env), ["auto_backup@10"]);
    }

    #[test]
    fn upstream_pool_settings_are_reported_and_the_timeout_honoured() {
        let env = upstream_fixture("pooled.yaml");
        let Some(DatabaseSetting::Parts(parts)) = &env.database else {
            panic!("the database map")
        };
        assert_eq!(
            (
                parts.port,
                parts.sslmode.as_deref(),
                parts.connect_timeout_secs
            ),
            (6432, Some("require"), Some(7))
        );
        assert_eq!(
            warned(&env),
            [
                "options@17",
                "database.pool_size@10",
                "database.max_overflow@11",
                "database.pool_timeout@12"
            ]
        );
        assert_eq!(
            env.exclude_dirs,
            [PathBuf::from("db/schema/00_common/roles.sql")]
        );
    }

    #[test]
    fn upstream_legacy_migration_table_names_the_ledger() {
        let env = upstream_fixture("legacy-table.yaml");
        assert_eq!(env.migrations_table, "shop_migrations");
        assert_eq!(
            warned(&env),
            ["verbose@6", "log_queries@7", "migration_table@5"]
        );
        assert!(env.warnings[2].contains("migration: {tracking_table"));
    }

    #[test]
    fn upstream_include_dirs_map_form_is_honoured() {
        let env = upstream_fixture("acls-list.yaml");
        assert_eq!(
            env.include_dirs,
            [
                IncludeDir {
                    path: PathBuf::from("db/schema"),
                    recursive: true,
                    include: vec!["**/*.sql".into()],
                    exclude: vec!["**/*.bak".into(), "**/scratch/**".into()],
                    order: 10,
                    required: true,
                },
                IncludeDir {
                    path: PathBuf::from("db/seeds/common"),
                    recursive: false,
                    include: vec!["*.sql".into()],
                    exclude: vec![],
                    order: 20,
                    required: false,
                },
                IncludeDir {
                    path: PathBuf::from("db/seeds/optional"),
                    recursive: true,
                    include: vec![DEFAULT_INCLUDE.into()],
                    exclude: vec![],
                    order: 30,
                    required: false,
                },
            ]
        );
        assert_eq!(warned(&env), ["acls@16"]);
    }

    #[test]
    fn every_upstream_key_is_read_and_each_unused_one_reported_once() {
        let env = upstream_fixture("complete.yaml");
        assert_eq!(env.sort_mode, SortMode::Numbered);
        assert_eq!(env.lock_wait_ms, Some(45_000));
        assert_eq!(env.migrations_table, "tb_confiture");
        assert_eq!(env.include_dirs[1].order, 5);
        let keys = warned(&env);
        let expected = RawEnvironment::REPORTED.len()
            + RawMigration::REPORTED.len()
            + RawBuild::REPORTED.len();
        assert_eq!(keys.len(), expected, "{keys:#?}");
        for key in [
            "seed@52",
            "ssh_tunnel@63",
            "acls@69",
            "acls_lint_enabled@110",
            "auto_backup@96",
            "build.two_pass@15",
            "migration.strict_mode@30",
            "migration.view_helpers@38",
        ] {
            assert!(keys.contains(&key.to_string()), "{key} not in {keys:#?}");
        }
        for warning in &env.warnings {
            assert!(
                warning.starts_with("db/environments/complete.yaml:"),
                "{warning}"
            );
        }
    }

    #[test]
    fn every_reported_key_has_its_advice() {
        for (keys, table) in [
            (RawEnvironment::REPORTED, upstream::TOP_LEVEL),
            (RawMigration::REPORTED, upstream::MIGRATION),
            (RawBuild::REPORTED, upstream::BUILD),
            (RawDatabase::REPORTED, upstream::DATABASE),
        ] {
            assert_eq!(keys.len(), table.len());
            for key in keys {
                assert!(upstream::advice(table, key).is_some(), "{key}");
            }
        }
    }

    #[test]
    fn upstream_settings_that_lose_protection_are_reported() {
        let env =
            parse("migration:\n  locking:\n    enabled: false\n    timeout_ms: 1500\n").unwrap();
        assert_eq!(env.lock_wait_ms, Some(1500));
        assert_eq!(warned(&env), ["migration.locking.enabled@3"]);
        assert!(env.warnings[0].contains("always takes the migration lock"));
    }

    #[test]
    fn keys_upstream_does_not_know_either_stay_errors_with_the_right_hint() {
        let f = failure("name: x\nmigratoin:\n  tracking_table: t\n");
        assert!(
            f.message.contains("local.yaml:2:1") && f.message.contains("`migratoin`"),
            "{}",
            f.message
        );
        assert_eq!(f.hint.as_deref(), Some("did you mean `migration`?"));
        let f = failure("migration:\n  trackng_table: t\n");
        assert!(
            f.message.contains("`migration.trackng_table`"),
            "{}",
            f.message
        );
        assert_eq!(f.hint.as_deref(), Some("did you mean `tracking_table`?"));
        let f = failure("include_dirs:\n  - path: db/schema\n    recursiv: false\n");
        assert!(f.message.contains("local.yaml:3:5"), "{}", f.message);
        assert_eq!(f.hint.as_deref(), Some("did you mean `recursive`?"));
        let f = failure("aws:\n  region: eu-west-1\n");
        assert!(f.message.contains("`aws`"), "{}", f.message);
        let f = failure("include_dirs:\n  - recursive: true\n");
        assert!(f.message.contains("path"), "{}", f.message);
    }

    #[test]
    fn two_tracking_table_spellings_must_agree() {
        let env = parse("migrations_table: a\nmigration:\n  tracking_table: a\n").unwrap();
        assert_eq!(env.migrations_table, "a");
        let f = failure("migrations_table: a\nmigration:\n  tracking_table: b\n");
        assert!(
            f.message
                .contains("`migrations_table` and `migration.tracking_table`")
                && f.message.contains("local.yaml:3"),
            "{}",
            f.message
        );
        assert!(parse("migrations_table: Ops.Ledger_2\n").is_ok());
        assert!(
            failure("migration:\n  tracking_table: a-b\n")
                .message
                .contains(":2:")
        );
    }

    #[test]
    fn sort_mode_and_patterns_are_checked() {
        let f = failure("build:\n  sort_mode: natural\n");
        assert!(
            f.message
                .contains("local.yaml:2: build.sort_mode: `natural`"),
            "{}",
            f.message
        );
        assert_eq!(
            parse("build:\n  sort_mode: alphabetical\n")
                .unwrap()
                .sort_mode,
            SortMode::Alphabetical
        );
        assert_eq!(parse("name: x\n").unwrap().sort_mode, SortMode::Natural);
        let f = failure("include_dirs:\n  - path: db/schema\n    exclude: [\"../x/*.sql\"]\n");
        assert!(f.message.contains("`../x/*.sql`"), "{}", f.message);
    }

    #[test]
    fn unknown_key_names_file_line_and_suggestion() {
        let f = failure("name: local\ndatabse_url: postgresql://x/y\n");
        assert!(f.message.contains("local.yaml:2:1"), "{}", f.message);
        assert!(f.message.contains("`databse_url`"), "{}", f.message);
        assert_eq!(f.hint.as_deref(), Some("did you mean `database_url`?"));
    }

    #[test]
    fn unknown_nested_key_is_qualified() {
        let f = failure("database:\n  hostname: x\n  database: app\n");
        assert!(f.message.contains(":2:3"), "{}", f.message);
        assert!(f.message.contains("`database.hostname`"), "{}", f.message);
        assert_eq!(f.hint.as_deref(), Some("did you mean `host`?"));
    }

    #[test]
    fn wrong_type_names_key_and_line() {
        let f = failure("name: local\nprotected: maybe\n");
        assert!(f.message.contains("local.yaml:2:"), "{}", f.message);
        assert!(f.message.contains("protected"), "{}", f.message);
        let f = failure("database:\n  database: app\n  port: [5432]\n");
        assert!(
            f.message
                .contains("local.yaml:3:9: database.port: invalid type"),
            "{}",
            f.message
        );
        let f = failure("lock_timeout: 5 parsecs\n");
        assert!(f.message.contains("unknown duration unit"), "{}", f.message);
    }

    #[test]
    fn unset_variable_is_an_error_naming_it() {
        let f = failure("plugins_dir: ${NOPE}/plugins\n");
        assert!(f.message.contains("${NOPE}"), "{}", f.message);
        assert!(f.message.contains(":1"), "{}", f.message);
    }

    #[test]
    fn an_unset_database_variable_waits_for_a_command_that_connects() {
        let env = parse("lock_timeout: 1s\ndatabase_url: postgresql://u:${NOPE}@h/db\n").unwrap();
        let Some(DatabaseSetting::Unresolved { message, hint }) = &env.database else {
            panic!("{:?}", env.database)
        };
        assert!(
            message.ends_with("local.yaml:2: `database_url` uses ${NOPE}, which is not set"),
            "{message}"
        );
        assert!(hint.contains("export NOPE="), "{hint}");
        let env = parse("database:\n  database: app\n  password: ${NOPE}\n").unwrap();
        assert!(matches!(
            env.database,
            Some(DatabaseSetting::Unresolved { .. })
        ));
        // Other mistakes in the database setting still fail the file.
        let f = failure("database:\n  host: ${DB_PASSWORD}\n  port: x\n  database: app\n");
        assert!(
            f.message.contains("`x` is not a port number"),
            "{}",
            f.message
        );
    }

    #[test]
    fn yes_no_on_off_are_flags() {
        for (word, value) in [
            ("yes", true),
            ("on", true),
            ("true", true),
            ("YES", true),
            ("\"on\"", true),
            ("no", false),
            ("off", false),
            ("false", false),
            ("Off", false),
        ] {
            let env = parse(&format!(
                "protected: {word}\nrequire_confirmation: {word}\n"
            ))
            .unwrap_or_else(|e| panic!("{word}: {e:#}"));
            assert_eq!(
                (env.protected, env.require_confirmation),
                (value, value),
                "{word}"
            );
        }
        let f = failure("name: local\nprotected: maybe\n");
        assert!(
            f.message
                .contains("local.yaml:2:12: protected: `maybe` is not a yes/no value"),
            "{}",
            f.message
        );
    }

    #[test]
    fn durations_out_of_range_are_refused_at_load_naming_the_line() {
        for (yaml, written) in [
            ("lock_timeout: 3000000h", "3000000h"),
            ("statement_timeout: 2147483648", "2147483648"),
            (
                "migration:\n  locking:\n    timeout_ms: 5124095576031h",
                "5124095576031h",
            ),
        ] {
            let f = failure(&format!("name: local\n{yaml}\n"));
            assert_eq!(f.code, crate::error::ExitCode::Config);
            assert!(
                f.message.contains("local.yaml:")
                    && f.message.contains(&format!("`{written}` is out of range")),
                "{}",
                f.message
            );
        }
        let f = failure("name: local\nlock_timeout: 3000000h\n");
        assert!(f.message.contains("local.yaml:2:"), "{}", f.message);
        assert_eq!(
            parse("lock_timeout: 596h\n").unwrap().lock_timeout_ms,
            596 * 3_600_000
        );
    }

    #[test]
    fn both_database_forms_are_refused() {
        let f = failure("database_url: postgresql://h/db\ndatabase:\n  database: db\n");
        assert!(f.message.contains("both"));
    }

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
    fn risk_and_wizard_settings() {
        let env = parse(
            "risk:\n  large_table_rows: 5000\n  huge_table_rows: 90000\n\
             wizard:\n  approvals_required:\n    high: 1\n    critical: 2\n",
        )
        .unwrap();
        assert_eq!(
            (env.risk.large_table_rows, env.risk.huge_table_rows),
            (5000, 90000)
        );
        let required = env.wizard.approvals_required;
        assert_eq!(
            (
                required.at(crate::risk::Level::Low),
                required.at(crate::risk::Level::High),
                required.at(crate::risk::Level::Critical)
            ),
            (0, 1, 2)
        );
        let defaults = parse("name: x\n").unwrap();
        assert_eq!(defaults.risk, SizeThresholds::default());
        assert_eq!(
            defaults
                .wizard
                .approvals_required
                .at(crate::risk::Level::Critical),
            0
        );
        let f = failure("wizard:\n  approvals_required:\n    severe: 1\n");
        assert!(f.message.contains("local.yaml:3:"), "{}", f.message);
        assert!(f.message.contains("severe"), "{}", f.message);
        let f = failure("risk:\n  large_table_rows: 10\n  huge_table_rows: 5\n");
        assert!(f.message.contains("local.yaml:3"), "{}", f.message);
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

    #[test]
    fn hooks_key_reads_metadata_order_and_per_hook_settings() {
        let env = parse(
            "hooks:\n  metadata:\n    team: data\n    secret: ${DB_PASSWORD}\n    n: 3\n  \
             order: [b-hook, a-hook]\n  plugins:\n    a-hook:\n      events: [post_execute, \
             pre-validate]\n      environments: [production]\n      policy: warn\n",
        )
        .unwrap();
        let hooks = &env.hooks;
        assert_eq!(hooks.metadata["team"], "data");
        assert_eq!(hooks.metadata["secret"], "s3cret");
        assert_eq!(hooks.metadata["n"], "3");
        assert_eq!(hooks.order, ["b-hook", "a-hook"]);
        let a = &hooks.plugins["a-hook"];
        assert_eq!(
            a.events.as_deref(),
            Some(&["post-execute".to_string(), "pre-validate".to_string()][..])
        );
        assert_eq!(
            a.environments.as_deref(),
            Some(&["production".to_string()][..])
        );
        assert_eq!(a.policy, HookPolicy::Warn);
        assert_eq!(a.line, Some(8));
        assert_eq!(parse("").unwrap().hooks, HooksSettings::default());
    }

    #[test]
    fn hooks_key_errors_name_the_line_and_the_fix() {
        let f = failure("hooks:\n  plugins:\n    a-hook:\n      policy: warn\n      evnts: []\n");
        assert!(f.message.contains("local.yaml:5"), "{}", f.message);
        assert!(
            f.message.contains("hooks.plugins.a-hook.evnts"),
            "{}",
            f.message
        );
        assert_eq!(f.hint.as_deref(), Some("did you mean `events`?"));

        let f = failure("hooks:\n  plugins:\n    a-hook:\n      events: [post-exec]\n");
        assert!(f.message.contains("local.yaml:4"), "{}", f.message);
        assert_eq!(f.hint.as_deref(), Some("did you mean `post-execute`?"));

        let f = failure("hooks:\n  order: [a-hook, a-hook]\n");
        assert!(
            f.message
                .contains("local.yaml:2: hooks.order lists `a-hook` twice"),
            "{}",
            f.message
        );

        let f = failure("hooks:\n  ordr: []\n");
        assert_eq!(f.hint.as_deref(), Some("did you mean `order`?"));
    }
}
