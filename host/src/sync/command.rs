//! The `confiture sync` command: the two databases, the safety checks, the anonymization plan,
//! then the copy (or the dry run) and its summary.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use sha2::{Digest, Sha256};

use super::catalog::TableFilter;
use super::checkpoint::Fingerprint;
use super::masking::{self, Masking};
use super::progress::{NoProgress, Progress};
use super::report::{DryRunSummary, SyncSummary};
use super::run::{SyncOptions, dry_run, prepare, sync};
use super::{Connector, bars::Bars};
use crate::anonymize::{
    AnonymizationConfig, KeyedHasher, Registry, deployment_hasher, secret_fingerprint,
};
use crate::context::Globals;
use crate::db::connect::ConnectionSpec;
use crate::error::{ExitCode, Failure};
use crate::plugins::PluginSources;
use crate::project::{Environment, Project, resolve_database};

/// The anonymization file's place in a project.
const DEFAULT_CONFIG: &str = "db/sync/anonymization.yaml";

/// One side of the sync.
struct Endpoint {
    spec: ConnectionSpec,
    /// The environment, when given by name.
    env: Option<Environment>,
    /// As shown in messages (the environment name, or the redacted URL).
    shown: String,
}

/// What `confiture sync` is asked to do (its flags, as plain values).
#[derive(Debug, Clone)]
pub struct SyncRequest {
    /// Source: an environment name or a postgres:// URL.
    pub from: String,
    /// Target: an environment name or a postgres:// URL; its tables are replaced.
    pub to: String,
    /// Only these tables (`table` or `schema.table`).
    pub tables: Vec<String>,
    /// Not these tables.
    pub exclude: Vec<String>,
    /// Only the tables of these schemas (empty: every schema but the system ones).
    pub schemas: Vec<String>,
    /// Anonymize the columns listed in the anonymization file.
    pub anonymize: bool,
    /// The anonymization file (default: db/sync/anonymization.yaml in the project).
    pub anonymization_config: Option<PathBuf>,
    /// Plugin strategies under the names the anonymization file uses.
    pub strategies: Vec<crate::anonymize::plugin::StrategyMapping>,
    /// Table groups copied at once (default: half the machine's cores).
    pub jobs: Option<usize>,
    /// Rows per anonymization call.
    pub batch_size: usize,
    /// Record each committed table group in this file.
    pub checkpoint: Option<PathBuf>,
    /// Skip the groups the checkpoint file lists as committed.
    pub resume: bool,
    /// Load in replica mode (the target's triggers do not fire).
    pub disable_triggers: bool,
    /// Show the plan and samples; write nothing.
    pub dry_run: bool,
    /// Allow a target environment marked `protected: true`.
    pub allow_protected_target: bool,
}

