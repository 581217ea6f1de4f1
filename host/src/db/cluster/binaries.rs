//! Finding the PostgreSQL server binaries (`initdb`, `pg_ctl`) on this machine.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{ExitCode, Failure};

/// The environment variable naming the server binaries' directory; it wins over any search.
pub const BINDIR_VAR: &str = "CONFITURE_PG_BINDIR";

/// Where packaged PostgreSQL servers live: Debian/Ubuntu, the PGDG RPMs, Homebrew, Postgres.app.
pub const DEFAULT_GLOBS: &[&str] = &[
    "/usr/lib/postgresql/*/bin",
    "/usr/pgsql-*/bin",
    "/opt/homebrew/opt/postgresql@*/bin",
    "/usr/local/opt/postgresql@*/bin",
    "/Applications/Postgres.app/Contents/Versions/*/bin",
];

/// Finds the directory holding `initdb` and `pg_ctl`: `explicit` (from [`BINDIR_VAR`]) when
/// given, else the first `PATH` entry with both, else `pg_config --bindir` (pg_config found on
/// `PATH`), else the highest version matching one of `globs` (each with one `*`).
///
/// The error lists what was searched and how to install the server.
pub fn find_bin_dir(
    explicit: Option<&Path>,
    path_var: Option<&OsStr>,
    globs: &[&str],
) -> Result<PathBuf, Failure> {
    if let Some(dir) = explicit {
        return if has_server_binaries(dir) {
            Ok(canonical_bin_dir(dir))
        } else {
            Err(Failure::new(
                ExitCode::Config,
                format!(
                    "{BINDIR_VAR}={} holds no `initdb` and `pg_ctl`",
                    dir.display()
                ),
            )
            .hint(format!(
                "point {BINDIR_VAR} at the PostgreSQL server's bin directory, or unset it to search"
            )))
        };
    }
    let path_dirs: Vec<PathBuf> = path_var
        .map(|p| std::env::split_paths(p).collect())
        .unwrap_or_default();
    if let Some(dir) = path_dirs.iter().find(|d| has_server_binaries(d)) {
        return Ok(canonical_bin_dir(dir));
    }
    let pg_config = path_dirs
        .iter()
        .map(|d| d.join("pg_config"))
        .find(|p| is_executable(p));
    if let Some(dir) = pg_config.as_deref().and_then(pg_config_bindir)
        && has_server_binaries(&dir)
    {
        return Ok(canonical_bin_dir(&dir));
    }
    if let Some(dir) = globs.iter().filter_map(|g| highest_match(g)).next() {
        return Ok(canonical_bin_dir(&dir));
    }
    let pg_config_note = match &pg_config {
        Some(p) => format!("`{} --bindir`", p.display()),
        None => "`pg_config --bindir` (no pg_config on PATH)".to_string(),
    };
    Err(Failure::new(
        ExitCode::Config,
        format!(
            "no PostgreSQL server binaries (initdb, pg_ctl) found; searched {BINDIR_VAR} (unset), \
             PATH, {pg_config_note}, {}",
            globs.join(", ")
        ),
    )
    .hint(
        "install the PostgreSQL server: Debian/Ubuntu `sudo apt-get install postgresql` \
         (server packages postgresql-15 and postgresql-common), Fedora `sudo dnf install \
         postgresql-server`, macOS `brew install postgresql@16`; or set CONFITURE_PG_BINDIR to \
         the directory holding initdb and pg_ctl",
    ))
}

/// True when `dir` has executable `initdb` and `pg_ctl`.
pub fn has_server_binaries(dir: &Path) -> bool {
    is_executable(&dir.join("initdb")) && is_executable(&dir.join("pg_ctl"))
}

/// The real directory of `initdb` (resolving a `/usr/local/bin/initdb` symlink to the versioned
/// directory that also holds `postgres`), when it still holds `pg_ctl`.
fn canonical_bin_dir(dir: &Path) -> PathBuf {
    dir.join("initdb")
        .canonicalize()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .filter(|real| has_server_binaries(real))
        .unwrap_or_else(|| dir.to_path_buf())
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn pg_config_bindir(pg_config: &Path) -> Option<PathBuf> {
    let out = Command::new(pg_config)
        .arg("--bindir")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let dir = text.trim();
    (out.status.success() && !dir.is_empty()).then(|| PathBuf::from(dir))
}

/// The directory matching `glob` (`<dir>/<prefix>*<suffix>[/<rest>]`) with the highest version
/// in place of `*` that holds the server binaries.
fn highest_match(glob: &str) -> Option<PathBuf> {
    let (head, tail) = glob.split_once('*')?;
    let (parent, prefix) = head.rsplit_once('/')?;
    let (suffix, rest) = tail.split_once('/').unwrap_or((tail, ""));
    let parent = if parent.is_empty() { "/" } else { parent };
    std::fs::read_dir(parent)
        .ok()?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            let version = name.strip_prefix(prefix)?.strip_suffix(suffix)?.to_string();
            let dir = Path::new(parent).join(&name).join(rest);
            has_server_binaries(&dir).then(|| (version_key(&version), dir))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, dir)| dir)
}

