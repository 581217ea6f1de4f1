//! Migration files on disk: `<version>_<name>.up.sql`, with optional `.down.sql` and
//! `.verify.sql` sidecars, named and ordered as the upstream Python Confiture names and orders
//! them.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use sha2::{Digest, Sha256};

use crate::error::Failure;
use crate::sql::transaction::has_no_transaction_marker;

/// One migration found on disk.
#[derive(Debug, Clone)]
pub struct Migration {
    /// The version: the file name up to its first `_` (the whole stem when it has none).
    pub version: String,
    /// The name: the rest of the stem after the first `_`.
    pub name: String,
    /// The `.up.sql` file.
    pub up_path: PathBuf,
    /// The `.down.sql` file, if any.
    pub down_path: Option<PathBuf>,
    /// The `.verify.sql` file, if any.
    pub verify_path: Option<PathBuf>,
    /// The `.up.sql` contents.
    pub up_sql: String,
    /// SHA-256 (hex) of the `.up.sql` bytes.
    pub checksum: String,
    /// The `.up.sql` starts with `-- confiture: no-transaction` (a file can also run outside
    /// a transaction without it: see [`crate::sql::transaction::TransactionPlan`]).
    pub no_transaction: bool,
}

impl Migration {
    /// `<version>_<name>`: the file's stem, as messages show it.
    pub fn slug(&self) -> String {
        if self.version == self.name {
            self.version.clone()
        } else {
            format!("{}_{}", self.version, self.name)
        }
    }
}

/// Orders versions as the upstream Python Confiture does: as text, character by character
/// (`0045` before `007`, `10` before `9`). Timestamps and zero-padded numbers of one width,
/// which every generator writes, sort the same as numbers.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    a.cmp(b)
}

/// True when two versions are the same text (`001` and `1` are two versions, as upstream
/// records them).
pub fn same_version(a: &str, b: &str) -> bool {
    a == b
}

/// SHA-256 of `bytes` as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The kind of a migration file, from its suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Up,
    Down,
    Verify,
}

/// Splits a stem into version and name the way upstream does: at the first `_`; a stem
/// without one is both the version and the name.
fn split_stem(stem: &str) -> (String, String) {
    match stem.split_once('_') {
        Some((version, name)) => (version.to_string(), name.to_string()),
        None => (stem.to_string(), stem.to_string()),
    }
}

/// `<stem>.up.sql`, `.down.sql` or `.verify.sql`: the stem and the kind.
fn parse_file_name(file_name: &str) -> Option<(&str, Kind)> {
    [
        (".up.sql", Kind::Up),
        (".down.sql", Kind::Down),
        (".verify.sql", Kind::Verify),
    ]
    .iter()
    .find_map(|(suffix, kind)| file_name.strip_suffix(suffix).map(|s| (s, *kind)))
    .filter(|(stem, _)| !stem.is_empty())
}

/// A name `confiture migrate generate` writes: `[a-z0-9_]+`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Something in the migrations directory that is not applied, said once per command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The file.
    pub path: PathBuf,
    /// What it is and what to do.
    pub message: String,
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

/// What [`discover_all`] found: the migrations, sorted by version, and the files it skipped.
#[derive(Debug, Default)]
pub struct Discovered {
    /// The migrations, sorted by version.
    pub migrations: Vec<Migration>,
    /// Files that are not applied (each with what to do about it).
    pub notices: Vec<Notice>,
}

/// Where the guide explains converting upstream's Python migrations and preconditions.
pub const MIGRATING_GUIDE: &str = "docs/guides/migrating-from-python-confiture.md";

#[derive(Default)]
struct Found {
    up: Option<PathBuf>,
    down: Option<PathBuf>,
    verify: Option<PathBuf>,
}

/// Finds the migrations in `dir`, sorted by version. A missing directory holds none.
pub fn discover(dir: &Path) -> anyhow::Result<Vec<Migration>> {
    discover_all(dir).map(|found| found.migrations)
}

