//! `confiture init`: lays out a new project — schema folders with an example, migrations,
//! the `local` environment, a sync placeholder, a plugins folder — and ignores `.confiture/`
//! in git. Existing files are kept unless `--force`; in a directory that already holds a
//! project (one made by upstream Confiture, say) the example schema is left out.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use crate::error::Failure;
use crate::output::{Report, paint, style};

/// The line `init` makes sure `.gitignore` has: the local cluster and caches live there.
const IGNORE_LINE: &str = ".confiture/";

/// Where the example schema files go: `init` adds none there to an existing project.
const SCHEMA_DIR: &str = "db/schema/";

/// Every file `init` writes, relative to the project directory, with its content.
const TEMPLATE: &[(&str, &str)] = &[
    (
        "db/schema/00_common/00_extensions.sql",
        include_str!("init/00_extensions.sql"),
    ),
    (
        "db/schema/10_tables/10_customers.sql",
        include_str!("init/10_customers.sql"),
    ),
    ("db/migrations/.gitkeep", ""),
    (
        "db/environments/local.yaml",
        include_str!("init/local.yaml"),
    ),
    ("db/sync/README.md", include_str!("init/sync_README.md")),
    ("plugins/README.md", include_str!("init/plugins_README.md")),
];

/// What `.gitignore` needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GitignoreChange {
    /// There was no `.gitignore`; one was created.
    Created,
    /// `.confiture/` was appended to an existing `.gitignore`.
    Appended,
    /// `.gitignore` already ignored `.confiture/`.
    Unchanged,
}

/// The result of `confiture init`.
#[derive(Debug, Serialize)]
pub struct InitReport {
    /// The project directory.
    pub root: PathBuf,
    /// Files written that did not exist.
    pub created: Vec<String>,
    /// Files that existed and were replaced (`--force`).
    pub overwritten: Vec<String>,
    /// Files that existed and were kept.
    pub skipped: Vec<String>,
    /// Example schema files not added because the directory already held a project.
    pub not_added: Vec<String>,
    /// What happened to `.gitignore`.
    pub gitignore: GitignoreChange,
}

impl Report for InitReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for path in &self.created {
            writeln!(out, "  {} {path}", paint(style::OK, "created    "))?;
        }
        for path in &self.overwritten {
            writeln!(out, "  {} {path}", paint(style::WARN, "overwritten"))?;
        }
        for path in &self.skipped {
            writeln!(
                out,
                "  {} {path} (exists; --force overwrites it)",
                paint(style::DIM, "skipped    ")
            )?;
        }
        for path in &self.not_added {
            writeln!(
                out,
                "  {} {path} (an example; the project already has a schema of its own)",
                paint(style::DIM, "not added  ")
            )?;
        }
        match self.gitignore {
            GitignoreChange::Created => writeln!(
                out,
                "  {} .gitignore (ignores {IGNORE_LINE})",
                paint(style::OK, "created    ")
            )?,
            GitignoreChange::Appended => writeln!(
                out,
                "  {} .gitignore (added {IGNORE_LINE})",
                paint(style::OK, "updated    ")
            )?,
            GitignoreChange::Unchanged => {}
        }
        let root = self.root.display();
        if self.created.is_empty()
            && self.overwritten.is_empty()
            && self.gitignore == GitignoreChange::Unchanged
        {
            writeln!(
                out,
                "Nothing created: the project at {root} already has every file (use --force to overwrite them)."
            )
        } else {
            writeln!(
                out,
                "{} project at {root}. Next: `confiture db start`, then `confiture build --apply`.",
                paint(style::BOLD, "Confiture")
            )
        }
    }
}