/// Runs `confiture sync`: exit 0 when every group was copied, 1 when some group failed (and
/// was rolled back), 5 for bad configuration, 7 when a protected target was not confirmed.
pub async fn run(g: &Globals, args: &SyncRequest) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let project = Project::find_root(&g.project_dir).ok();
    let from = endpoint(project.as_deref(), &args.from, "--from")?;
    let to = endpoint(project.as_deref(), &args.to, "--to")?;
    if !args.dry_run {
        guard_protected(&to, args.allow_protected_target)?;
    }

    let mut warnings = Vec::new();
    let config_path = match &args.anonymization_config {
        Some(path) => Some(path.clone()),
        None => project.as_ref().map(|root| root.join(DEFAULT_CONFIG)),
    };
    let hasher = if args.anonymize {
        deployment_hasher()?
    } else {
        None
    };
    let config = if args.anonymize {
        let path = config_path.ok_or_else(|| {
            Failure::config("--anonymize needs an anonymization file")
                .hint("pass --anonymization-config PATH, or run inside a project with db/sync/anonymization.yaml")
        })?;
        Some(AnonymizationConfig::load(&path).map_err(as_config_error)?)
    } else {
        if let Some(path) = config_path.filter(|p| p.is_file())
            && let Ok(unused) = AnonymizationConfig::load(&path)
        {
            let columns: usize = unused.tables.iter().map(|t| t.columns.len()).sum();
            if columns > 0 {
                let warning = format!(
                    "{} lists {columns} personal-data column(s), but --anonymize is not given: \
                     they are copied AS THEY ARE",
                    path.display()
                );
                g.out.warn(&warning);
                warnings.push(warning);
            }
        }
        None
    };

    let mut options = SyncOptions {
        jobs: args.jobs.unwrap_or_else(default_jobs).max(1),
        batch_size: args.batch_size.max(1),
        filter: TableFilter {
            tables: args.tables.clone(),
            exclude: args.exclude.clone(),
            schemas: args.schemas.clone(),
            bookkeeping: bookkeeping_tables(&[&from, &to]),
        },
        checkpoint: args.checkpoint.clone(),
        resume: args.resume,
        disable_triggers: args.disable_triggers,
        ..SyncOptions::default()
    };
    let source: Arc<dyn Connector> = Arc::new(from.spec.clone());
    let target: Arc<dyn Connector> = Arc::new(to.spec.clone());
    let prepared = prepare(source.as_ref(), target.as_ref(), &options).await?;
    let mut plugins = Vec::new();
    let masking = match &config {
        Some(config) => {
            let (registry, set) = strategies(g, args, project.as_deref())?;
            plugins = set;
            let resolved = registry
                .resolve(config, hasher.as_ref())
                .map_err(as_config_error)?;
            masking::plan(&prepared.catalog, config, resolved)?
        }
        None => Masking::default(),
    };
    if options.checkpoint.is_some() {
        options.fingerprint = fingerprint(args, &masking, &plugins, hasher.as_ref())?;
    }

    if args.dry_run {
        let report = dry_run(prepared, &masking.transforms, &options).await?;
        g.out.report(&DryRunSummary::new(
            from.shown,
            to.shown,
            report,
            masking.columns,
            warnings,
        ));
        return Ok(ExitCode::Ok);
    }
    let progress: Arc<dyn Progress> = if !g.out.is_json() && std::io::stderr().is_terminal() {
        Arc::new(Bars::new())
    } else {
        Arc::new(NoProgress)
    };
    let report = sync(
        prepared,
        source,
        target,
        &masking.transforms,
        &options,
        progress,
    )
    .await?;
    let failed = report.failed_groups > 0;
    g.out.report(&SyncSummary::new(
        from.shown,
        to.shown,
        &report,
        masking.columns,
        config.is_some(),
        started.elapsed().as_millis() as u64,
        warnings,
    ));
    Ok(if failed {
        ExitCode::Failure
    } else {
        ExitCode::Ok
    })
}

/// Half the machine's cores: each job keeps a source reader, a target writer and, for an
/// anonymized table, a transform thread busy, and the servers are often on the same machine.
fn default_jobs() -> usize {
    (crate::parallel::cores() / 2).max(1)
}

/// `--from`/`--to`: a `postgres://` URL, or an environment of the project.
fn endpoint(root: Option<&Path>, given: &str, flag: &str) -> anyhow::Result<Endpoint> {
    if given.starts_with("postgres://") || given.starts_with("postgresql://") {
        let spec = ConnectionSpec::from_url(given).with_context(|| format!("{flag} URL"))?;
        return Ok(Endpoint {
            shown: spec.redacted(),
            spec,
            env: None,
        });
    }
    let root = root.ok_or_else(|| {
        Failure::config(format!(
            "{flag} {given}: not a postgres:// URL, and there is no project to find an \
             environment of that name in"
        ))
        .hint("pass a URL, or run inside a project (or pass --project DIR)")
    })?;
    let project = Project::open(root, given).with_context(|| format!("{flag} {given}"))?;
    let resolved = resolve_database(&project.root, &project.env, None, None)
        .with_context(|| format!("{flag} {given}"))?;
    Ok(Endpoint {
        spec: resolved.spec,
        shown: given.to_string(),
        env: Some(project.env),
    })
}

