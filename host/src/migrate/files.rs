//! Migration files on disk: `<version>_<name>.up.sql`, with optional `.down.sql` and
//! `.verify.sql` sidecars.

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
    /// The version: digits, compared numerically.
    pub version: String,
    /// The name: `[a-z0-9_]+`.
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
    /// `<version>_<name>`: the tracking table's slug.
    pub fn slug(&self) -> String {
        format!("{}_{}", self.version, self.name)
    }
}

/// Orders versions numerically (`9` before `10`, `001` equal to `1`).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// True when two versions are the same number.
pub fn same_version(a: &str, b: &str) -> bool {
    compare_versions(a, b) == Ordering::Equal
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

/// Splits `<version>_<name>.<kind>.sql` into its parts.
fn parse_file_name(file_name: &str) -> Option<(String, String, Kind)> {
    let (stem, kind) = [
        (".up.sql", Kind::Up),
        (".down.sql", Kind::Down),
        (".verify.sql", Kind::Verify),
    ]
    .iter()
    .find_map(|(suffix, kind)| file_name.strip_suffix(suffix).map(|s| (s, *kind)))?;
    let (version, name) = stem.split_once('_')?;
    let valid =
        !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()) && is_valid_name(name);
    valid.then(|| (version.to_string(), name.to_string(), kind))
}

/// A migration name is `[a-z0-9_]+`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[derive(Default)]
struct Found {
    name: String,
    up: Option<PathBuf>,
    down: Option<PathBuf>,
    verify: Option<PathBuf>,
}

/// Finds the migrations in `dir`, sorted by version. A missing directory holds none.
///
/// Refuses (exit 5, naming the file) duplicate versions, a `.down.sql`/`.verify.sql` without
/// its `.up.sql`, a `.sql` file that does not follow the naming pattern, and upstream's Python
/// migration files.
pub fn discover(dir: &Path) -> anyhow::Result<Vec<Migration>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
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
                && p.file_name().is_some_and(|n| n != "__init__.py")
        })
        .collect();
    if !python.is_empty() {
        return Err(python_refusal(&python).into());
    }

    let mut by_version: BTreeMap<String, Found> = BTreeMap::new();
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
    {
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let Some((version, name, kind)) = parse_file_name(file_name) else {
            return Err(Failure::config(format!(
                "{}: not a migration file name (expected <version>_<name>.up.sql, \
                 .down.sql or .verify.sql)",
                shown(path)
            ))
            .hint("the version is digits, the name lower-case letters, digits and underscores; move other SQL out of the migrations directory")
            .into());
        };
        let key = by_version
            .keys()
            .find(|v| same_version(v, &version))
            .cloned()
            .unwrap_or_else(|| version.clone());
        let found = by_version.entry(key.clone()).or_default();
        if found.name.is_empty() {
            found.name = name.clone();
        }
        let slot = match kind {
            Kind::Up => &mut found.up,
            Kind::Down => &mut found.down,
            Kind::Verify => &mut found.verify,
        };
        if found.name != name || key != version || slot.is_some() {
            return Err(Failure::config(format!(
                "{}: version {version} is used by another migration ({key}_{})",
                shown(path),
                found.name
            ))
            .hint("give each migration its own version, e.g. with `confiture migrate generate`")
            .into());
        }
        *slot = Some(path.clone());
    }

    let mut migrations = Vec::with_capacity(by_version.len());
    for (version, found) in by_version {
        let Some(up_path) = found.up else {
            let orphan = found.down.or(found.verify).expect("a file was found");
            return Err(Failure::config(format!(
                "{}: has no {version}_{}.up.sql next to it",
                shown(&orphan),
                found.name
            ))
            .hint("add the .up.sql, or remove the orphan file")
            .into());
        };
        let bytes =
            std::fs::read(&up_path).with_context(|| format!("reading {}", shown(&up_path)))?;
        let up_sql = String::from_utf8(bytes)
            .map_err(|_| Failure::config(format!("{}: is not UTF-8 text", shown(&up_path))))?;
        migrations.push(Migration {
            checksum: sha256_hex(up_sql.as_bytes()),
            no_transaction: has_no_transaction_marker(&up_sql),
            version,
            name: found.name,
            up_path,
            down_path: found.down,
            verify_path: found.verify,
            up_sql,
        });
    }
    migrations.sort_by(|a, b| compare_versions(&a.version, &b.version));
    Ok(migrations)
}

