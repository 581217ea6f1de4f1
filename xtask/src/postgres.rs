//! Making sure the PostgreSQL server binaries are on this machine.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::bail;
use confiture::db::cluster::binaries::{BINDIR_VAR, DEFAULT_GLOBS, find_bin_dir};

use crate::workspace::{is_root, on_path};

/// The Debian package that brings the server (`postgresql-15`) and `postgresql-common`.
const DEBIAN_PACKAGE: &str = "postgresql";

/// Finds the server binaries the way `confiture db start` does; when there are none and this
/// runs as root with `apt-get`, installs Debian's `postgresql`; else fails saying how to.
pub fn ensure_server(quiet: bool) -> anyhow::Result<PathBuf> {
    if let Ok(dir) = find() {
        return Ok(dir);
    }
    if !is_root() || on_path("apt-get").is_none() {
        bail!(
            "the PostgreSQL server binaries (initdb, pg_ctl) are not installed.\n\
             Install them, then run this again:\n  \
             Debian/Ubuntu: sudo apt-get install -y {DEBIAN_PACKAGE}   (pulls postgresql-15 and postgresql-common)\n  \
             Fedora:        sudo dnf install -y postgresql-server\n  \
             macOS:         brew install postgresql@16\n\
             or set {BINDIR_VAR} to the directory holding initdb and pg_ctl."
        );
    }
    println!("PostgreSQL server binaries not found: installing `{DEBIAN_PACKAGE}` with apt-get");
    apt_get(&["update"], quiet)?;
    apt_get(
        &["install", "-y", "--no-install-recommends", DEBIAN_PACKAGE],
        quiet,
    )?;
    find().map_err(|e| anyhow::anyhow!("installed {DEBIAN_PACKAGE}, but still: {e}"))
}

fn find() -> Result<PathBuf, confiture::error::Failure> {
    let explicit = std::env::var_os(BINDIR_VAR);
    find_bin_dir(
        explicit.as_deref().map(Path::new),
        std::env::var_os("PATH").as_deref(),
        DEFAULT_GLOBS,
    )
}

fn apt_get(args: &[&str], quiet: bool) -> anyhow::Result<()> {
    let mut cmd = Command::new("apt-get");
    cmd.args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null());
    if quiet {
        cmd.arg("-qq").stdout(Stdio::null());
    }
    let status = cmd.status()?;
    if !status.success() {
        bail!("`apt-get {}` failed ({status})", args.join(" "));
    }
    Ok(())
}
