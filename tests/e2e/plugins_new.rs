//! `confiture plugins new` scaffolds plugins (Rust; Python and JavaScript of every kind; a C
//! strategy) that build as they are with the project's pinned tools, pass their own native
//! tests, and load.

use std::process::{Command, Stdio};

use confiture::plugins::Kind;
use confiture::project::settings::plugins::PluginSettings;

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

/// `target/tools/<path>`, installed by `cargo xtask build-plugins`.
fn tool(path: &str) -> std::path::PathBuf {
    let file = workspace().join("target/tools").join(path);
    assert!(
        file.is_file(),
        "{} is missing: run `cargo xtask build-plugins` first",
        file.display()
    );
    file
}

/// Runs `confiture plugins new NAME --kind KIND --lang LANG` in `dir`.
fn scaffold(dir: &std::path::Path, name: &str, kind: &str, lang: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_confiture"))
        .args(["plugins", "new", name, "--kind", kind, "--lang", lang])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Runs `command` in `dir`, panicking with its output unless it succeeds.
fn succeeds(command: &mut Command, dir: &std::path::Path, what: &str) {
    let out = command
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The Python and JavaScript scaffolds of every kind pass their own native tests (on the
/// vendored SDK's doubles), build with the pinned componentize-py / componentize-qjs, and load
/// as the kind they say; the C scaffold builds with its build.sh and anonymizes.
#[test]
fn scaffolded_python_javascript_and_c_plugins_test_build_and_load() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _) = engine(None, Some(b"k"));
    let kinds = [
        ("strategy", "strategy-plugin", Kind::Strategy),
        ("hook", "hook-plugin", Kind::Hook),
        ("lint", "lint-plugin", Kind::Lint),
    ];
    for (lang, (kind, world, expected)) in kinds
        .iter()
        .map(|k| ("python", *k))
        .chain(kinds.iter().map(|k| ("js", *k)))
    {
        let name = format!("{lang}-{kind}");
        let out = scaffold(dir.path(), &name, kind, lang);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let project = dir.path().join(&name);
        let component = project.join(format!("{name}.wasm"));
        if lang == "python" {
            succeeds(
                Command::new(tool("py/bin/python")).args([
                    "-m",
                    "pytest",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                ]),
                &project,
                &format!("the {name} scaffold's tests"),
            );
            succeeds(
                Command::new(tool("py/bin/componentize-py"))
                    .args(["-d", "wit", "-w", world, "componentize", "app", "-o"])
                    .arg(&component),
                &project,
                &format!("building the {name} scaffold"),
            );
        } else {
            succeeds(
                Command::new("node").args([
                    "--import",
                    "./confiture/testing.js",
                    "--test",
                    "app.test.js",
                ]),
                &project,
                &format!("the {name} scaffold's tests"),
            );
            succeeds(
                Command::new(tool("node/node_modules/.bin/componentize-qjs"))
                    .args([
                        "--wit", "wit", "-n", world, "--js", "app.js", "--sync", "-o",
                    ])
                    .arg(&component),
                &project,
                &format!("building the {name} scaffold"),
            );
        }
        let plugin = load(&engine, &component, PluginSettings::default());
        assert_eq!(plugin.name(), name);
        assert_eq!(plugin.shape.kinds, [expected], "{name}");
        assert_eq!(plugin.shape.contract, confiture::plugins::CONTRACT_VERSION);
    }

    // C: strategies only, said clearly for another kind.
    let refused = scaffold(dir.path(), "c-hook", "hook", "c");
    assert_eq!(refused.status.code(), Some(5));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("`--lang c` scaffolds strategies only"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let out = scaffold(dir.path(), "c-mask", "strategy", "c");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let project = dir.path().join("c-mask");
    // The scaffold vendors the C bindings: wasm-tools and clang are all it needs.
    let path = std::env::join_paths(
        std::iter::once(tool("py/bin/wasm-tools").parent().unwrap().to_path_buf()).chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ),
    )
    .unwrap();
    succeeds(
        Command::new("sh").arg("build.sh").env("PATH", path),
        &project,
        "building the C scaffold",
    );
    let plugin = load(
        &engine,
        &project.join("c-mask.wasm"),
        PluginSettings::default(),
    );
    assert_eq!(plugin.info.strategies[0].name, "c_mask");
    let out = confiture::plugins::StrategyWorker::new(plugin.clone())
        .unwrap()
        .anonymize(&confiture::plugins::Batch {
            strategy: "c_mask".into(),
            column: confiture::plugins::strategy::Column {
                schema: "public".into(),
                table: "t".into(),
                name: "c".into(),
                type_name: "text".into(),
            },
            params: vec![],
            values: confiture::plugins::TextBatch::from_values([Some("a"), None, Some("a")]),
            context: vec![],
        })
        .unwrap();
    let expected: String = confiture::plugins::keyed_hash::KeyedHasher::new(b"k")
        .unwrap()
        .for_plugin(plugin.name())
        .hash(b"a")[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        out.values().collect::<Vec<_>>(),
        [Some(expected.as_str()), None, Some(expected.as_str())]
    );
}
