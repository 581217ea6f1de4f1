//! Which files a lint run reads, in model order, and parsing them.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::error::Failure;
use crate::project::Project;
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

/// The default sources: the environment's schema files (include_dirs minus exclude_dirs, in
/// natural order), then the migrations' `.up.sql` files in version order.
pub fn defaults(project: &Project) -> anyhow::Result<Vec<Source>> {
    let excludes: Vec<PathBuf> = project
        .env
        .exclude_dirs
        .iter()
        .filter_map(|d| project.path(d).canonicalize().ok())
        .collect();
    let mut schema = Vec::new();
    let mut seen = HashSet::new();
    for dir in &project.env.include_dirs {
        let Ok(dir) = project.path(dir).canonicalize() else {
            continue;
        };
        walk(&dir, &excludes, &mut seen, &mut schema)?;
    }
    sort_naturally(project, &mut schema);
    let mut sources: Vec<Source> = schema
        .into_iter()
        .map(|path| Source {
            shown: project.show(&path),
            path,
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
            walk(&path, &[], &mut seen, &mut found)?;
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

fn walk(
    dir: &Path,
    excludes: &[PathBuf],
    seen: &mut HashSet<PathBuf>,
    found: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    if excludes.iter().any(|ex| dir.starts_with(ex)) || !seen.insert(dir.to_path_buf()) {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let Ok(path) = entry.path().canonicalize() else {
            continue;
        };
        if path.is_dir() {
            walk(&path, excludes, seen, found)?;
        } else if path.extension().is_some_and(|e| e == "sql") && seen.insert(path.clone()) {
            found.push(path);
        }
    }
    Ok(())
}

fn sort_naturally(project: &Project, paths: &mut [PathBuf]) {
    paths.sort_by(|a, b| natural_cmp(&project.show(a), &project.show(b)));
}

/// Compares strings with runs of digits compared as numbers (`9_a` before `10_b`).
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    while let (Some(&p), Some(&q)) = (x.first(), y.first()) {
        if p.is_ascii_digit() && q.is_ascii_digit() {
            let n = x.iter().take_while(|c| c.is_ascii_digit()).count();
            let m = y.iter().take_while(|c| c.is_ascii_digit()).count();
            let (dx, dy) = (&x[..n], &y[..m]);
            let trim = |d: &[u8]| d.iter().skip_while(|c| **c == b'0').count();
            let order = trim(dx)
                .cmp(&trim(dy))
                .then_with(|| dx[n - trim(dx)..].cmp(&dy[m - trim(dy)..]));
            if order != Ordering::Equal {
                return order;
            }
            (x, y) = (&x[n..], &y[m..]);
        } else {
            if p != q {
                return p.cmp(&q);
            }
            (x, y) = (&x[1..], &y[1..]);
        }
    }
    x.len().cmp(&y.len()).then_with(|| a.cmp(b))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut names = vec!["db/10_b.sql", "db/9_a.sql", "db/09_c.sql", "db/a.sql"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            ["db/9_a.sql", "db/09_c.sql", "db/10_b.sql", "db/a.sql"]
        );
    }
}
