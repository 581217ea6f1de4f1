//! The clap argument types, one per command.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::error::Convention;
use crate::output::Format;
use crate::plugins::Kind;
use crate::plugins::scaffold::PluginLang;
use crate::project::settings::linting::Severity;

/// Confiture: build PostgreSQL schemas from DDL, run migrations that never half-apply, sync
/// production data with anonymization, lint SQL — extended by sandboxed WebAssembly plugins.
#[derive(Debug, Parser)]
#[command(
    name = "confiture",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("CONFITURE_GIT_HASH"), ")"),
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Environment: reads db/environments/<ENV>.yaml (default: local)
    #[arg(long, short_alias = 'e', global = true, env = "CONFITURE_ENV")]
    pub env: Option<String>,

    /// Upstream's `-c/--config FILE`: the environment file itself (instead of --env NAME)
    #[arg(long, short = 'c', global = true, value_name = "FILE", hide = true)]
    pub config: Option<PathBuf>,

    /// Database URL; overrides the environment file, CONFITURE_DATABASE_URL and DATABASE_URL
    #[arg(long, short_alias = 'd', global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// Upstream's `--migrations-dir DIR`: overrides the environment's migrations_dir
    #[arg(long, global = true, value_name = "DIR", hide = true)]
    pub migrations_dir: Option<PathBuf>,

    /// Output format (sarif and github: `confiture lint` only)
    #[arg(long, short_alias = 'f', global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Exit codes: Confiture's, or the upstream Python Confiture's where they differ (a failed
    /// migration 3 instead of 1, a missing .down.sql 3 instead of 8, a usage error 2 instead of
    /// 5)
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "CONVENTION",
        env = "CONFITURE_EXIT_CODES",
        default_value_t = Convention::Confiture
    )]
    pub exit_codes: Convention,

    /// Project directory (default: the current directory or the nearest parent with `db/`)
    #[arg(long, short = 'C', global = true, value_name = "DIR")]
    pub project: Option<PathBuf>,

    /// Load this plugin component too, besides the project's plugins directory (repeatable)
    #[arg(long = "plugin", global = true, value_name = "PATH")]
    pub plugins: Vec<PathBuf>,

    /// Compile plugins on every run instead of using the compiled-artifact cache
    #[arg(long, global = true)]
    pub no_plugin_cache: bool,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new project layout (schema, migrations, environments, plugins)
    Init(InitArgs),
    /// Manage the project's throwaway local PostgreSQL under .confiture/pg/
    #[command(subcommand)]
    Db(DbCommand),
    /// Concatenate the schema files into one SQL file, and optionally apply it
    Build(BuildArgs),
    /// Versioned migrations: generate, apply, roll back, inspect
    #[command(subcommand)]
    Migrate(MigrateCommand),
    /// WebAssembly plugins: list what is loaded, inspect a component, start a new plugin
    #[command(subcommand)]
    Plugins(PluginsCommand),
    /// Migration hooks: which hook plugins fire on which event
    #[command(subcommand)]
    Hooks(HooksCommand),
    /// Lint schema and migration SQL: naming, structure, security, performance, compliance and
    /// migration safety
    Lint(LintArgs),
    /// Copy the data of one database into another (typically production into development),
    /// anonymizing personal data on the way
    Sync(SyncArgs),
    /// Print a shell completion script (bash, zsh or fish) to stdout
    Completions(CompletionsArgs),
}

/// `confiture completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

/// Shells `confiture completions` writes scripts for.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CompletionShell {
    /// GNU bash: `source <(confiture completions bash)`
    Bash,
    /// zsh: write to a directory on `$fpath` as `_confiture`
    Zsh,
    /// fish: write to ~/.config/fish/completions/confiture.fish
    Fish,
}

