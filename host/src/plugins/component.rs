//! What a `.wasm` file is: header checks before compiling, then the component's imports and
//! exports, the contract version it was built against, and the plugin kinds it provides.

use std::path::Path;

use serde::Serialize;
use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::types::Type;

use crate::error::Failure;

/// The WIT package of the contract.
pub const CONTRACT_PACKAGE: &str = "confiture:plugin";
/// The current contract version: what `wit/` defines and the SDKs build against. Older
/// versions the host still loads are listed in [`super::versions::SUPPORTED_VERSIONS`].
pub const CONTRACT_VERSION: &str = "0.2.0";

/// A plugin kind, read from the component's exports: the one kind type of the runtime, its
/// output and the command line (`plugins new --kind`, parsed in `cli::values`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Exports `hooks`.
    Hook,
    /// Exports `strategy`.
    Strategy,
    /// Exports `lint`.
    Lint,
}

impl Kind {
    /// Every kind, in the order the contract lists them.
    pub const ALL: [Kind; 3] = [Kind::Hook, Kind::Strategy, Kind::Lint];

    /// `hook`, `strategy` or `lint`: the name in output and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Hook => "hook",
            Kind::Strategy => "strategy",
            Kind::Lint => "lint",
        }
    }

    /// The contract interface a kind exports.
    pub fn interface(self) -> &'static str {
        match self {
            Kind::Hook => "hooks",
            Kind::Strategy => "strategy",
            Kind::Lint => "lint",
        }
    }

    /// The contract world that provides this kind alone.
    pub fn world(self) -> &'static str {
        match self {
            Kind::Hook => "hook-plugin",
            Kind::Strategy => "strategy-plugin",
            Kind::Lint => "lint-plugin",
        }
    }

    /// Default time limit per call, in milliseconds.
    pub fn default_timeout_ms(self) -> u64 {
        match self {
            Kind::Hook => 5_000,
            Kind::Strategy => 30_000,
            Kind::Lint => 10_000,
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One import or export: its name and, for an instance, its functions as WIT-like signatures.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    /// E.g. `confiture:plugin/strategy@0.1.0` or `wasi:cli/environment@0.2.6`.
    pub name: String,
    /// `name: func(...) -> ...` for each function of an instance (empty otherwise).
    pub functions: Vec<String>,
}

/// A component's interface, as far as the host cares.
#[derive(Debug, Clone, Serialize)]
pub struct Shape {
    /// Everything it imports.
    pub imports: Vec<Item>,
    /// Everything it exports.
    pub exports: Vec<Item>,
    /// Kinds it provides (exported `hooks`, `strategy`, `lint` of this contract version).
    pub kinds: Vec<Kind>,
    /// The world it matches: `hook-plugin`, `strategy-plugin`, `lint-plugin`, `full-plugin`,
    /// or `custom` for any other combination.
    pub world: String,
    /// The contract version it was built against (one of the supported versions).
    pub contract: String,
}

/// Refuses anything that is not a component before compiling it, with what to do.
pub fn check_header(file: &str, bytes: &[u8]) -> Result<(), Failure> {
    if Engine::detect_precompiled(bytes).is_some() {
        return Err(Failure::config(format!(
            "{file} is a precompiled wasmtime artifact, not a component"
        ))
        .hint(
            "put the `.wasm` component in plugins/; Confiture runs precompiled code only from \
             its own cache",
        ));
    }
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(
            Failure::config(format!("{file} is not WebAssembly (no `\\0asm` header)"))
                .hint("rebuild the plugin, or remove the file from the plugins directory"),
        );
    }
    match bytes[4..8] {
        [1, 0, 0, 0] => Err(Failure::config(format!(
            "{file} is a core WebAssembly module, not a component"
        ))
        .hint(
            "build it for `wasm32-wasip2` (cargo build --target wasm32-wasip2), or wrap it with \
             `wasm-tools component new`",
        )),
        [_, _, 1, 0] => Ok(()),
        _ => Err(
            Failure::config(format!("{file} has an unknown WebAssembly binary version")).hint(
                "rebuild the plugin with a current toolchain (wit-bindgen 0.61, wasm32-wasip2)",
            ),
        ),
    }
}

