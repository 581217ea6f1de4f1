//! `cargo xtask build-plugins`: builds every plugin under `plugins/` into a component in
//! `target/plugins/` (`<name>.wasm`, hostile test plugins in `target/plugins/hostile/`).
//!
//! - Rust plugins (the `plugins/` Cargo workspace): one `cargo build --release --target
//!   wasm32-wasip2` with `--target-dir target/plugins-build`;
//! - Python plugins (`app.py` on `sdk/python`): componentize-py;
//! - JavaScript plugins (`app.js` on `sdk/js`): componentize-qjs (QuickJS, synchronous);
//! - C plugins (`plugin.c` on `sdk/c/confiture.h`): the generated C bindings in `sdk/c/bindings/`
//!   (see [`crate::c_bindings`]), Debian's clang 14 and wasi-libc (a reactor core module), then
//!   `wasm-tools component embed` and `component new`;
//! - `hostile/not-a-component`: a core WebAssembly module, written from the bytes below;
//! - `hostile/table-bomb`: its Rust build with [`BOMB_TABLES`] tables added by `wasm-tools`;
//! - `hostile/compile-bomb`: a component whose compilation is costly, written by
//!   [`compile_bomb`].
//!
//! The tools are installed when missing by [`crate::tools`]. Work whose outputs are newer than
//! all its inputs is skipped.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::{Context, Result, bail, ensure};

use crate::tools::{Tools, run};

/// The Rust target plugins are built for.
const TARGET: &str = "wasm32-wasip2";
/// Python plugins: folder under `plugins/` (holding `app.py`) and the WIT world it targets.
pub const PYTHON_PLUGINS: &[(&str, &str)] = &[
    ("python-strategy", "strategy-plugin"),
    ("python-hook", "hook-plugin"),
    ("python-lint", "lint-plugin"),
];
/// JavaScript plugins: folder (holding `app.js`) and world.
pub const JS_PLUGINS: &[(&str, &str)] = &[
    ("js-strategy", "strategy-plugin"),
    ("js-hook", "hook-plugin"),
];
/// C plugins: folder (holding `plugin.c`) and world.
pub const C_PLUGINS: &[(&str, &str)] = &[("c-strategy", "strategy-plugin")];
/// The first 8 bytes of a component: magic, then version 0x0d and layer 1.
const COMPONENT_HEADER: [u8; 8] = *b"\0asm\x0d\0\x01\0";
/// `(module (func (export "describe") (result i32) i32.const 0))`: a valid core module, which
/// the host must refuse because it is not a component.
const CORE_MODULE: &[u8] = &[
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1 (core)
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, // type section: () -> i32
    0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
    0x07, 0x0c, 0x01, 0x08, b'd', b'e', b's', b'c', b'r', b'i', b'b', b'e', 0x00,
    0x00, // export section: "describe" = function 0
    0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x00, 0x0b, // code section: i32.const 0, end
];

/// The hostile plugin whose component gets [`BOMB_TABLES`] tables of [`BOMB_TABLE_ELEMENTS`]
/// after its Rust build (a core module may declare 100 tables; its own is the first).
const TABLE_BOMB: &str = "hostile/table-bomb.wasm";
const BOMB_TABLES: usize = 99;
const BOMB_TABLE_ELEMENTS: u32 = 1_000_000;

/// Locals and blocks of the compile bomb's one function.
const BOMB_LOCALS: u32 = 2_000;
const BOMB_BLOCKS: u32 = 20_000;