/// The tracking tables of both ends (the default name for a URL) and the audit trail and
/// schedule kept beside them: never copied unless asked for by name.
fn bookkeeping_tables(ends: &[&Endpoint]) -> Vec<String> {
    let mut names = Vec::new();
    for end in ends {
        let ledger = crate::migrate::ledger::Ledger::new(end.env.as_ref().map_or(
            crate::project::settings::migrations::DEFAULT_MIGRATIONS_TABLE,
            |env| env.migrations_table.as_str(),
        ));
        for name in [
            ledger.name().to_string(),
            ledger.companion("audit").name().to_string(),
            ledger.companion("schedule").name().to_string(),
        ] {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// A target environment marked `protected: true` is written only with
/// `--allow-protected-target` and the database name typed on a terminal.
fn guard_protected(to: &Endpoint, allowed: bool) -> anyhow::Result<()> {
    let Some(env) = to.env.as_ref().filter(|env| env.protected) else {
        return Ok(());
    };
    if !allowed {
        return Err(Failure::new(
            ExitCode::Refused,
            format!(
                "the target environment `{}` is protected ({}): sync would replace its data",
                env.name,
                env.file.display()
            ),
        )
        .hint("pass --allow-protected-target and confirm on a terminal if you really mean it")
        .into());
    }
    let database = to.spec.dbname().unwrap_or_default().to_string();
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Failure::new(
            ExitCode::Refused,
            format!(
                "the target environment `{}` is protected, and confirming needs a terminal",
                env.name
            ),
        )
        .hint("run it interactively: you will be asked to type the database name")
        .into());
    }
    let mut stderr = std::io::stderr();
    let _ = write!(
        stderr,
        "The target `{}` is PROTECTED. Sync replaces the data of every copied table.\n\
         Type the database name ({database}) to go on: ",
        env.name
    );
    let _ = stderr.flush();
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .context("reading the confirmation")?;
    if answer.trim() != database {
        return Err(Failure::new(ExitCode::Refused, "not confirmed; nothing was changed").into());
    }
    Ok(())
}

/// The checkpoint's parts that depend on the anonymization: each anonymized table's digest;
/// the `--strategy` mappings and the strategy plugins' components; and a keyed digest of the
/// secret (never the secret itself).
fn fingerprint(
    args: &SyncRequest,
    masking: &Masking,
    plugins: &[PathBuf],
    hasher: Option<&KeyedHasher>,
) -> anyhow::Result<Fingerprint> {
    let none = || "none".to_string();
    let plugins = if plugins.is_empty() && args.strategies.is_empty() {
        none()
    } else {
        let mut digest = Sha256::new();
        for mapping in &args.strategies {
            digest.update(format!("{mapping:?}\0").as_bytes());
        }
        for file in plugins {
            digest.update(
                std::fs::read(file)
                    .with_context(|| format!("reading {} for the checkpoint", file.display()))?,
            );
        }
        format!("{:x}", digest.finalize())
    };
    Ok(Fingerprint {
        anonymization: masking
            .fingerprints
            .iter()
            .map(|(table, digest)| (table.to_string(), digest.clone()))
            .collect(),
        plugins,
        secret: hasher.map_or_else(none, secret_fingerprint),
        ..Fingerprint::default()
    })
}

/// The built-in strategies plus every strategy of the plugins (the project's plugins
/// directory and `--plugin`), with `--strategy` mappings; and the components of the plugins
/// that provide strategies, sorted.
fn strategies(
    g: &Globals,
    args: &SyncRequest,
    root: Option<&Path>,
) -> anyhow::Result<(Registry, Vec<PathBuf>)> {
    let mut registry = Registry::new();
    let sources = match root {
        Some(root) => {
            let project = Project::open(root, &g.env)?;
            PluginSources::from_project(&project, &g.plugin_files)
        }
        None => PluginSources::files(&g.plugin_files),
    };
    if sources.discover()?.is_empty() && args.strategies.is_empty() {
        return Ok((registry, Vec::new()));
    }
    let set = crate::plugins::run::load(g, &sources)?;
    crate::anonymize::plugin::register(&mut registry, &set, &args.strategies)
        .map_err(as_config_error)?;
    let mut files: Vec<PathBuf> = set
        .of_kind(crate::plugins::Kind::Strategy)
        .map(|plugin| plugin.file.clone())
        .collect();
    files.sort();
    Ok((registry, files))
}

/// Errors in the anonymization setup are configuration errors (exit 5).
fn as_config_error(err: anyhow::Error) -> anyhow::Error {
    if err.downcast_ref::<Failure>().is_some() {
        return err;
    }
    let message = err
        .chain()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ");
    Failure::config(message).into()
}
