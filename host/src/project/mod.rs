//! The project on disk: its root, the chosen environment, and the database it points at.

pub mod schema_files;
pub mod settings;
mod target;
pub mod vars;

use std::path::{Path, PathBuf};

pub use settings::Environment;
pub use target::{DatabaseSource, ResolvedDatabase, resolve_database};

use crate::error::Failure;
use crate::strings::display_relative;

/// A Confiture project: a directory with a `db/` folder, and one of its environments.
#[derive(Debug, Clone)]
pub struct Project {
    /// The directory holding `db/`.
    pub root: PathBuf,
    /// The environment chosen with `--env`.
    pub env: Environment,
}

impl Project {
    /// Finds the project root at or above `start`: the first directory with a `db/` folder.
    pub fn find_root(start: &Path) -> anyhow::Result<PathBuf> {
        let start = start
            .canonicalize()
            .map_err(|e| Failure::config(format!("cannot open {}: {e}", start.display())))?;
        start
            .ancestors()
            .find(|dir| dir.join("db").is_dir())
            .map(Path::to_path_buf)
            .ok_or_else(|| {
                Failure::config(format!(
                    "no Confiture project at or above {} (no `db/` directory)",
                    start.display()
                ))
                .hint("run `confiture init` to create one, or pass `--project DIR`")
                .into()
            })
    }

    /// Opens the project at or above `start` with environment `env_name`, and says (on
    /// stderr) which upstream settings of its file have no effect.
    ///
    /// A missing `local` environment file is not an error: `local` then means the project's
    /// throwaway cluster with default settings. Any other missing environment is.
    pub fn open(start: &Path, env_name: &str) -> anyhow::Result<Self> {
        let root = Self::find_root(start)?;
        let env = match Environment::load(&root, env_name) {
            Ok(env) => env,
            Err(_) if env_name == "local" && !Self::has_env_file(&root, env_name) => {
                Environment::defaults("local", root.join("db/environments/local.yaml"))
            }
            Err(err) => return Err(err),
        };
        Ok(Project::warned(root, env))
    }

    /// Opens the project at or above `start` with the environment file `file` (upstream's
    /// `--config FILE`; relative to the current directory), warning as [`Project::open`].
    pub fn open_file(start: &Path, file: &Path) -> anyhow::Result<Self> {
        let root = Self::find_root(start)?;
        let file = std::path::absolute(file)
            .map_err(|e| Failure::config(format!("cannot open {}: {e}", file.display())))?;
        let env = Environment::load_file(&root, &file)?;
        Ok(Project::warned(root, env))
    }

    fn warned(root: PathBuf, env: Environment) -> Self {
        let out = crate::output::Output::default();
        for warning in &env.warnings {
            out.warn(warning);
        }
        Project { root, env }
    }

    fn has_env_file(root: &Path, name: &str) -> bool {
        ["yaml", "yml"]
            .iter()
            .any(|ext| root.join(format!("db/environments/{name}.{ext}")).exists())
    }

    /// A path from the configuration, resolved against the project root.
    pub fn path(&self, relative: &Path) -> PathBuf {
        self.root.join(relative)
    }

    /// The migrations directory.
    pub fn migrations_dir(&self) -> PathBuf {
        self.path(&self.env.migrations_dir)
    }

    /// `path` as shown in messages: relative to the project root when inside it.
    pub fn show(&self, path: &Path) -> String {
        display_relative(&self.root, path)
    }
}