/// Finds the migrations in `dir` (sorted by version) and the files that are not applied.
///
/// Accepts every `<version>_<name>.up.sql` upstream accepts (any characters; a stem without
/// `_` is both version and name). Refuses (exit 5, naming the file) two `.up.sql` files with
/// one version and upstream's Python migrations. Reports, without refusing: a `.down.sql` or
/// `.verify.sql` without its `.up.sql`, any other `.sql` file, and upstream's precondition
/// files (`<stem>.yaml`), which are not checked. `__init__.py` and `_`-prefixed Python
/// helpers are ignored, as upstream ignores them.
pub fn discover_all(dir: &Path) -> anyhow::Result<Discovered> {
    if !dir.is_dir() {
        return Ok(Discovered::default());
    }
    let shown = |path: &Path| path.display().to_string();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();

    let python: Vec<&PathBuf> = files
        .iter()
        .filter(|p| {
            p.extension().is_some_and(|e| e == "py")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| !n.starts_with('_'))
        })
        .collect();
    if !python.is_empty() {
        return Err(python_refusal(&python).into());
    }

    let mut notices = Vec::new();
    let mut by_stem: BTreeMap<String, Found> = BTreeMap::new();
    for path in &files {
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            if path.extension().is_some_and(|e| e == "sql") {
                return Err(Failure::config(format!(
                    "{}: the file name is not UTF-8 text",
                    shown(path)
                ))
                .hint("rename it: its version and name are recorded as text in the tracking table")
                .into());
            }
            continue;
        };
        if !file_name.ends_with(".sql") {
            continue;
        }
        let Some((stem, kind)) = parse_file_name(file_name) else {
            let stem = file_name.trim_end_matches(".sql");
            notices.push(Notice {
                path: path.clone(),
                message: format!(
                    "not a migration (migrations end in .up.sql); it is not applied — \
                     rename it to {stem}.up.sql if it is one, or move it out of the directory"
                ),
            });
            continue;
        };
        let found = by_stem.entry(stem.to_string()).or_default();
        let slot = match kind {
            Kind::Up => &mut found.up,
            Kind::Down => &mut found.down,
            Kind::Verify => &mut found.verify,
        };
        *slot = Some(path.clone());
    }

    let mut migrations: Vec<Migration> = Vec::with_capacity(by_stem.len());
    for (stem, found) in by_stem {
        let Some(up_path) = found.up else {
            for orphan in [found.down, found.verify].into_iter().flatten() {
                notices.push(Notice {
                    path: orphan,
                    message: format!(
                        "has no {stem}.up.sql next to it; it is not used — add the .up.sql, \
                         or remove this file"
                    ),
                });
            }
            continue;
        };
        let (version, name) = split_stem(&stem);
        if let Some(other) = migrations.iter().find(|m| m.version == version) {
            return Err(Failure::config(format!(
                "{}: version {version} is used by another migration ({})",
                shown(&up_path),
                shown(&other.up_path)
            ))
            .hint("give each migration its own version, e.g. with `confiture migrate generate`")
            .into());
        }
        let preconditions = ["yaml", "yml"]
            .iter()
            .map(|ext| dir.join(format!("{stem}.{ext}")))
            .find(|p| p.is_file());
        if let Some(path) = preconditions {
            notices.push(Notice {
                path,
                message: format!(
                    "upstream preconditions are not checked by Confiture: {stem}.up.sql runs \
                     without them — turn them into a guard at the top of the .up.sql \
                     (see {MIGRATING_GUIDE}#preconditions)"
                ),
            });
        }
        let bytes =
            std::fs::read(&up_path).with_context(|| format!("reading {}", shown(&up_path)))?;
        let up_sql = String::from_utf8(bytes)
            .map_err(|_| Failure::config(format!("{}: is not UTF-8 text", shown(&up_path))))?;
        migrations.push(Migration {
            checksum: sha256_hex(up_sql.as_bytes()),
            no_transaction: has_no_transaction_marker(&up_sql),
            version,
            name,
            up_path,
            down_path: found.down,
            verify_path: found.verify,
            up_sql,
        });
    }
    migrations.sort_by(|a, b| compare_versions(&a.version, &b.version));
    Ok(Discovered {
        migrations,
        notices,
    })
}

