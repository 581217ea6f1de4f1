//! Which files a lint run reads, in model order, and parsing them.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::error::Failure;
use crate::project::Project;
use crate::project::schema_files::{MissingDirs, natural_path_cmp, select};
use crate::sql::{SourceText, SqlFile, parse_files};

/// A file to lint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// On disk.
    pub path: PathBuf,
    /// Shown in findings: relative to the project root when inside it.
    pub shown: String,
    /// Under the migrations directory: migration-safety rules apply.
    pub in_migration: bool,
}

/// The default sources: the environment's schema files (what `include_dirs` select, in build
/// order; missing directories skipped), then the migrations' `.up.sql` files in version order.
pub fn defaults(project: &Project) -> anyhow::Result<Vec<Source>> {
    let mut sources: Vec<Source> = select(project, None, MissingDirs::Skip)?
        .into_iter()
        .map(|file| Source {
            shown: file.relative,
            path: file.path,
            in_migration: false,
        })
        .collect();
    for migration in crate::migrate::files::discover(&project.migrations_dir())? {
        sources.push(Source {
            shown: project.show(&migration.up_path),
            path: migration.up_path,
            in_migration: true,
        });
    }
    Ok(sources)
}

/// The sources named on the command line: files as given, directories walked in natural
/// order (skipping `.down.sql` and `.verify.sql`).
pub fn explicit(project: &Project, paths: &[PathBuf], cwd: &Path) -> anyhow::Result<Vec<Source>> {
    let migrations = project.migrations_dir().canonicalize().ok();
    let mut sources = Vec::new();
    let mut seen = HashSet::new();
    for given in paths {
        let absolute = if given.is_absolute() {
            given.clone()
        } else {
            cwd.join(given)
        };
        let path = absolute.canonicalize().map_err(|e| {
            Failure::config(format!("cannot lint {}: {e}", given.display()))
                .hint("pass existing files or directories")
        })?;
        let mut found = Vec::new();
        if path.is_dir() {
            walk(&path, &mut seen, &mut found)?;
            found.retain(|p| {
                let name = p.to_string_lossy();
                !name.ends_with(".down.sql") && !name.ends_with(".verify.sql")
            });
            sort_naturally(project, &mut found);
        } else if seen.insert(path.clone()) {
            found.push(path);
        }
        sources.extend(found.into_iter().map(|path| Source {
            shown: project.show(&path),
            in_migration: migrations.as_ref().is_some_and(|m| path.starts_with(m)),
            path,
        }));
    }
    Ok(sources)
}

fn walk(dir: &Path, seen: &mut HashSet<PathBuf>, found: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if !seen.insert(dir.to_path_buf()) {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let Ok(path) = entry.path().canonicalize() else {
            continue;
        };
        if path.is_dir() {
            walk(&path, seen, found)?;
        } else if path.extension().is_some_and(|e| e == "sql") && seen.insert(path.clone()) {
            found.push(path);
        }
    }
    Ok(())
}

fn sort_naturally(project: &Project, paths: &mut [PathBuf]) {
    paths.sort_by(|a, b| natural_path_cmp(&project.show(a), &project.show(b)));
}

/// Reads every source (fails on unreadable or non-UTF-8 files, never on SQL) and parses them
/// together, statements spread over the machine's cores; the result keeps the sources' order.
pub fn parse(sources: &[Source]) -> anyhow::Result<Vec<SqlFile>> {
    let texts = sources
        .iter()
        .map(read)
        .collect::<anyhow::Result<Vec<String>>>()?;
    let inputs: Vec<SourceText<'_>> = sources
        .iter()
        .zip(&texts)
        .map(|(source, text)| SourceText {
            shown_path: &source.shown,
            text,
            in_migration: source.in_migration,
            every_data_statement: true,
        })
        .collect();
    Ok(parse_files(&inputs))
}

fn read(source: &Source) -> anyhow::Result<String> {
    let bytes = std::fs::read(&source.path).with_context(|| format!("reading {}", source.shown))?;
    String::from_utf8(bytes).map_err(|_| {
        Failure::config(format!("{}: is not UTF-8 text", source.shown))
            .hint("save the file as UTF-8")
            .into()
    })
}