/// The component's imports, exports and kinds; an error when it targets a contract version
/// this host does not speak, or several versions at once, or exports none of the contract's
/// interfaces.
pub fn shape(engine: &Engine, component: &Component, file: &str) -> Result<Shape, Failure> {
    let (imports, exports) = interface(engine, component);
    let mut ours = Vec::new();
    let mut contract: Option<&str> = None;
    for item in &exports {
        let Some((interface, version)) = contract_name(&item.name) else {
            continue;
        };
        let Some(supported) = supported_version(version) else {
            return Err(unsupported(file, version));
        };
        match contract {
            Some(other) if other != supported => {
                return Err(Failure::config(format!(
                    "{file} exports interfaces of both {CONTRACT_PACKAGE}@{other} and \
                     {CONTRACT_PACKAGE}@{version}"
                ))
                .hint("build every export of a plugin against one version of the contract"));
            }
            _ => contract = Some(supported),
        }
        ours.push(interface.to_string());
    }
    if !ours.iter().any(|i| i == "metadata") {
        return Err(Failure::config(format!(
            "{file} does not export {CONTRACT_PACKAGE}/metadata@{CONTRACT_VERSION}, so it is not \
             a Confiture plugin"
        ))
        .hint(
            "build it against one of the worlds in wit/worlds.wit (hook-plugin, strategy-plugin, \
             lint-plugin, full-plugin), or remove it from the plugins directory",
        ));
    }
    let kinds: Vec<Kind> = Kind::ALL
        .into_iter()
        .filter(|k| ours.iter().any(|i| i == k.interface()))
        .collect();
    if kinds.is_empty() {
        return Err(Failure::config(format!(
            "{file} exports metadata but none of hooks, strategy or lint"
        ))
        .hint("export at least one kind; see wit/worlds.wit"));
    }
    let world = match kinds.as_slice() {
        [kind] => kind.world(),
        all if all == Kind::ALL => "full-plugin",
        _ => "custom",
    }
    .to_string();
    Ok(Shape {
        imports,
        exports,
        kinds,
        world,
        contract: contract.unwrap_or(CONTRACT_VERSION).to_string(),
    })
}

/// The supported version a component's `version` is served as, if any.
fn supported_version(version: &str) -> Option<&'static str> {
    super::versions::SUPPORTED_VERSIONS
        .iter()
        .copied()
        .find(|supported| compatible(version, supported))
}

fn unsupported(file: &str, version: &str) -> Failure {
    let supported = super::versions::SUPPORTED_VERSIONS.join(", ");
    Failure::config(format!(
        "{file} was built against {CONTRACT_PACKAGE}@{version}, and this Confiture speaks \
         {CONTRACT_PACKAGE}@{{{supported}}}"
    ))
    .hint(format!(
        "rebuild the plugin against the WIT of {CONTRACT_PACKAGE}@{CONTRACT_VERSION} \
         (`confiture plugins new` writes it), or use a Confiture release for {version}"
    ))
}

/// Every import and export of a component, whatever it is built against.
pub fn interface(engine: &Engine, component: &Component) -> (Vec<Item>, Vec<Item>) {
    let ty = component.component_type();
    let imports = ty
        .imports(engine)
        .map(|(name, item)| describe_item(engine, name, &item.ty))
        .collect();
    let exports = ty
        .exports(engine)
        .map(|(name, item)| describe_item(engine, name, &item.ty))
        .collect();
    (imports, exports)
}

/// `confiture:plugin/<interface>@<version>` split into interface and version.
fn contract_name(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix(CONTRACT_PACKAGE)?.strip_prefix('/')?;
    rest.split_once('@')
}

/// Semver compatibility as the component model sees it: same major, and for `0.x` same minor.
pub fn compatible(version: &str, ours: &str) -> bool {
    let parts = |v: &str| -> Option<(u64, u64)> {
        let mut it = v.split(['.', '-', '+']);
        Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
    };
    match (parts(version), parts(ours)) {
        (Some((0, a)), Some((0, b))) => a == b,
        (Some((a, _)), Some((b, _))) => a == b,
        _ => false,
    }
}

fn describe_item(engine: &Engine, name: &str, item: &ComponentItem) -> Item {
    let functions = match item {
        ComponentItem::ComponentInstance(instance) => instance
            .exports(engine)
            .filter_map(|(fname, item)| match item.ty {
                ComponentItem::ComponentFunc(func) => Some(signature(fname, &func)),
                _ => None,
            })
            .collect(),
        ComponentItem::ComponentFunc(func) => vec![signature(name, func)],
        _ => Vec::new(),
    };
    Item {
        name: name.to_string(),
        functions,
    }
}

fn signature(name: &str, func: &wasmtime::component::types::ComponentFunc) -> String {
    let params: Vec<String> = func
        .params()
        .map(|(p, ty)| format!("{p}: {}", type_name(&ty, 1)))
        .collect();
    let results: Vec<String> = func.results().map(|ty| type_name(&ty, 1)).collect();
    let arrow = if results.is_empty() {
        String::new()
    } else {
        format!(" -> {}", results.join(", "))
    };
    format!("{name}: func({}){arrow}", params.join(", "))
}