/// A component (about 380 KB) holding one core module whose one function has
/// [`BOMB_LOCALS`] `i64` locals, all live to its end, and [`BOMB_BLOCKS`] blocks that each
/// add two locals into a third and may branch out: every block boundary merges every local,
/// and Cranelift's register allocation needs gigabytes and minutes for it (more than 2 GiB
/// after a minute on a two-core machine). It is no plugin: it exports nothing, which the host
/// would only find out after compiling it.
fn compile_bomb() -> Vec<u8> {
    fn leb(mut n: u32, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    fn section(id: u8, content: &[u8], out: &mut Vec<u8>) {
        out.push(id);
        leb(content.len() as u32, out);
        out.extend_from_slice(content);
    }
    // A fixed linear congruential sequence picks the locals: the same bytes on every build.
    let mut state = 1_u64;
    let mut local = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) % u64::from(BOMB_LOCALS)) as u32
    };
    let mut body = Vec::new();
    leb(1, &mut body); // one run of locals
    leb(BOMB_LOCALS, &mut body);
    body.push(0x7e); // i64
    for _ in 0..BOMB_BLOCKS {
        body.extend([0x02, 0x40]); // block (no result)
        for op in [0x20, 0x20] {
            body.push(op); // local.get
            leb(local(), &mut body);
        }
        body.extend([0x7c, 0x21]); // i64.add, local.set
        leb(local(), &mut body);
        body.push(0x20); // local.get
        leb(local(), &mut body);
        body.extend([0xa7, 0x0d, 0x00, 0x0b]); // i32.wrap_i64, br_if 0, end
    }
    for i in 0..BOMB_LOCALS {
        body.push(0x20); // local.get: every local lives to the end
        leb(i, &mut body);
        body.push(0x1a); // drop
    }
    body.push(0x0b); // end
    let mut module = b"\0asm\x01\0\0\0".to_vec();
    section(1, &[1, 0x60, 0, 0], &mut module); // one type: () -> ()
    section(3, &[1, 0], &mut module); // one function of type 0
    let mut code = Vec::new();
    leb(1, &mut code);
    leb(body.len() as u32, &mut code);
    code.extend(body);
    section(10, &code, &mut module);
    let mut component = COMPONENT_HEADER.to_vec();
    section(1, &module, &mut component); // a core module section
    component
}

/// One Rust plugin crate of the `plugins/` workspace.
struct RustPlugin {
    /// Its folder.
    dir: PathBuf,
    /// Its package name (the `.wasm` cargo writes is this with `_` for `-`).
    package: String,
    /// Where its component goes.
    output: PathBuf,
}

/// The `confiture` binary a benchmark measures, and what it is: `--binary PATH` as given, or
/// the release build (built now, with every plugin).
pub fn binary_and_plugins(
    workspace_root: &Path,
    given: Option<&Path>,
) -> Result<(PathBuf, String)> {
    match given {
        Some(binary) => Ok((
            binary
                .canonicalize()
                .with_context(|| format!("--binary {}", binary.display()))?,
            format!("the binary `{}`", binary.display()),
        )),
        None => {
            build_plugins(workspace_root)?;
            Ok((
                crate::workspace::build_confiture(true)?,
                "the release profile".to_string(),
            ))
        }
    }
}

/// The built component of plugin `name` (`target/plugins/<name>.wasm`); an error saying how to
/// build it when it is missing.
pub fn built_component(workspace_root: &Path, name: &str) -> Result<PathBuf> {
    let file = workspace_root
        .join("target/plugins")
        .join(format!("{name}.wasm"));
    if !file.is_file() {
        anyhow::bail!(
            "{} is missing; run `cargo xtask build-plugins`",
            file.display()
        );
    }
    Ok(file)
}

