//! Encodes the component type of every combination of plugin kinds.
//!
//! `wit_bindgen::generate!` (in `src/bindings.rs`) gives the SDK the types, the host imports and
//! one export macro per interface of the `full-plugin` world. What tells `wit-component` which
//! interfaces a plugin exports is a `component-type` custom section in the plugin's own crate;
//! `export_plugin!` places one there, taken from the constants this script writes: one world per
//! non-empty set of kinds — the contract's `hook-plugin`, `strategy-plugin`, `lint-plugin` and
//! `full-plugin` as they are, plus the three pairs derived from `full-plugin` (exporting
//! `metadata` and the chosen kinds, importing `database` only when hooks are among them).

use std::{env, fmt::Write as _, fs, path::PathBuf};

use anyhow::{Context, Result, bail};
use wit_component::StringEncoding;
use wit_parser::{Resolve, World, WorldItem, WorldKey};

/// (constant name, world name, interfaces exported besides `metadata`).
const COMBINATIONS: &[(&str, &str, &[&str])] = &[
    ("HOOK", "hook-plugin", &["hooks"]),
    ("STRATEGY", "strategy-plugin", &["strategy"]),
    ("LINT", "lint-plugin", &["lint"]),
    (
        "HOOK_STRATEGY",
        "hook-strategy-plugin",
        &["hooks", "strategy"],
    ),
    ("HOOK_LINT", "hook-lint-plugin", &["hooks", "lint"]),
    (
        "STRATEGY_LINT",
        "strategy-lint-plugin",
        &["strategy", "lint"],
    ),
    ("FULL", "full-plugin", &["hooks", "strategy", "lint"]),
];

fn main() -> Result<()> {
    let wit_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("wit");
    println!("cargo:rerun-if-changed={}", wit_dir.display());
    let mut resolve = Resolve::default();
    let (package, sources) = resolve
        .push_dir(&wit_dir)
        .with_context(|| format!("parsing the WIT contract in {}", wit_dir.display()))?;
    for path in sources.paths() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    let full = resolve.select_world(&[package], Some("full-plugin"))?;

    let mut out = String::new();
    for (constant, world_name, kinds) in COMBINATIONS {
        // The contract's own worlds are used as they are; the pairs are derived from full-plugin.
        let world = match resolve.packages[package].worlds.get(*world_name) {
            Some(world) => *world,
            None => combination(&mut resolve, full, world_name, kinds)?,
        };
        let bytes = wit_component::metadata::encode(&resolve, world, StringEncoding::UTF8, None)
            .with_context(|| format!("encoding world {world_name}"))?;
        writeln!(
            out,
            "/// Component type of the `{world_name}` world.\n\
             pub const {constant}: [u8; {len}] = {bytes:?};",
            len = bytes.len()
        )?;
    }
    let path = PathBuf::from(env::var("OUT_DIR")?).join("worlds.rs");
    fs::write(&path, out).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// A copy of `full-plugin` exporting `metadata` and `kinds` only (and importing `database` only
/// with hooks).
fn combination(
    resolve: &mut Resolve,
    full: wit_parser::WorldId,
    name: &str,
    kinds: &[&str],
) -> Result<wit_parser::WorldId> {
    let interface_name = |resolve: &Resolve, key: &WorldKey| match key {
        WorldKey::Interface(id) => resolve.interfaces[*id].name.clone(),
        WorldKey::Name(name) => Some(name.clone()),
    };
    let template = resolve.worlds[full].clone();
    let keep_export = |key: &WorldKey| {
        interface_name(resolve, key)
            .is_some_and(|name| name == "metadata" || kinds.contains(&name.as_str()))
    };
    let exports: Vec<(WorldKey, WorldItem)> = template
        .exports
        .iter()
        .filter(|(key, _)| keep_export(key))
        .map(|(key, item)| (key.clone(), item.clone()))
        .collect();
    if exports.len() != kinds.len() + 1 {
        bail!("the full-plugin world lacks one of metadata, {kinds:?}");
    }
    let with_hooks = kinds.contains(&"hooks");
    let imports = template
        .imports
        .iter()
        .filter(|(key, _)| {
            with_hooks || interface_name(resolve, key).as_deref() != Some("database")
        })
        .map(|(key, item)| (key.clone(), item.clone()))
        .collect();
    Ok(resolve.worlds.alloc(World {
        name: name.to_string(),
        imports,
        exports: exports.into_iter().collect(),
        ..template
    }))
}