/// `confiture sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Source: an environment name (db/environments/<NAME>.yaml) or a postgres:// URL
    #[arg(long, value_name = "ENV|URL")]
    pub from: String,
    /// Target: an environment name or a postgres:// URL; its tables are replaced
    #[arg(long, value_name = "ENV|URL")]
    pub to: String,
    /// Only these tables (`table` or `schema.table`, comma-separated)
    #[arg(long, value_delimiter = ',', value_name = "TABLES")]
    pub tables: Vec<String>,
    /// Not these tables (`table` or `schema.table`, comma-separated)
    #[arg(long, value_delimiter = ',', value_name = "TABLES")]
    pub exclude: Vec<String>,
    /// Only the tables of these schemas (default: every schema but the system ones)
    #[arg(long, value_delimiter = ',', value_name = "SCHEMAS")]
    pub schemas: Vec<String>,
    /// Anonymize the columns listed in the anonymization file
    #[arg(long)]
    pub anonymize: bool,
    /// The anonymization file (default: db/sync/anonymization.yaml)
    #[arg(long, value_name = "PATH")]
    pub anonymization_config: Option<PathBuf>,
    /// Use a plugin's strategy under NAME in the anonymization file (repeatable; also
    /// NAME=PLUGIN.EXPORT)
    #[arg(long = "strategy", value_name = "NAME=PLUGIN[:EXPORT]")]
    pub strategies: Vec<crate::anonymize::plugin::StrategyMapping>,
    /// Table groups copied at once, and source readers in all (default: half the machine's
    /// cores)
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Rows per anonymization call
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub batch_size: usize,
    /// Record each committed table group in FILE
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// Skip the groups the checkpoint file lists as committed (refused when the checkpoint
    /// was written by a run with other databases, tables, anonymization, plugins or secret)
    #[arg(long, requires = "checkpoint")]
    pub resume: bool,
    /// Load in replica mode: the target's triggers do not fire and foreign keys are not
    /// checked (needs a superuser, or SET on session_replication_role)
    #[arg(long)]
    pub disable_triggers: bool,
    /// Show the plan and a before/after sample of every anonymized column; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Allow a target environment marked `protected: true` (asks for the database name)
    #[arg(long)]
    pub allow_protected_target: bool,
}

/// `confiture lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Files or directories to lint (default: the environment's include_dirs and migrations dir)
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Fail (exit 1) when a finding is at least this severe (default: linting.fail_level, else
    /// critical)
    #[arg(long, value_parser = super::values::fail_level(), value_name = "LEVEL")]
    pub fail_level: Option<Severity>,
    /// Rules or categories not to run, comma-separated
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub exclude_rules: Vec<String>,
    /// Write the report to FILE instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// List the rules (with the environment's settings applied) and exit
    #[arg(long)]
    pub list_rules: bool,
    /// Also run the lint rules of this WASM plugin, or of every `.wasm` in this directory
    /// (the project's plugins directory is always searched); repeatable
    #[arg(long, value_name = "PATH")]
    pub rules: Vec<PathBuf>,
}

/// `confiture init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to create the project in (default: the current directory)
    pub dir: Option<PathBuf>,
    /// Overwrite files that already exist
    #[arg(long)]
    pub force: bool,
}

/// `confiture db ...`.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Start the local cluster (creating it on first use); does nothing if it runs already
    Start,
    /// Stop the local cluster
    Stop,
    /// Show whether the local cluster runs, where, and on which port
    Status,
    /// Print the local database's connection URL
    Url,
    /// Drop and recreate the local project database (the cluster keeps running)
    Reset,
}

/// `confiture build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Where to write the schema (default: db/generated/schema_<env>.sql)
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Create the schema in the target database, an empty one (one transaction); records no
    /// migration unless --mark-migrations-applied
    #[arg(long)]
    pub apply: bool,
    /// With --apply: also record every migration in db/migrations/ as applied, without running
    /// it (only when db/schema/ already holds what each of them does)
    #[arg(long, requires = "apply")]
    pub mark_migrations_applied: bool,
    /// With --apply: drop every user schema in the target database first
    #[arg(long, requires = "apply")]
    pub drop_existing: bool,
    /// Do not ask for confirmation on a protected environment
    #[arg(long)]
    pub yes: bool,
}

/// `confiture migrate ...`.
#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Create db/migrations/<UTC timestamp>_<name>.up.sql and .down.sql
    Generate(GenerateArgs),
    /// Apply pending migrations, each in its own transaction
    ///
    /// Each migration commits together with its tracking row, or is rolled back with nothing
    /// left; the transaction is checked after every hook call and every statement that could
    /// end it. A file made only of statements that cannot run in a transaction (CREATE INDEX
    /// CONCURRENTLY, VACUUM, ...) runs outside one by itself, as does a file whose first line is
    /// `-- confiture: no-transaction`. Refused before anything runs (exit 5, file:line): COMMIT,
    /// ROLLBACK, SAVEPOINT or a nested BEGIN in a transactional file (one BEGIN ... COMMIT
    /// around the whole file is accepted), a statement that cannot run in a transaction mixed
    /// with others, psql meta-commands (\i, \set, \connect, ...) and unclosed quotes or comments. A re-run over an
    /// INVALID index the file would create is refused (exit 7).
    Up(UpArgs),
    /// Roll back applied migrations with their .down.sql
    Down(DownArgs),
    /// Show applied, pending, changed and missing migrations
    Status,
    /// Compare checksums on disk with the tracking table; non-zero exit on drift
    Verify(VerifyArgs),
    /// Mark migrations up to a version as applied without running them
    Baseline(BaselineArgs),
    /// Apply pending migrations step by step: risk and reasons, review, confirmations, approvals
    Wizard(WizardArgs),
    /// Approve a pending migration (bound to its checksum and to you)
    Approve(ApproveArgs),
    /// Schedule a pending migration (`VERSION --at TIME`), or `list` / `cancel VERSION`
    Schedule(ScheduleArgs),
    /// Apply the scheduled migrations that are due and approved, without prompts (cron, CI)
    RunScheduled(RunScheduledArgs),
    /// Show the audit trail: reviews, approvals, backups, schedules, applications, failures
    Audit(AuditArgs),
}