/// The refusal of upstream's Python migrations, with the file names to convert each into.
fn python_refusal(files: &[&PathBuf]) -> Failure {
    let mut message =
        String::from("Python migration files are not supported; convert each into SQL files:");
    for path in files {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let target = match stem.split_once('_') {
            Some((v, n)) if v.bytes().all(|b| b.is_ascii_digit()) && !v.is_empty() => {
                format!("{v}_{}", n.to_ascii_lowercase())
            }
            _ => "<version>_<name>".to_string(),
        };
        message.push_str(&format!(
            "\n  {} -> {target}.up.sql (+ {target}.down.sql)",
            path.display()
        ));
    }
    Failure::config(message).hint(
        "put the SQL that up() executes into <version>_<name>.up.sql and the SQL of down() into \
         <version>_<name>.down.sql, keep the same version so the tracking table still matches, \
         then delete the .py file",
    )
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

    #[test]
    fn finds_pairs_sorted_numerically_with_checksums() {
        let dir = dir_with(&[
            ("10_later.up.sql", "SELECT 10;"),
            ("9_first.up.sql", "-- confiture: no-transaction\nSELECT 9;"),
            ("9_first.down.sql", "SELECT -9;"),
            ("9_first.verify.sql", "SELECT true;"),
            ("README.md", "not a migration"),
            ("__init__.py", ""),
        ]);
        let found = discover(dir.path()).unwrap();
        let versions: Vec<&str> = found.iter().map(|m| m.version.as_str()).collect();
        assert_eq!(versions, vec!["9", "10"]);
        assert!(found[0].no_transaction && !found[1].no_transaction);
        assert!(found[0].down_path.is_some() && found[0].verify_path.is_some());
        assert!(found[1].down_path.is_none());
        assert_eq!(found[0].slug(), "9_first");
        assert_eq!(found[1].checksum, sha256_hex(b"SELECT 10;"));
        assert_eq!(found[1].checksum.len(), 64);
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
    fn duplicate_versions_are_refused() {
        let f = failure(&[("001_a.up.sql", ""), ("1_b.up.sql", "")]);
        assert!(f.message.contains("1_b.up.sql"), "{}", f.message);
        assert!(f.message.contains("001_a"), "{}", f.message);
        let f = failure(&[("2_a.up.sql", ""), ("2_b.up.sql", "")]);
        assert!(f.message.contains("version 2"), "{}", f.message);
    }

    #[test]
    fn orphan_down_is_refused() {
        let f = failure(&[("3_x.down.sql", "")]);
        assert!(f.message.contains("3_x.down.sql"), "{}", f.message);
        assert!(f.message.contains("3_x.up.sql"), "{}", f.message);
    }

    #[test]
    fn badly_named_sql_is_refused() {
        for name in [
            "schema.sql",
            "1_Users.up.sql",
            "v1_x.up.sql",
            "1_x.sql",
            "1.up.sql",
        ] {
            let f = failure(&[(name, "")]);
            assert!(f.message.contains(name), "{}", f.message);
            assert_eq!(f.code, crate::error::ExitCode::Config);
        }
    }

    #[test]
    fn python_migrations_are_refused_with_conversion_names() {
        let f = failure(&[("001_create_users.py", "def up(): ..."), ("1_x.up.sql", "")]);
        assert!(
            f.message.contains("001_create_users.up.sql"),
            "{}",
            f.message
        );
        assert!(
            f.message.contains("001_create_users.down.sql"),
            "{}",
            f.message
        );
        assert!(f.hint.unwrap().contains("up()"));
    }

    #[test]
    fn version_order_is_numeric() {
        assert_eq!(compare_versions("9", "10"), Ordering::Less);
        assert_eq!(compare_versions("001", "1"), Ordering::Equal);
        assert_eq!(
            compare_versions("20240101000000", "20231231235959"),
            Ordering::Greater
        );
    }
}