/// A WIT-like spelling of a type; records, variants and enums show their fields or cases
/// down to `depth` levels.
fn type_name(ty: &Type, depth: usize) -> String {
    let inner = |t: &Type| type_name(t, depth);
    match ty {
        Type::Bool => "bool".into(),
        Type::S8 => "s8".into(),
        Type::U8 => "u8".into(),
        Type::S16 => "s16".into(),
        Type::U16 => "u16".into(),
        Type::S32 => "s32".into(),
        Type::U32 => "u32".into(),
        Type::S64 => "s64".into(),
        Type::U64 => "u64".into(),
        Type::Float32 => "f32".into(),
        Type::Float64 => "f64".into(),
        Type::Char => "char".into(),
        Type::String => "string".into(),
        Type::List(list) => format!("list<{}>", inner(&list.ty())),
        Type::Option(option) => format!("option<{}>", inner(&option.ty())),
        Type::Result(result) => format!(
            "result<{}, {}>",
            result.ok().map_or("_".into(), |t| inner(&t)),
            result.err().map_or("_".into(), |t| inner(&t))
        ),
        Type::Tuple(tuple) => format!(
            "tuple<{}>",
            tuple
                .types()
                .map(|t| inner(&t))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Type::Record(record) if depth > 0 => format!(
            "record {{ {} }}",
            record
                .fields()
                .map(|f| format!("{}: {}", f.name, type_name(&f.ty, depth - 1)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Type::Enum(e) => format!("enum {{ {} }}", e.names().collect::<Vec<_>>().join(", ")),
        Type::Record(_) => "record".into(),
        Type::Variant(_) => "variant".into(),
        Type::Flags(_) => "flags".into(),
        Type::Own(_) | Type::Borrow(_) => "resource".into(),
        _ => "…".into(),
    }
}

/// `path` as shown in messages: relative to `root` when inside it.
pub fn shown(root: Option<&Path>, path: &Path) -> String {
    match root {
        Some(root) => crate::strings::display_relative(root, path),
        None => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `.wit` files of `dir` and the package line each declares.
    fn packages(dir: &std::path::Path) -> Vec<(std::path::PathBuf, String)> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "wit") {
                let text = std::fs::read_to_string(&path).unwrap();
                let line = text
                    .lines()
                    .find(|l| l.starts_with("package "))
                    .unwrap_or_default()
                    .to_string();
                found.push((path, line));
            }
        }
        found
    }

    /// The WIT package, the host's contract version and the crates' version move together
    /// (docs/reference/publishing.md): every `wit/*.wit` declares `CONTRACT_VERSION`, whose
    /// major.minor is the workspace's; every older supported version is kept, frozen, in
    /// `wit/v<version>/`, and every such directory is a supported version.
    #[test]
    fn contract_versions_match_the_wit_directories_and_the_crates() {
        let wit = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
        let declares = |dir: &std::path::Path, version: &str| {
            let files = packages(dir);
            assert!(
                files.len() >= 8,
                "found {} .wit files in {}",
                files.len(),
                dir.display()
            );
            for (path, line) in files {
                assert_eq!(
                    line,
                    format!("package {CONTRACT_PACKAGE}@{version};"),
                    "{}",
                    path.display()
                );
            }
        };
        declares(&wit, CONTRACT_VERSION);
        let mut frozen: Vec<String> = std::fs::read_dir(&wit)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().to_str()?.strip_prefix('v').map(String::from))
            .collect();
        frozen.sort();
        let mut older: Vec<String> = super::super::versions::SUPPORTED_VERSIONS
            .iter()
            .filter(|v| **v != CONTRACT_VERSION)
            .map(|v| v.to_string())
            .collect();
        older.sort();
        assert_eq!(
            frozen, older,
            "wit/v*/ directories against SUPPORTED_VERSIONS"
        );
        for version in &frozen {
            declares(&wit.join(format!("v{version}")), version);
        }
        let minor = |v: &str| v.rsplit_once('.').map(|(head, _)| head.to_string());
        assert_eq!(minor(CONTRACT_VERSION), minor(env!("CARGO_PKG_VERSION")));
    }

    #[test]
    fn header_checks_name_the_file_and_the_fix() {
        let core = b"\0asm\x01\0\0\0rest";
        let f = check_header("plugins/core.wasm", core).unwrap_err();
        assert!(
            f.message
                .contains("plugins/core.wasm is a core WebAssembly module")
        );
        assert!(f.hint.unwrap().contains("wasm32-wasip2"));
        let f = check_header("plugins/junk.wasm", b"PK\x03\x04zipzipzip").unwrap_err();
        assert!(f.message.contains("is not WebAssembly"), "{}", f.message);
        let f = check_header("plugins/empty.wasm", b"").unwrap_err();
        assert!(f.message.contains("is not WebAssembly"), "{}", f.message);
        assert!(check_header("x", b"\0asm\x0d\0\x01\0").is_ok());
    }

    #[test]
    fn contract_versions() {
        assert!(compatible("0.1.0", "0.1.0"));
        assert_eq!(supported_version("0.1.3"), Some("0.1.0"));
        assert_eq!(supported_version("0.2.0"), Some(CONTRACT_VERSION));
        assert_eq!(supported_version("0.3.0"), None);
        assert_eq!(supported_version("1.0.0"), None);
        assert!(compatible("0.1.7", "0.1.0"));
        assert!(!compatible("0.2.0", "0.1.0"));
        assert!(!compatible("1.0.0", "0.1.0"));
        assert!(compatible("1.4.0", "1.0.0"));
        assert!(!compatible("garbage", "0.1.0"));
        assert_eq!(
            contract_name("confiture:plugin/strategy@0.2.0"),
            Some(("strategy", "0.2.0"))
        );
        assert_eq!(contract_name("wasi:cli/run@0.2.0"), None);
    }
}