/// Writes the project layout under `root` (created if missing).
pub fn create(root: &Path, force: bool) -> anyhow::Result<InitReport> {
    std::fs::create_dir_all(root)
        .map_err(|e| Failure::config(format!("cannot create {}: {e}", root.display())))?;
    let root = root
        .canonicalize()
        .with_context(|| format!("resolving {}", root.display()))?;
    let existing_project = holds_project(&root);
    let mut report = InitReport {
        root: root.clone(),
        created: Vec::new(),
        overwritten: Vec::new(),
        skipped: Vec::new(),
        not_added: Vec::new(),
        gitignore: GitignoreChange::Unchanged,
    };
    for (relative, content) in TEMPLATE {
        let path = root.join(relative);
        let exists = path.exists();
        if exists && !force {
            report.skipped.push(relative.to_string());
            continue;
        }
        if !exists && existing_project && relative.starts_with(SCHEMA_DIR) {
            report.not_added.push(relative.to_string());
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, content).with_context(|| format!("writing {}", path.display()))?;
        if exists {
            report.overwritten.push(relative.to_string());
        } else {
            report.created.push(relative.to_string());
        }
    }
    report.gitignore = ignore_local_state(&root.join(".gitignore"))?;
    Ok(report)
}

/// True when `root` already holds a project: a file under `db/schema/` or `db/migrations/`,
/// or an environment file in `db/environments/`.
fn holds_project(root: &Path) -> bool {
    fn any_file(dir: &Path, wanted: &dyn Fn(&Path) -> bool) -> bool {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .any(|entry| {
                let path = entry.path();
                if path.is_dir() {
                    any_file(&path, wanted)
                } else {
                    wanted(&path)
                }
            })
    }
    let db = root.join("db");
    any_file(&db.join("schema"), &|_| true)
        || any_file(&db.join("migrations"), &|p| {
            p.file_name().is_some_and(|n| n != ".gitkeep")
        })
        || any_file(&db.join("environments"), &|p| {
            p.extension().is_some_and(|e| e == "yaml" || e == "yml")
        })
}

/// Makes `.gitignore` ignore `.confiture/`: creates the file, or appends the line once.
fn ignore_local_state(path: &Path) -> anyhow::Result<GitignoreChange> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(anyhow::Error::new(e).context(format!("reading {}", path.display()))),
    };
    let Some(text) = existing else {
        std::fs::write(path, format!("{IGNORE_LINE}\n"))
            .with_context(|| format!("writing {}", path.display()))?;
        return Ok(GitignoreChange::Created);
    };
    let already = text.lines().any(|line| {
        matches!(
            line.trim(),
            ".confiture" | ".confiture/" | "/.confiture" | "/.confiture/"
        )
    });
    if already {
        return Ok(GitignoreChange::Unchanged);
    }
    let separator = if text.is_empty() || text.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    writeln!(file, "{separator}{IGNORE_LINE}")
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(GitignoreChange::Appended)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::Environment;

    #[test]
    fn the_local_environment_template_parses_to_the_defaults() {
        let (_, text) = TEMPLATE
            .iter()
            .find(|(p, _)| *p == "db/environments/local.yaml")
            .unwrap();
        let env = Environment::parse(
            text,
            "local",
            Path::new("/p/db/environments/local.yaml"),
            Path::new("/p"),
            |_| None,
        )
        .unwrap();
        let defaults = Environment::defaults("local", PathBuf::from("x"));
        assert!(env.database.is_none(), "local uses the project's cluster");
        assert_eq!(env.include_dirs, defaults.include_dirs);
        assert_eq!(env.migrations_dir, defaults.migrations_dir);
        assert_eq!(env.migrations_table, defaults.migrations_table);
        assert!(!env.protected);
    }

    #[test]
    fn the_template_documents_every_environment_key() {
        let (_, text) = TEMPLATE
            .iter()
            .find(|(p, _)| *p == "db/environments/local.yaml")
            .unwrap();
        for key in [
            "name:",
            "database_url:",
            "database:",
            "host:",
            "port:",
            "user:",
            "password:",
            "sslmode:",
            "include_dirs:",
            "exclude_dirs:",
            "migrations_dir:",
            "migrations_table:",
            "lock_timeout:",
            "statement_timeout:",
            "lock_retries:",
            "protected:",
        ] {
            assert!(text.contains(key), "local.yaml mentions `{key}`");
        }
    }

    #[test]
    fn gitignore_line_is_appended_once_with_a_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".gitignore");
        std::fs::write(&path, "/target").unwrap();
        assert_eq!(
            ignore_local_state(&path).unwrap(),
            GitignoreChange::Appended
        );
        assert_eq!(
            ignore_local_state(&path).unwrap(),
            GitignoreChange::Unchanged
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "/target\n.confiture/\n"
        );
    }
}