/// `confiture migrate wizard`.
#[derive(Debug, Args)]
pub struct WizardArgs {
    /// Stop after this version
    #[arg(long, value_name = "VERSION")]
    pub target: Option<String>,
    /// Open each migration's SQL before its question: highlighted, risky statements marked
    #[arg(long)]
    pub review: bool,
    /// Answer yes for low-risk migrations (still asks for the others)
    #[arg(long)]
    pub auto: bool,
    /// Before a critical migration, require typing the database name to confirm a backup
    #[arg(long)]
    pub require_backup: bool,
    /// Give up on any question after this many seconds: no answer means no
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
    /// Require at least one approval from someone else for every migration
    #[arg(long)]
    pub collaborative: bool,
    /// Schedule the confirmed migrations for TIME instead of applying them now
    #[arg(long, value_name = "TIME")]
    pub schedule: Option<String>,
    /// Lock options.
    #[command(flatten)]
    pub lock: LockArgs,
}

/// `confiture migrate approve`.
#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The pending migration's version
    pub version: String,
    /// Why, or what you checked
    #[arg(long)]
    pub comment: Option<String>,
    /// Approve as this person (default: CONFITURE_USER, git user.email, the OS user)
    #[arg(long = "as", value_name = "WHO")]
    pub approver: Option<String>,
}

/// `confiture migrate schedule`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ScheduleArgs {
    /// `list` or `cancel`.
    #[command(subcommand)]
    pub action: Option<ScheduleAction>,
    /// The pending migration's version
    #[arg(required = true)]
    pub version: Option<String>,
    /// When: `2026-12-03 02:00` (UTC), RFC 3339 with an offset, or `+2h`
    #[arg(long, value_name = "TIME", required = true)]
    pub at: Option<String>,
    /// Require at least one approval from someone else before it runs
    #[arg(long)]
    pub collaborative: bool,
    /// Schedule as this person (default: CONFITURE_USER, git user.email, the OS user)
    #[arg(long = "as", value_name = "WHO")]
    pub by: Option<String>,
}

/// `confiture migrate schedule list|cancel`.
#[derive(Debug, Subcommand)]
pub enum ScheduleAction {
    /// Scheduled applications still pending (with --all: applied, failed and cancelled too)
    List {
        /// Include finished and cancelled schedules
        #[arg(long)]
        all: bool,
    },
    /// Cancel the pending schedule of a migration
    Cancel {
        /// The migration's version
        version: String,
        /// Cancel as this person (default: CONFITURE_USER, git user.email, the OS user)
        #[arg(long = "as", value_name = "WHO")]
        by: Option<String>,
    },
}

/// `confiture migrate run-scheduled`.
#[derive(Debug, Args)]
pub struct RunScheduledArgs {
    /// Require at least one approval from someone else for every scheduled migration
    #[arg(long)]
    pub collaborative: bool,
    /// Lock options.
    #[command(flatten)]
    pub lock: LockArgs,
}

/// `confiture migrate audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only this migration's entries
    #[arg(long, value_name = "VERSION")]
    pub migration: Option<String>,
    /// Only the last N entries
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

/// `confiture migrate generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// What the migration does, e.g. add_users_email_index
    pub name: String,
}

/// Options shared by commands that take the migration lock.
#[derive(Debug, Args, Clone, Copy)]
pub struct LockArgs {
    /// Fail at once (exit 6) when another run holds the migration lock, instead of waiting
    #[arg(long)]
    pub no_wait: bool,
    /// Give up waiting for the migration lock after this many seconds (exit 6) (default: the
    /// environment's migration.locking.timeout_ms, else 300)
    #[arg(long, value_name = "SECS")]
    pub lock_wait: Option<u64>,
    /// Upstream's `--lock-timeout MS`: --lock-wait in milliseconds
    #[arg(long, value_name = "MS", conflicts_with = "lock_wait", hide = true)]
    pub lock_timeout: Option<u64>,
}