/// Builds every plugin under `<workspace_root>/plugins/` and returns the components' paths.
pub fn build_plugins(workspace_root: &Path) -> Result<Vec<PathBuf>> {
    let plugins_dir = workspace_root.join("plugins");
    let out_dir = workspace_root.join("target/plugins");
    fs::create_dir_all(out_dir.join("hostile"))
        .with_context(|| format!("creating {}", out_dir.join("hostile").display()))?;

    let tools = Tools::new(workspace_root);
    let mut built = build_rust(workspace_root, &tools, &plugins_dir, &out_dir)?;
    for (name, world) in PYTHON_PLUGINS {
        built.push(build_python(workspace_root, &tools, name, world, &out_dir)?);
    }
    for (name, world) in JS_PLUGINS {
        built.push(build_js(workspace_root, &tools, name, world, &out_dir)?);
    }
    for (name, world) in C_PLUGINS {
        built.push(build_c(workspace_root, &tools, name, world, &out_dir)?);
    }
    let core = out_dir.join("hostile/not-a-component.wasm");
    if fs::read(&core).ok().as_deref() != Some(CORE_MODULE) {
        fs::write(&core, CORE_MODULE).with_context(|| format!("writing {}", core.display()))?;
        println!("built       hostile/not-a-component (a core module)");
    }
    built.push(core);
    let bomb = out_dir.join("hostile/compile-bomb.wasm");
    let bytes = compile_bomb();
    if fs::read(&bomb).ok() != Some(bytes.clone()) {
        fs::write(&bomb, bytes).with_context(|| format!("writing {}", bomb.display()))?;
        println!("built       hostile/compile-bomb (a costly compile)");
    }
    built.push(bomb);
    Ok(built)
}

/// The crates of the `plugins/` workspace: `plugins/*/Cargo.toml` and
/// `plugins/hostile/*/Cargo.toml`.
/// The packages of the Rust plugins that have unit tests (a `#[cfg(test)]` in a file under
/// `src/`): `cargo xtask test` compiles only these natively, against the SDK's test doubles.
pub fn rust_plugins_with_tests(workspace_root: &Path) -> Result<Vec<String>> {
    let plugins_dir = workspace_root.join("plugins");
    let mut packages = Vec::new();
    for plugin in rust_plugins(&plugins_dir, &workspace_root.join("target/plugins"))? {
        if has_unit_tests(&plugin.dir.join("src"))? {
            packages.push(plugin.package);
        }
    }
    Ok(packages)
}

/// Whether a `.rs` file under `dir` (recursively) holds a `#[cfg(test)]`.
fn has_unit_tests(dir: &Path) -> Result<bool> {
    for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        let found = if path.is_dir() {
            has_unit_tests(&path)?
        } else if path.extension().is_some_and(|e| e == "rs") {
            fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?
                .contains("#[cfg(test)]")
        } else {
            false
        };
        if found {
            return Ok(true);
        }
    }
    Ok(false)
}

fn rust_plugins(plugins_dir: &Path, out_dir: &Path) -> Result<Vec<RustPlugin>> {
    let mut plugins = Vec::new();
    for (dir, out) in [
        (plugins_dir.to_path_buf(), out_dir.to_path_buf()),
        (plugins_dir.join("hostile"), out_dir.join("hostile")),
    ] {
        let entries = fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))?;
        for entry in entries {
            let crate_dir = entry?.path();
            let manifest = crate_dir.join("Cargo.toml");
            if !manifest.is_file() {
                continue;
            }
            let name = crate_dir
                .file_name()
                .and_then(|n| n.to_str())
                .context("plugin folder names are UTF-8")?
                .to_string();
            plugins.push(RustPlugin {
                package: package_name(&manifest)?,
                output: out.join(format!("{name}.wasm")),
                dir: crate_dir,
            });
        }
    }
    plugins.sort_by(|a, b| a.output.cmp(&b.output));
    Ok(plugins)
}

/// The `name` of a manifest's `[package]`.
fn package_name(manifest: &Path) -> Result<String> {
    let text =
        fs::read_to_string(manifest).with_context(|| format!("reading {}", manifest.display()))?;
    let mut in_package = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if let Some(value) = line.strip_prefix("name").map(str::trim_start)
            && in_package
            && let Some(value) = value.strip_prefix('=')
        {
            return Ok(value.trim().trim_matches('"').to_string());
        }
    }
    bail!("{} has no [package] name", manifest.display())
}

