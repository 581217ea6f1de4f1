//! Which database a command talks to, with the precedence upstream settled on:
//! `--database-url` (or `CONFITURE_DATABASE_URL`, see `context::Globals::database`), then the
//! environment file, then an ambient `DATABASE_URL` (only when the
//! environment names no database), then — for `local` — the project's throwaway cluster.

use std::fmt;
use std::path::Path;

use serde::Serialize;

use super::Environment;
use super::settings::database::DatabaseSetting;
use crate::db::cluster::Cluster;
use crate::db::connect::ConnectionSpec;
use crate::error::Failure;

/// Where the connection settings came from, for messages and `--format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum DatabaseSource {
    /// `--database-url` on the command line.
    CommandLine,
    /// The environment file (its path).
    EnvironmentFile(String),
    /// The `DATABASE_URL` variable.
    AmbientVariable,
    /// The project's local cluster under `.confiture/pg/`.
    LocalCluster,
    /// The `CONFITURE_DATABASE_URL` variable (upstream's name for a URL meant for Confiture).
    ConfitureVariable,
}

impl fmt::Display for DatabaseSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseSource::CommandLine => f.write_str("--database-url"),
            DatabaseSource::EnvironmentFile(file) => f.write_str(file),
            DatabaseSource::AmbientVariable => f.write_str("DATABASE_URL"),
            DatabaseSource::LocalCluster => f.write_str("local cluster (.confiture/pg)"),
            DatabaseSource::ConfitureVariable => f.write_str("CONFITURE_DATABASE_URL"),
        }
    }
}

/// The database a command will use and why.
#[derive(Debug, Clone)]
pub struct ResolvedDatabase {
    /// How to connect.
    pub spec: ConnectionSpec,
    /// Where that came from.
    pub source: DatabaseSource,
}

/// Resolves the target database for `env` in the project at `root`.
pub fn resolve_database(
    root: &Path,
    env: &Environment,
    cli_url: Option<&str>,
    ambient_url: Option<&str>,
) -> anyhow::Result<ResolvedDatabase> {
    if let Some(url) = cli_url {
        return Ok(ResolvedDatabase {
            spec: ConnectionSpec::from_url(url)?,
            source: DatabaseSource::CommandLine,
        });
    }
    let file = crate::strings::display_relative(root, &env.file);
    match &env.database {
        Some(DatabaseSetting::Url(url)) => {
            return Ok(ResolvedDatabase {
                spec: ConnectionSpec::from_url(url)
                    .map_err(|e| e.context(format!("{file}: database_url")))?,
                source: DatabaseSource::EnvironmentFile(file),
            });
        }
        Some(DatabaseSetting::Parts(parts)) => {
            return Ok(ResolvedDatabase {
                spec: ConnectionSpec::from_parts(parts)
                    .map_err(|e| e.context(format!("{file}: database")))?,
                source: DatabaseSource::EnvironmentFile(file),
            });
        }
        Some(DatabaseSetting::Unresolved { message, hint }) => {
            return Err(Failure::config(message.clone()).hint(hint.clone()).into());
        }
        None => {}
    }
    if let Some(url) = ambient_url.filter(|u| !u.is_empty()) {
        return Ok(ResolvedDatabase {
            spec: ConnectionSpec::from_url(url).map_err(|e| e.context("DATABASE_URL"))?,
            source: DatabaseSource::AmbientVariable,
        });
    }
    if env.name == "local" {
        return Ok(ResolvedDatabase {
            spec: Cluster::for_project(root).connection_spec()?,
            source: DatabaseSource::LocalCluster,
        });
    }
    Err(Failure::config(format!(
        "environment `{}` names no database ({file})",
        env.name
    ))
    .hint("set `database_url:` in the environment file, pass --database-url, or set DATABASE_URL")
    .into())
}
