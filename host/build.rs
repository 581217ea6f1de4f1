//! Build script: records the git commit the binary is built from, for `confiture --version`.
//!
//! Cargo rebuilds a crate whenever a watched path does not exist, so only files that exist are
//! watched: `HEAD`, and the file that holds the branch's commit (its loose ref, or
//! `packed-refs` plus the folder where the loose ref will appear on the next commit).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let hash = git(&["rev-parse", "--short=10", "HEAD"]).unwrap_or_else(|| "unknown commit".into());
    println!("cargo:rustc-env=CONFITURE_GIT_HASH={hash}");
    for path in watched_git_files() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    println!("cargo:rerun-if-changed=build.rs");
}

/// The trimmed output of `git args`, when git runs and succeeds.
fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (output.status.success() && !text.is_empty()).then(|| text.to_string())
}

/// The existing files whose change means HEAD may point to another commit (none outside git).
fn watched_git_files() -> Vec<PathBuf> {
    let Some(git_dir) = git(&["rev-parse", "--absolute-git-dir"]).map(PathBuf::from) else {
        return Vec::new();
    };
    // Worktrees keep HEAD in their own folder and refs in the common one.
    let common = git(&["rev-parse", "--git-common-dir"])
        .map(|dir| absolute(&git_dir, &dir))
        .unwrap_or_else(|| git_dir.clone());
    let mut watched = vec![git_dir.join("HEAD")];
    if let Some(reference) = git(&["symbolic-ref", "-q", "HEAD"]) {
        let loose = common.join(&reference);
        if loose.is_file() {
            watched.push(loose);
        } else {
            watched.push(common.join("packed-refs"));
            if let Some(folder) = loose.parent() {
                watched.push(folder.to_path_buf());
            }
        }
    }
    watched.retain(|path| path.exists());
    watched
}

/// `dir` as git printed it (relative to the current directory, or absolute).
fn absolute(git_dir: &Path, dir: &str) -> PathBuf {
    let path = Path::new(dir);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|cwd| cwd.join(path))
            .unwrap_or_else(|_| git_dir.join(path))
    }
}
