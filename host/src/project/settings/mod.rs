//! An environment file, `db/environments/<name>.yaml`: the upstream Python Confiture's keys
//! plus Confiture's own, read into one [`Environment`]. This file reads the file and composes
//! the settings of each feature; each feature's keys, their types and their checks live in
//! their own file:
//!
//! - [`database`]: `database_url:` or the `database:` map.
//! - `schema`: `include_dirs:`, `exclude_dirs:`, `build.sort_mode`.
//! - [`migrations`]: the tracking table (three spellings) and its defaults.
//! - [`plugins`]: `plugins:` (grants, limits, config, roles) and `plugin_sandbox:`.
//! - [`hooks`]: `hooks:` (metadata, order, per-hook events, environments, policy).
//! - [`linting`]: `linting:`, as written (the rules are checked by `confiture lint`).
//! - `risk`: `risk:`, the table-size thresholds.
//! - [`wizard`]: `wizard:`, approvals per risk level.
//! - `upstream`: upstream keys Confiture reads but has no feature for, reported once each.
//! - `values`: the scalar forms every feature accepts (yes/no flags, durations, any scalar).
//! - `yaml`: YAML errors turned into `file:line:column` messages with a "did you mean", and
//!   the lines of keys for errors found after parsing.

pub mod database;
pub mod hooks;
pub mod linting;
pub mod migrations;
pub mod plugins;
mod risk;
mod schema;
mod upstream;
mod values;
pub mod wizard;
mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use self::database::{DatabaseSetting, RawDatabase};
use self::hooks::{HooksSettings, RawHooks};
use self::linting::LintingSettings;
use self::migrations::{DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_MIGRATIONS_TABLE};
use self::plugins::{PluginSandbox, PluginSettings, RawPlugin, RawPluginSandbox};
use self::schema::RawIncludeDir;
use self::upstream::with_reported_keys;
use self::values::{duration_ms, flag};
use self::wizard::WizardSettings;
use self::yaml::{at_line, line_in_block, line_of_key, top_level_line, yaml_failure};
use super::schema_files::{IncludeDir, SortMode};
use super::vars;
use crate::error::Failure;
use crate::risk::SizeThresholds;
use crate::strings::{did_you_mean, display_relative};

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
                    "{}: `{key}` uses ${{{var}}}, which is not set",
                    at_line(&shown, line)
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
        env.database =
            database::setting(raw.database_url, raw.database, &shown, text, &expand_value)?;
        if let Some(dirs) = raw.include_dirs {
            env.include_dirs = schema::include_dirs(dirs, &shown, text, &expand)?;
        }
        if let Some(mode) = raw.build.as_ref().and_then(|b| b.sort_mode.as_deref()) {
            env.sort_mode = schema::sort_mode(mode, &shown, text)?;
        }
        if let Some(dirs) = raw.exclude_dirs {
            env.exclude_dirs = schema::expand_paths("exclude_dirs", dirs, &expand)?;
        }
        if let Some(dir) = raw.migrations_dir {
            env.migrations_dir = PathBuf::from(expand("migrations_dir", dir)?);
        }
        let tracking_table = raw.migration.as_mut().and_then(|m| m.tracking_table.take());
        if let Some(table) = migrations::tracking_table(
            [
                ("migrations_table", raw.migrations_table),
                ("migration.tracking_table", tracking_table),
                ("migration_table", raw.migration_table),
            ],
            &shown,
            text,
        )? {
            env.migrations_table = table;
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
            let settings = plugins::plugin_settings(&name, plugin, &shown, text, &expand)?;
            env.plugins.insert(name, settings);
        }
        if let Some(hooks) = raw.hooks {
            env.hooks = hooks::hooks_settings(hooks, &shown, text, &expand)?;
        }
        env.linting = raw.linting.unwrap_or_default();
        env.risk = risk::thresholds(raw.risk.unwrap_or_default(), &shown, text)?;
        env.wizard = raw.wizard.unwrap_or_default();
        if let Some(sandbox) = raw.plugin_sandbox {
            env.plugin_sandbox = plugins::plugin_sandbox(sandbox, &shown, text)?;
        }
        plugins::check_plugin_roles(&env.plugins, &shown, text)?;
        Ok(env)
    }
}

/// The messages for the upstream keys `raw` sets that Confiture does not use (see
/// `upstream.rs`), each with its line and what to use instead.
fn upstream_warnings(raw: &RawEnvironment, shown: &str, text: &str) -> Vec<String> {
    let say = |key: &str, line: Option<usize>, advice: &str| {
        format!(
            "{}: `{key}` is an upstream Confiture setting that has no effect here: {advice}",
            at_line(shown, line)
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

#[cfg(test)]
pub(crate) mod testing {
    //! Parsing an environment file's text in tests.
    use std::path::Path;

    use super::Environment;
    use crate::error::Failure;

    pub(crate) fn parse(text: &str) -> anyhow::Result<Environment> {
        let lookup = |v: &str| (v == "DB_PASSWORD").then(|| "s3cret".to_string());
        Environment::parse(
            text,
            "local",
            Path::new("/p/db/environments/local.yaml"),
            Path::new("/p"),
            lookup,
        )
    }

    pub(crate) fn failure(text: &str) -> Failure {
        let err = parse(text).unwrap_err();
        err.downcast::<Failure>().expect("a Failure")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::schema_files::DEFAULT_INCLUDE;
    use crate::project::settings::testing::{failure, parse};

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
    fn unset_variable_is_an_error_naming_it() {
        let f = failure("plugins_dir: ${NOPE}/plugins\n");
        assert!(f.message.contains("${NOPE}"), "{}", f.message);
        assert!(f.message.contains(":1"), "{}", f.message);
    }
}