/// The refusal of upstream's Python migrations, with the file names to convert each into.
fn python_refusal(files: &[&PathBuf]) -> Failure {
    let mut message =
        String::from("Python migration files are not supported; convert each into SQL files:");
    for path in files {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        message.push_str(&format!(
            "\n  {} -> {stem}.up.sql (+ {stem}.down.sql)",
            path.display()
        ));
    }
    Failure::config(message).hint(format!(
        "put the SQL that up() executes into <version>_<name>.up.sql and the SQL of down() into \
         <version>_<name>.down.sql, keep the same version so the tracking table still matches, \
         then delete the .py file (step by step: {MIGRATING_GUIDE}#python-migrations)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in files {
            std::fs::write(dir.path().join(name), content).unwrap();
        }
        dir
    }

    fn failure(files: &[(&str, &str)]) -> Failure {
        let dir = dir_with(files);
        discover(dir.path())
            .unwrap_err()
            .downcast::<Failure>()
            .expect("a Failure")
    }

    fn versions(found: &[Migration]) -> Vec<&str> {
        found.iter().map(|m| m.version.as_str()).collect()
    }

    #[test]
    fn finds_sidecars_sorted_as_text_with_checksums() {
        let dir = dir_with(&[
            ("10_later.up.sql", "SELECT 10;"),
            ("09_first.up.sql", "-- confiture: no-transaction\nSELECT 9;"),
            ("09_first.down.sql", "SELECT -9;"),
            ("09_first.verify.sql", "SELECT true;"),
            ("README.md", "not a migration"),
            ("__init__.py", ""),
            ("_helpers.py", "def shared(): ..."),
        ]);
        let found = discover_all(dir.path()).unwrap();
        assert!(found.notices.is_empty(), "{:?}", found.notices);
        let found = found.migrations;
        assert_eq!(versions(&found), vec!["09", "10"]);
        assert!(found[0].no_transaction && !found[1].no_transaction);
        assert!(found[0].down_path.is_some() && found[0].verify_path.is_some());
        assert!(found[1].down_path.is_none());
        assert_eq!(found[0].slug(), "09_first");
        assert_eq!(found[1].checksum, sha256_hex(b"SELECT 10;"));
        assert_eq!(found[1].checksum.len(), 64);
    }

    #[test]
    fn accepts_every_name_upstream_accepts() {
        let dir = dir_with(&[
            ("Add-Thing.up.sql", "SELECT 1;"),
            ("003_Add_Users_Émail.up.sql", "SELECT 3;"),
            ("v2_x.up.sql", "SELECT 2;"),
            ("20260101120000_add users.up.sql", "SELECT 4;"),
        ]);
        let found = discover(dir.path()).unwrap();
        let parts: Vec<(&str, &str)> = found
            .iter()
            .map(|m| (m.version.as_str(), m.name.as_str()))
            .collect();
        assert_eq!(
            parts,
            vec![
                ("003", "Add_Users_Émail"),
                ("20260101120000", "add users"),
                ("Add-Thing", "Add-Thing"),
                ("v2", "x"),
            ]
        );
        assert_eq!(found[2].slug(), "Add-Thing");
    }

    #[test]
    fn squash_baseline_sorts_before_the_migrations_after_it() {
        // Upstream's `migrate squash --through 0044` writes the baseline `0045` beside the
        // short versions that follow it: as text, 0045 < 007 < 008.
        let dir = dir_with(&[
            ("007_add_b.up.sql", ""),
            ("0045_squashed.up.sql", ""),
            ("008_add_c.up.sql", ""),
        ]);
        assert_eq!(
            versions(&discover(dir.path()).unwrap()),
            vec!["0045", "007", "008"]
        );
    }

    #[test]
    fn missing_directory_has_no_migrations() {
        assert!(
            discover(Path::new("/nonexistent/confiture"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn duplicate_versions_are_refused_and_distinct_spellings_are_two_versions() {
        let f = failure(&[("2_a.up.sql", ""), ("2_b.up.sql", "")]);
        assert!(f.message.contains("version 2"), "{}", f.message);
        assert!(f.message.contains("2_a.up.sql"), "{}", f.message);
        assert!(f.message.contains("2_b.up.sql"), "{}", f.message);
        let dir = dir_with(&[("001_a.up.sql", ""), ("1_b.up.sql", "")]);
        assert_eq!(versions(&discover(dir.path()).unwrap()), vec!["001", "1"]);
    }

    #[test]
    fn files_that_are_not_applied_are_reported_not_refused() {
        let dir = dir_with(&[
            ("3_x.down.sql", ""),
            ("4_y.verify.sql", ""),
            ("schema_dump.sql", ""),
            ("5_z.up.sql", "SELECT 5;"),
            ("5_z.yaml", "up_preconditions: []"),
        ]);
        let found = discover_all(dir.path()).unwrap();
        assert_eq!(versions(&found.migrations), vec!["5"]);
        let said: Vec<String> = found.notices.iter().map(|n| n.to_string()).collect();
        assert_eq!(said.len(), 4, "{said:?}");
        let about = |file: &str| {
            said.iter()
                .find(|s| s.contains(file))
                .unwrap_or_else(|| panic!("no notice about {file}: {said:?}"))
                .clone()
        };
        assert!(about("3_x.down.sql").contains("3_x.up.sql"));
        assert!(about("4_y.verify.sql").contains("4_y.up.sql"));
        assert!(about("schema_dump.sql").contains("schema_dump.up.sql"));
        let preconditions = about("5_z.yaml");
        assert!(preconditions.contains("not checked"), "{preconditions}");
        assert!(preconditions.contains(MIGRATING_GUIDE), "{preconditions}");
    }

    #[test]
    fn python_migrations_are_refused_with_conversion_names_and_the_guide() {
        let f = failure(&[("001_create_Users.py", "def up(): ..."), ("1_x.up.sql", "")]);
        assert!(
            f.message.contains("001_create_Users.up.sql"),
            "{}",
            f.message
        );
        assert!(
            f.message.contains("001_create_Users.down.sql"),
            "{}",
            f.message
        );
        let hint = f.hint.unwrap();
        assert!(
            hint.contains("up()") && hint.contains(MIGRATING_GUIDE),
            "{hint}"
        );
        assert_eq!(f.code, crate::error::ExitCode::Config);
    }

    #[test]
    fn version_order_is_upstreams() {
        assert_eq!(compare_versions("9", "10"), Ordering::Greater);
        assert_eq!(compare_versions("009", "010"), Ordering::Less);
        assert_eq!(compare_versions("0045", "007"), Ordering::Less);
        assert_ne!(compare_versions("001", "1"), Ordering::Equal);
        assert_eq!(
            compare_versions("20240101000000", "20231231235959"),
            Ordering::Greater
        );
        assert!(same_version("001", "001") && !same_version("001", "1"));
    }
}
