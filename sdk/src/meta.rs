//! What a plugin says about itself: the [`Plugin`] trait every plugin implements, and the
//! metadata types of the kinds.

/// What a plugin may ask the host to allow; the environment file grants it per plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Capability {
    /// Read the database a hook runs against (queries run so that no write survives).
    DbRead,
    /// Write to the database a hook runs against, inside the migration's transaction.
    DbWrite,
}

/// The points of a migration run at which hooks fire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HookEvent {
    /// Once per run, before the checks that precede applying.
    PreValidate,
    /// Once per run, after those checks passed.
    PostValidate,
    /// Per migration, inside its transaction, before its SQL runs.
    PreExecute,
    /// Per migration, inside its transaction, after its SQL ran (sees uncommitted changes).
    PostExecute,
    /// After a migration was rolled back.
    PostRollback,
    /// When a run fails.
    OnError,
}

/// How serious a lint finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing; never fails a run.
    Info,
    /// Should be fixed; fails a run with `--fail-level warning`.
    Warning,
    /// Must be fixed; fails a run by default.
    Critical,
}

/// One anonymization strategy a plugin provides (see [`crate::Strategy::STRATEGIES`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StrategyInfo {
    /// Name used in `anonymization.yaml` (`strategy: <name>`), unique across plugins.
    pub name: &'static str,
    /// One line for `confiture plugins list`.
    pub description: &'static str,
    /// Other columns of the same row the strategy needs to see; only these are sent.
    pub context_columns: &'static [&'static str],
    /// PostgreSQL type names accepted (e.g. `text`, `varchar`); empty accepts any.
    pub accepted_types: &'static [&'static str],
    /// True when the output depends only on the input and the keyed hash (the host may cache).
    pub deterministic: bool,
}

/// One lint rule a plugin provides (see [`crate::Lint::RULES`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleInfo {
    /// Stable identifier, e.g. `tenant_id_required`, used by `--exclude-rules`.
    pub id: &'static str,
    /// Category: naming, structure, security, performance, compliance or migration.
    pub category: &'static str,
    /// Severity unless the configuration overrides it.
    pub default_severity: Severity,
    /// What the rule checks and why it matters.
    pub description: &'static str,
}

/// Identity of a plugin, implemented by every plugin type alongside the trait of each kind it
/// provides ([`crate::Hook`], [`crate::Strategy`], [`crate::Lint`]). The host reads it once,
/// when the plugin loads.
pub trait Plugin: Default + 'static {
    /// Unique plugin name (lower-case `a-z0-9-`), used in the environment file.
    const NAME: &'static str;
    /// The plugin's version (semver); `env!("CARGO_PKG_VERSION")` keeps it with the crate's.
    const VERSION: &'static str;
    /// One line for `confiture plugins list`.
    const DESCRIPTION: &'static str;
    /// Capabilities asked for; the environment file decides which are granted.
    const CAPABILITIES: &'static [Capability] = &[];
}

/// The metadata the host receives from `describe`, as the SDK assembles it from the traits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginInfo {
    /// [`Plugin::NAME`].
    pub name: &'static str,
    /// [`Plugin::VERSION`].
    pub version: &'static str,
    /// [`Plugin::DESCRIPTION`].
    pub description: &'static str,
    /// [`Plugin::CAPABILITIES`].
    pub capabilities: &'static [Capability],
    /// [`crate::Hook::EVENTS`], or empty without hooks.
    pub hooks: &'static [HookEvent],
    /// [`crate::Strategy::STRATEGIES`], or empty without strategies.
    pub strategies: &'static [StrategyInfo],
    /// [`crate::Lint::RULES`], or empty without lint rules.
    pub rules: &'static [RuleInfo],
}

impl PluginInfo {
    /// The identity of `P`, with no kind yet.
    pub fn of<P: Plugin>() -> Self {
        Self {
            name: P::NAME,
            version: P::VERSION,
            description: P::DESCRIPTION,
            capabilities: P::CAPABILITIES,
            hooks: &[],
            strategies: &[],
            rules: &[],
        }
    }
}
