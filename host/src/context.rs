//! The per-run state every command gets: the global flags, already parsed into plain values
//! (`cli` builds it), and the output. It opens the project and resolves the database the
//! command targets; feature modules take it instead of anything of the command line.

use std::path::{Path, PathBuf};

use crate::error::Failure;
use crate::output::Output;
use crate::project::{Project, ResolvedDatabase};

/// What every command receives: the global flags and the output.
#[derive(Debug, Clone)]
pub struct Globals {
    /// `--env` (or `CONFITURE_ENV`), else `local`.
    pub env: String,
    /// True when the environment was chosen (`--env`, `CONFITURE_ENV` or `--config`), not
    /// defaulted.
    pub env_chosen: bool,
    /// Upstream's `--config FILE`: the environment file itself.
    pub config: Option<PathBuf>,
    /// `--database-url`.
    pub database_url: Option<String>,
    /// Upstream's `--migrations-dir DIR`, overriding the environment's.
    pub migrations_dir: Option<PathBuf>,
    /// `--project`, else the current directory.
    pub project_dir: PathBuf,
    /// Where and how to print.
    pub out: Output,
    /// `--plugin PATH`, repeatable.
    pub plugin_files: Vec<PathBuf>,
    /// `--no-plugin-cache`.
    pub no_plugin_cache: bool,
}

/// Upstream's name for a database URL meant for Confiture alone.
pub const CONFITURE_DATABASE_URL: &str = "CONFITURE_DATABASE_URL";

impl Globals {
    /// Opens the project and the chosen environment (by name, or upstream's `--config FILE`),
    /// with `--migrations-dir` applied.
    pub fn project(&self) -> anyhow::Result<Project> {
        let mut project = match &self.config {
            Some(file) => Project::open_file(&self.project_dir, file)?,
            None => Project::open(&self.project_dir, &self.env)?,
        };
        if let Some(dir) = &self.migrations_dir {
            project.env.migrations_dir = std::path::absolute(dir)?;
        }
        Ok(project)
    }

    /// The database the command targets, by the documented precedence: `--database-url`;
    /// then `CONFITURE_DATABASE_URL` unless an environment was chosen (both at once is an
    /// error, as upstream makes it); then the environment file, `DATABASE_URL`, the local
    /// cluster.
    pub fn database(&self, project: &Project) -> anyhow::Result<ResolvedDatabase> {
        let ambient = std::env::var("DATABASE_URL").ok();
        let confiture = std::env::var(CONFITURE_DATABASE_URL)
            .ok()
            .filter(|url| !url.is_empty());
        let cli_url = match (&self.database_url, confiture) {
            (Some(url), _) => Some(url.clone()),
            (None, Some(_)) if self.env_chosen => {
                return Err(Failure::config(format!(
                    "both an environment (--env {} / --config / CONFITURE_ENV) and \
                     {CONFITURE_DATABASE_URL} name the database",
                    self.env
                ))
                .hint(format!(
                    "pass one of them: unset {CONFITURE_DATABASE_URL}, drop the environment, \
                     or pass --database-url"
                ))
                .into());
            }
            (None, confiture) => confiture,
        };
        let mut resolved = crate::project::resolve_database(
            &project.root,
            &project.env,
            cli_url.as_deref(),
            ambient.as_deref(),
        )?;
        if self.database_url.is_none() && cli_url.is_some() {
            resolved.source = crate::project::DatabaseSource::ConfitureVariable;
        }
        Ok(resolved)
    }

    /// The directory a command that creates a project or a plugin (`init`, `plugins new`)
    /// targets: `dir` resolved against `--project`, else the project directory itself.
    pub fn init_dir(&self, dir: Option<&Path>) -> PathBuf {
        match dir {
            Some(dir) if dir.is_absolute() => dir.to_path_buf(),
            Some(dir) => self.project_dir.join(dir),
            None => self.project_dir.clone(),
        }
    }
}
