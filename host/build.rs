//! Build script: records the git commit the binary is built from, for `confiture --version`.

use std::path::Path;
use std::process::Command;

fn main() {
    let hash = Command::new("git")
        .args(["rev-parse", "--short=10", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown commit".into());
    println!("cargo:rustc-env=CONFITURE_GIT_HASH={hash}");
    // Rebuild when HEAD moves: a new commit on the branch, or another branch checked out.
    let git = Path::new("../.git");
    if git.is_dir() {
        println!("cargo:rerun-if-changed=../.git/HEAD");
        if let Ok(head) = std::fs::read_to_string(git.join("HEAD"))
            && let Some(reference) = head.strip_prefix("ref: ")
        {
            println!("cargo:rerun-if-changed=../.git/{}", reference.trim());
        }
        println!("cargo:rerun-if-changed=../.git/packed-refs");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