/// `16.2` → `[16, 2]`, so that `16` sorts above `9.6`.
fn version_key(version: &str) -> Vec<u64> {
    version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn fake_bin(dir: &Path, names: &[&str]) {
        std::fs::create_dir_all(dir).unwrap();
        for name in names {
            let file = dir.join(name);
            std::fs::write(&file, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    #[test]
    fn explicit_directory_wins_and_must_hold_the_binaries() {
        let tmp = tempfile::tempdir().unwrap();
        let on_path = tmp.path().join("path");
        let explicit = tmp.path().join("explicit");
        fake_bin(&on_path, &["initdb", "pg_ctl"]);
        fake_bin(&explicit, &["initdb", "pg_ctl"]);
        let path = on_path.as_os_str();
        assert_eq!(
            find_bin_dir(Some(&explicit), Some(path), &[]).unwrap(),
            explicit
        );
        let empty = tmp.path().join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        let err = find_bin_dir(Some(&empty), Some(path), &[]).unwrap_err();
        assert!(err.message.contains(BINDIR_VAR), "{}", err.message);
    }

    #[test]
    fn path_needs_both_binaries_and_executable() {
        let tmp = tempfile::tempdir().unwrap();
        let half = tmp.path().join("half");
        let full = tmp.path().join("full");
        fake_bin(&half, &["initdb"]);
        fake_bin(&full, &["initdb", "pg_ctl"]);
        let not_exec = tmp.path().join("noexec");
        fake_bin(&not_exec, &["initdb", "pg_ctl"]);
        std::fs::set_permissions(
            not_exec.join("pg_ctl"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let path = std::env::join_paths([&half, &not_exec, &full]).unwrap();
        assert_eq!(find_bin_dir(None, Some(&path), &[]).unwrap(), full);
    }

    #[test]
    fn pg_config_bindir_is_asked() {
        let tmp = tempfile::tempdir().unwrap();
        let server = tmp.path().join("server/bin");
        fake_bin(&server, &["initdb", "pg_ctl"]);
        let tools = tmp.path().join("tools");
        std::fs::create_dir_all(&tools).unwrap();
        let pg_config = tools.join("pg_config");
        std::fs::write(
            &pg_config,
            format!("#!/bin/sh\necho {}\n", server.display()),
        )
        .unwrap();
        std::fs::set_permissions(&pg_config, std::fs::Permissions::from_mode(0o755)).unwrap();
        let found = find_bin_dir(None, Some(tools.as_os_str()), &[]).unwrap();
        assert_eq!(found, server);
    }

    #[test]
    fn globs_pick_the_highest_version() {
        let tmp = tempfile::tempdir().unwrap();
        for version in ["9.6", "16", "13"] {
            fake_bin(
                &tmp.path().join(format!("postgresql/{version}/bin")),
                &["initdb", "pg_ctl"],
            );
        }
        // A newer version without the server binaries is skipped.
        fake_bin(&tmp.path().join("postgresql/17/bin"), &["psql"]);
        let glob = format!("{}/postgresql/*/bin", tmp.path().display());
        let found = find_bin_dir(None, None, &[&glob]).unwrap();
        assert_eq!(found, tmp.path().join("postgresql/16/bin"));
        let brew = format!("{}/opt/postgresql@*/bin", tmp.path().display());
        fake_bin(
            &tmp.path().join("opt/postgresql@14/bin"),
            &["initdb", "pg_ctl"],
        );
        fake_bin(
            &tmp.path().join("opt/postgresql@16/bin"),
            &["initdb", "pg_ctl"],
        );
        let found = find_bin_dir(None, None, &[&brew]).unwrap();
        assert_eq!(found, tmp.path().join("opt/postgresql@16/bin"));
    }

    #[test]
    fn nothing_found_says_what_was_searched_and_how_to_install() {
        let tmp = tempfile::tempdir().unwrap();
        let glob = format!("{}/postgresql/*/bin", tmp.path().display());
        let err = find_bin_dir(None, Some(tmp.path().as_os_str()), &[&glob]).unwrap_err();
        assert_eq!(err.code, ExitCode::Config);
        assert!(err.message.contains("PATH"), "{}", err.message);
        assert!(err.message.contains(&glob), "{}", err.message);
        let hint = err.hint.unwrap();
        assert!(hint.contains("apt-get install postgresql"), "{hint}");
        assert!(hint.contains("dnf install postgresql-server"), "{hint}");
        assert!(hint.contains("brew install postgresql@16"), "{hint}");
    }

    #[test]
    fn versions_sort_numerically() {
        assert!(version_key("16") > version_key("9.6"));
        assert!(version_key("15.2") > version_key("15"));
    }
}