/// How long to wait for the migration lock: `--lock-wait`, else upstream's `--lock-timeout`,
/// else (in `migrate::commands::LockOptions::wait`) the environment's
/// `migration.locking.timeout_ms`, else five minutes.
impl LockArgs {
    /// The flags as the plain values `migrate` takes.
    pub fn options(&self) -> crate::migrate::commands::LockOptions {
        use std::time::Duration;
        crate::migrate::commands::LockOptions {
            no_wait: self.no_wait,
            wait: self
                .lock_wait
                .map(Duration::from_secs)
                .or(self.lock_timeout.map(Duration::from_millis)),
        }
    }
}

/// `confiture migrate up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Apply up to and including this version
    #[arg(long, short_alias = 't', value_name = "VERSION")]
    pub target: Option<String>,
    /// Print the plan and change nothing
    #[arg(long, conflicts_with = "dry_run_execute")]
    pub dry_run: bool,
    /// Run the pending migrations in one transaction, then roll it back (migrations that must
    /// run outside a transaction are skipped, and said so)
    #[arg(long)]
    pub dry_run_execute: bool,
    /// Ask y/N before applying (refused without a terminal unless --yes)
    #[arg(long)]
    pub require_confirmation: bool,
    /// Answer yes to confirmations (needed without a terminal)
    #[arg(long, short_alias = 'y')]
    pub yes: bool,
    /// Lock options.
    #[command(flatten)]
    pub lock: LockArgs,
}

/// `confiture migrate down`.
#[derive(Debug, Args)]
pub struct DownArgs {
    /// Roll back this many migrations (default 1)
    #[arg(long, short_alias = 'n', conflicts_with = "target")]
    pub steps: Option<u32>,
    /// Roll back every migration newer than this version
    #[arg(long, value_name = "VERSION")]
    pub target: Option<String>,
    /// Print what would be rolled back and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Answer yes to confirmations (needed on protected environments without a terminal)
    #[arg(long, short_alias = 'y')]
    pub yes: bool,
    /// Lock options.
    #[command(flatten)]
    pub lock: LockArgs,
}

/// `confiture migrate verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Also run each applied migration's .verify.sql and require its first column to be true
    #[arg(long)]
    pub run: bool,
}

/// `confiture migrate baseline`.
#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// Mark every migration up to and including this version as applied
    #[arg(long, short_alias = 't', value_name = "VERSION")]
    pub through: String,
    /// Answer yes to confirmations on a protected environment
    #[arg(long, short_alias = 'y')]
    pub yes: bool,
}

/// `confiture plugins ...`.
#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// List the plugins found: kinds, hooks/strategies/rules, capabilities, load time, cache
    List,
    /// Show a component's imports and exports (its WIT world) and its metadata
    Inspect(InspectArgs),
    /// Create a plugin project that builds as is (offline): SDK and WIT are written beside it
    New(NewPluginArgs),
    /// Create a least-privilege role for plugins' SQL (read, or --write) and grant it to the
    /// connection's user
    CreateRole(CreateRoleArgs),
}

/// `confiture plugins create-role`.
#[derive(Debug, Args)]
pub struct CreateRoleArgs {
    /// The role (default: `plugin_sandbox.role` of the environment, else confiture_plugin)
    pub role: Option<String>,
    /// Also grant INSERT, UPDATE and DELETE (for plugins granted db-write)
    #[arg(long)]
    pub write: bool,
    /// Schema whose tables the role may read (repeatable; default: public)
    #[arg(long, value_name = "SCHEMA")]
    pub schema: Vec<String>,
    /// Print the SQL instead of running it
    #[arg(long)]
    pub print_sql: bool,
}

/// `confiture hooks ...`.
#[derive(Debug, Subcommand)]
pub enum HooksCommand {
    /// Per event, the hooks that fire in this environment (--env), in order, with their policy
    List,
}

/// `confiture plugins inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The component (.wasm) to inspect
    pub file: PathBuf,
}

/// `confiture plugins new`.
#[derive(Debug, Args)]
pub struct NewPluginArgs {
    /// Plugin name: lower-case letters, digits and `-`, e.g. email-domain-check
    pub name: String,
    /// What the plugin provides
    #[arg(long, value_enum)]
    pub kind: Kind,
    /// Language to write it in
    #[arg(long, value_enum, default_value_t = PluginLang::Rust)]
    pub lang: PluginLang,
    /// Where to create it (default: ./<NAME>)
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}