fn build_rust(
    workspace_root: &Path,
    tools: &Tools,
    plugins_dir: &Path,
    out_dir: &Path,
) -> Result<Vec<PathBuf>> {
    let plugins = rust_plugins(plugins_dir, out_dir)?;
    let mut inputs = vec![
        workspace_root.join("wit"),
        workspace_root.join("sdk"),
        plugins_dir.join("Cargo.toml"),
        plugins_dir.join("Cargo.lock"),
    ];
    inputs.extend(plugins.iter().map(|p| p.dir.clone()));
    let outputs: Vec<PathBuf> = plugins.iter().map(|p| p.output.clone()).collect();
    if up_to_date(&outputs, &inputs)? {
        println!("up to date  {} Rust plugins", plugins.len());
        return Ok(outputs);
    }

    ensure_target()?;
    let target_dir = workspace_root.join("target/plugins-build");
    let manifest = plugins_dir.join("Cargo.toml");
    run(crate::workspace::cargo()
        .args(["build", "--release", "--target", TARGET, "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target_dir)
        .env_remove("CARGO_TARGET_DIR"))
    .with_context(|| format!("building the Rust plugins of {}", manifest.display()))?;

    for plugin in &plugins {
        let wasm = target_dir
            .join(TARGET)
            .join("release")
            .join(format!("{}.wasm", plugin.package.replace('-', "_")));
        check_component(&wasm)?;
        fs::copy(&wasm, &plugin.output).with_context(|| {
            format!("copying {} to {}", wasm.display(), plugin.output.display())
        })?;
        if plugin.output.ends_with(TABLE_BOMB) {
            add_bomb_tables(tools, &plugin.output)?;
        }
        println!("built       {}", shown(out_dir, &plugin.output));
    }
    Ok(outputs)
}

/// Rewrites `component` with [`BOMB_TABLES`] more tables in its main module, declared right
/// after the module's own table (so that one keeps index 0): every instance allocates them as
/// it starts. `wasm-tools` prints the component as text and parses it back.
fn add_bomb_tables(tools: &Tools, component: &Path) -> Result<()> {
    let wasm_tools = tools.wasm_tools()?;
    let printed = Command::new(&wasm_tools)
        .arg("print")
        .arg(component)
        .output()
        .with_context(|| format!("starting {}", wasm_tools.display()))?;
    ensure!(
        printed.status.success(),
        "wasm-tools print {} failed: {}",
        component.display(),
        String::from_utf8_lossy(&printed.stderr)
    );
    let text = String::from_utf8(printed.stdout).context("wasm-tools print wrote UTF-8")?;
    let own_table = text
        .find("(table (;0;)")
        .with_context(|| format!("{} declares no table", component.display()))?;
    let line_start = text[..own_table].rfind('\n').map_or(0, |i| i + 1);
    let line_end = own_table
        + text[own_table..]
            .find('\n')
            .unwrap_or(text.len() - own_table);
    let indent = &text[line_start..own_table];
    let tables = format!("\n{indent}(table {BOMB_TABLE_ELEMENTS} funcref)").repeat(BOMB_TABLES);
    let source = component.with_extension("wat");
    fs::write(
        &source,
        format!("{}{tables}{}", &text[..line_end], &text[line_end..]),
    )
    .with_context(|| format!("writing {}", source.display()))?;
    run(Command::new(&wasm_tools)
        .arg("parse")
        .arg(&source)
        .arg("-o")
        .arg(component))
    .context("adding the table bomb's tables")?;
    fs::remove_file(&source).with_context(|| format!("removing {}", source.display()))
}

/// Builds plugin `name` of `language` from `plugins/<name>/<source>` on the SDK at `sdk`, unless
/// its component is newer than the plugin, the SDK and the contract: `build(dir, output)` runs
/// in the plugin's folder and writes the component, which must then be one.
fn build_other(
    workspace_root: &Path,
    out_dir: &Path,
    (name, language, source, sdk): (&str, &str, &str, &str),
    build: impl FnOnce(&Path, &Path) -> Result<()>,
) -> Result<PathBuf> {
    let dir = workspace_root.join("plugins").join(name);
    let output = out_dir.join(format!("{name}.wasm"));
    ensure!(
        dir.join(source).is_file(),
        "{} is missing: the plugin's source is `{source}`",
        dir.join(source).display()
    );
    let inputs = [
        dir.clone(),
        workspace_root.join(sdk),
        workspace_root.join("wit"),
    ];
    if up_to_date(std::slice::from_ref(&output), &inputs)? {
        println!("up to date  {name} ({language})");
        return Ok(output);
    }
    build(&dir, &output)
        .with_context(|| format!("building the {language} plugin in {}", dir.display()))?;
    check_component(&output)?;
    println!("built       {name} ({language})");
    Ok(output)
}

fn build_python(
    workspace_root: &Path,
    tools: &Tools,
    name: &str,
    world: &str,
    out_dir: &Path,
) -> Result<PathBuf> {
    let plugin = (name, "Python", "app.py", "sdk/python");
    build_other(workspace_root, out_dir, plugin, |dir, output| {
        run(Command::new(tools.componentize_py()?)
            .arg("-d")
            .arg(workspace_root.join("wit"))
            .args(["-w", world, "componentize", "app", "-p", "."])
            .arg("-p")
            .arg(workspace_root.join("sdk/python"))
            .arg("-o")
            .arg(output)
            .current_dir(dir)
            .env("PYTHONDONTWRITEBYTECODE", "1"))
    })
}

fn build_js(
    workspace_root: &Path,
    tools: &Tools,
    name: &str,
    world: &str,
    out_dir: &Path,
) -> Result<PathBuf> {
    let plugin = (name, "JavaScript", "app.js", "sdk/js");
    build_other(workspace_root, out_dir, plugin, |dir, output| {
        // The SDK is reached through the plugin's `confiture` link into sdk/js, so the module
        // root is the repository (read during the build only).
        run(Command::new(tools.componentize_qjs()?)
            .arg("--wit")
            .arg(workspace_root.join("wit"))
            .args(["-n", world, "--js", "app.js", "--sync", "--module-root"])
            .arg(workspace_root)
            .arg("-o")
            .arg(output)
            .current_dir(dir))
    })
}

fn build_c(
    workspace_root: &Path,
    tools: &Tools,
    name: &str,
    world: &str,
    out_dir: &Path,
) -> Result<PathBuf> {
    let plugin = (name, "C", "plugin.c", "sdk/c");
    crate::c_bindings::check(workspace_root)?;
    build_other(workspace_root, out_dir, plugin, |dir, output| {
        let clang = tools.clang()?;
        let work = workspace_root.join("target/plugins-build/c").join(name);
        let _ = fs::remove_dir_all(&work);
        fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
        let core = work.join("core.wasm");
        run(Command::new(clang)
            .args([
                "--target=wasm32-wasi",
                "-mexec-model=reactor",
                "-O2",
                "-Wall",
                "-Werror",
            ])
            .arg(format!("--sysroot={}", crate::tools::WASI_SYSROOT))
            .arg("-fuse-ld=lld")
            .arg("-I")
            .arg(workspace_root.join(crate::c_bindings::DIR))
            .arg("-I")
            .arg(workspace_root.join("sdk/c"))
            .arg(dir.join("plugin.c"))
            .args(crate::c_bindings::sources(workspace_root, world))
            .arg("-o")
            .arg(&core))?;
        let embedded = work.join("embedded.wasm");
        run(Command::new(tools.wasm_tools()?)
            .args(["component", "embed"])
            .arg(workspace_root.join("wit"))
            .args(["--world", world])
            .arg(&core)
            .arg("-o")
            .arg(&embedded))
        .context("embedding the world's type in the C plugin's core module")?;
        run(Command::new(tools.wasm_tools()?)
            .args(["component", "new"])
            .arg(&embedded)
            .arg("-o")
            .arg(output))
        .context("making a component of the C plugin's core module")
    })
}

/// Adds the `wasm32-wasip2` target through rustup when it is not installed.
fn ensure_target() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("running `rustup target list --installed` (is rustup installed?)")?;
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|line| line.trim() == TARGET)
    {
        return Ok(());
    }
    run(Command::new("rustup").args(["target", "add", TARGET]))
        .with_context(|| format!("installing the Rust target {TARGET}"))
}

