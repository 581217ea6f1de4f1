//! Finding the schema's `.sql` files: every include dir, recursively, minus the exclude dirs,
//! each file once, in natural order of its path (`2_x` before `10_x`).

use std::cmp::Ordering;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::error::{ExitCode, Failure};
use crate::project::Project;

/// One schema source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The file on disk (canonical).
    pub path: PathBuf,
    /// The path as shown and ordered: relative to the project root when inside it.
    pub relative: String,
}

/// Collects the environment's schema files in build order. `skip` (the build's own output) is
/// never collected.
pub fn collect(project: &Project, skip: Option<&Path>) -> anyhow::Result<Vec<SourceFile>> {
    let env_file = project.show(&project.env.file);
    let excludes: Vec<PathBuf> = project
        .env
        .exclude_dirs
        .iter()
        .filter_map(|dir| project.path(dir).canonicalize().ok())
        .collect();
    let skip = skip.and_then(|p| p.canonicalize().ok());
    let mut seen_dirs = HashSet::new();
    let mut seen_files = HashSet::new();
    let mut files = Vec::new();
    for dir in &project.env.include_dirs {
        let absolute = project.path(dir);
        let canonical = absolute
            .canonicalize()
            .ok()
            .filter(|p| p.is_dir())
            .ok_or_else(|| {
                Failure::config(format!(
                    "include dir `{}` (include_dirs in {env_file}) does not exist",
                    dir.display()
                ))
                .hint(format!(
                    "create {}, or fix include_dirs in {env_file}",
                    project.show(&absolute)
                ))
            })?;
        walk(&canonical, &excludes, &mut seen_dirs, &mut |path| {
            if skip.as_deref() != Some(path.as_path()) && seen_files.insert(path.clone()) {
                files.push(SourceFile {
                    relative: project.show(&path),
                    path,
                });
            }
        })?;
    }
    files.sort_by(|a, b| natural_path_cmp(&a.relative, &b.relative));
    Ok(files)
}

/// Calls `found` for every `.sql` file under `dir` (canonical paths), skipping excluded
/// directories and directories already visited (symbolic link loops, overlapping includes).
fn walk(
    dir: &Path,
    excludes: &[PathBuf],
    seen_dirs: &mut HashSet<PathBuf>,
    found: &mut dyn FnMut(PathBuf),
) -> anyhow::Result<()> {
    if excludes.iter().any(|ex| dir.starts_with(ex)) || !seen_dirs.insert(dir.to_path_buf()) {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let Ok(path) = entry.path().canonicalize() else {
            continue; // a dangling symbolic link
        };
        if path.is_dir() {
            walk(&path, excludes, seen_dirs, found)?;
        } else if path.extension().is_some_and(|ext| ext == "sql")
            && !excludes.iter().any(|ex| path.starts_with(ex))
        {
            found(path);
        }
    }
    Ok(())
}

/// No files to build from: a build failure that says where Confiture looked.
pub fn nothing_found(project: &Project) -> Failure {
    let dirs: Vec<String> = project
        .env
        .include_dirs
        .iter()
        .map(|d| d.display().to_string())
        .collect();
    Failure::new(
        ExitCode::Build,
        format!(
            "no .sql files found under include_dirs ({}) of {}",
            dirs.join(", "),
            project.show(&project.env.file)
        ),
    )
    .hint("add schema files such as db/schema/10_tables/users.sql, or check include_dirs and exclude_dirs")
}

/// Compares two relative paths component by component, each in natural order.
pub fn natural_path_cmp(a: &str, b: &str) -> Ordering {
    let parts = |p: &str| -> Vec<String> {
        Path::new(p)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect()
    };
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(&pb) {
        match natural_cmp(x, y) {
            Ordering::Equal => continue,
            other => return other,
        }
    }
    pa.len().cmp(&pb.len()).then_with(|| a.cmp(b))
}

/// Natural order of two names: digit runs compare as numbers, the rest as text.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a, b);
    loop {
        match (x.is_empty(), y.is_empty()) {
            (true, true) => return a.cmp(b),
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let (run_x, rest_x) = split_run(x);
        let (run_y, rest_y) = split_run(y);
        let digits = |s: &str| s.starts_with(|c: char| c.is_ascii_digit());
        let order = match (digits(run_x), digits(run_y)) {
            (true, true) => {
                let (tx, ty) = (run_x.trim_start_matches('0'), run_y.trim_start_matches('0'));
                tx.len().cmp(&ty.len()).then_with(|| tx.cmp(ty))
            }
            // A number sorts before text, as in `1_x` before `a_x`.
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => run_x.cmp(run_y),
        };
        if order != Ordering::Equal {
            return order;
        }
        (x, y) = (rest_x, rest_y);
    }
}

/// The leading run of digits or of non-digits, and the rest.
fn split_run(s: &str) -> (&str, &str) {
    let digit = s.starts_with(|c: char| c.is_ascii_digit());
    let end = s
        .find(|c: char| c.is_ascii_digit() != digit)
        .unwrap_or(s.len());
    s.split_at(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(mut items: Vec<&str>) -> Vec<&str> {
        items.sort_by(|a, b| natural_path_cmp(a, b));
        items
    }

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(
            sorted(vec!["10_x.sql", "2_x.sql", "1_x.sql", "02_y.sql"]),
            vec!["1_x.sql", "2_x.sql", "02_y.sql", "10_x.sql"]
        );
        assert_eq!(natural_cmp("v9", "v10"), Ordering::Less);
        assert_eq!(natural_cmp("a", "a"), Ordering::Equal);
        assert_eq!(natural_cmp("a", "ab"), Ordering::Less);
    }

    #[test]
    fn paths_compare_component_by_component() {
        assert_eq!(
            sorted(vec![
                "db/schema/10_tables/2_b.sql",
                "db/schema/2_views/1_v.sql",
                "db/schema/10_tables/10_a.sql",
                "db/schema/10_tables.sql",
            ]),
            vec![
                "db/schema/2_views/1_v.sql",
                "db/schema/10_tables/2_b.sql",
                "db/schema/10_tables/10_a.sql",
                "db/schema/10_tables.sql",
            ]
        );
    }
}
