//! `confiture plugins new` scaffolds plugins (Rust, and Python of every kind) that build as they
//! are, and load.

use std::process::{Command, Stdio};

use confiture::plugins::Kind;
use confiture::project::PluginSettings;

use crate::plugins_support::{engine, load, workspace};

#[test]
fn scaffolded_rust_strategy_builds_offline_and_loads() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_confiture"))
        .args([
            "plugins", "new", "mask-it", "--kind", "strategy", "--format", "json",
        ])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["name"], "mask-it");
    let project = dir.path().join("mask-it");
    for file in [
        "Cargo.toml",
        "src/lib.rs",
        "sdk/Cargo.toml",
        "sdk/src/lib.rs",
        "sdk/wit/worlds.wit",
    ] {
        assert!(project.join(file).is_file(), "{file} missing");
    }

    // A target directory kept between runs, so only the first run compiles the SDK's deps.
    let target = workspace().join("target/scaffold-build");
    let build = Command::new(env!("CARGO"))
        .args(["build", "--release", "--offline"])
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(&project)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "the scaffold does not build: {}",
        String::from_utf8_lossy(&build.stderr)
    );
    let component = target.join("wasm32-wasip2/release/mask_it.wasm");
    let (engine, _) = engine(None, Some(b"k"));
    let plugin = load(&engine, &component, PluginSettings::default());
    assert_eq!(plugin.name(), "mask-it");
    assert_eq!(plugin.shape.kinds, [Kind::Strategy]);
    assert_eq!(plugin.info.strategies[0].name, "mask_it");
}

/// The Python scaffold of every kind builds with componentize-py (from the virtualenv that
/// `cargo xtask build-plugins` creates) and loads as the kind it says.
#[test]
fn scaffolded_python_plugins_build_and_load() {
    let componentize = workspace().join("target/py-venv/bin/componentize-py");
    assert!(
        componentize.is_file(),
        "{} is missing: run `cargo xtask build-plugins` first",
        componentize.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let (engine, _) = engine(None, Some(b"k"));
    for (kind, world, expected) in [
        ("strategy", "strategy-plugin", Kind::Strategy),
        ("hook", "hook-plugin", Kind::Hook),
        ("lint", "lint-plugin", Kind::Lint),
    ] {
        let name = format!("py-{kind}");
        let out = Command::new(env!("CARGO_BIN_EXE_confiture"))
            .args(["plugins", "new", &name, "--kind", kind, "--lang", "python"])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let project = dir.path().join(&name);
        let component = project.join(format!("{name}.wasm"));
        let build = Command::new(&componentize)
            .args(["-d", "wit", "-w", world, "componentize", "app", "-o"])
            .arg(&component)
            .current_dir(&project)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            build.status.success(),
            "the {kind} scaffold does not build: {}",
            String::from_utf8_lossy(&build.stderr)
        );
        let plugin = load(&engine, &component, PluginSettings::default());
        assert_eq!(plugin.name(), name);
        assert_eq!(plugin.shape.kinds, [expected], "{kind}");
    }
}