/// Fails unless `path` starts like a component (a core module has version `01 00 00 00`).
fn check_component(path: &Path) -> Result<()> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    ensure!(
        bytes.starts_with(&COMPONENT_HEADER),
        "{} is not a WebAssembly component (it starts with {:02x?}); \
         plugins must be built for {TARGET}",
        path.display(),
        &bytes[..bytes.len().min(8)]
    );
    Ok(())
}

/// True when every output exists and is newer than every file under `inputs`.
fn up_to_date(outputs: &[PathBuf], inputs: &[PathBuf]) -> Result<bool> {
    let mut oldest_output = None;
    for output in outputs {
        let Ok(meta) = fs::metadata(output) else {
            return Ok(false);
        };
        let modified = meta.modified()?;
        oldest_output = Some(oldest_output.map_or(modified, |t: SystemTime| t.min(modified)));
    }
    let Some(oldest_output) = oldest_output else {
        return Ok(false);
    };
    for input in inputs {
        if newest(input)?.is_some_and(|t| t > oldest_output) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The newest modification time of `path` or any file below it (`None` if it does not exist).
fn newest(path: &Path) -> Result<Option<SystemTime>> {
    let Ok(meta) = fs::metadata(path) else {
        return Ok(None);
    };
    let mut newest = meta.modified()?;
    if meta.is_dir() {
        for entry in fs::read_dir(path).with_context(|| format!("listing {}", path.display()))? {
            let entry = entry?;
            let name = entry.file_name();
            if name == "target" || name == "__pycache__" {
                continue;
            }
            if let Some(time) = self::newest(&entry.path())? {
                newest = newest.max(time);
            }
        }
    }
    Ok(Some(newest))
}

fn shown(out_dir: &Path, path: &Path) -> String {
    path.strip_prefix(out_dir)
        .unwrap_or(path)
        .with_extension("")
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_package_name_only_from_the_package_table() {
        let dir = std::env::temp_dir().join(format!("xtask-plugins-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let manifest = dir.join("Cargo.toml");
        fs::write(
            &manifest,
            "[lib]\nname = \"not_this\"\n\n[package]\nversion = \"1\"\nname = \"email-strategy\"\n",
        )
        .unwrap();
        assert_eq!(package_name(&manifest).unwrap(), "email-strategy");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_compile_bomb_is_a_component_with_one_function() {
        let bomb = compile_bomb();
        assert!(bomb.starts_with(&COMPONENT_HEADER));
        assert!((300_000..500_000).contains(&bomb.len()), "{}", bomb.len());
        assert_eq!(bomb, compile_bomb(), "the same bytes on every build");
        // The component's one section is a core module, whose length it states.
        assert_eq!(bomb[8], 1);
        assert!(bomb[9..].windows(8).any(|w| w == b"\0asm\x01\0\0\0"));
    }

    #[test]
    fn the_core_module_is_not_a_component() {
        assert!(CORE_MODULE.starts_with(b"\0asm\x01\0\0\0"));
        let dir = std::env::temp_dir().join(format!("xtask-core-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("core.wasm");
        fs::write(&file, CORE_MODULE).unwrap();
        let error = check_component(&file).unwrap_err().to_string();
        assert!(error.contains("is not a WebAssembly component"), "{error}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
