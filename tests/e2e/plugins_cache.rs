//! The compiled-artifact cache under attack (issue #14): native code substituted under another
//! plugin's key, forged without the key, symlinked, or in a directory others can write. Each
//! time the genuine plugin is what runs (its own name comes out of its own `describe`), the
//! run says why the cache was not used, naming the plugin, and nothing untrusted is loaded.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::plugins_support::{STRATEGY_PLUGIN, component, hostile};

/// A project whose `ext/` holds the genuine plugin (`email.wasm`) and a hostile one.
fn project() -> tempfile::TempDir {
    let project = tempfile::tempdir().unwrap();
    let root = project.path();
    std::fs::create_dir_all(root.join("db/environments")).unwrap();
    std::fs::create_dir_all(root.join("ext")).unwrap();
    std::fs::copy(component(STRATEGY_PLUGIN), root.join("ext/email.wasm")).unwrap();
    std::fs::copy(hostile("panics"), root.join("ext/panics.wasm")).unwrap();
    std::fs::write(
        root.join("db/environments/local.yaml"),
        "plugins_dir: ext\n",
    )
    .unwrap();
    project
}

struct Listing {
    /// `(file, plugin name, cache status)` per plugin loaded.
    plugins: Vec<(String, String, String)>,
    stderr: String,
}

impl Listing {
    fn of(&self, file: &str) -> (&str, &str) {
        let row = self
            .plugins
            .iter()
            .find(|p| p.0 == file)
            .unwrap_or_else(|| panic!("{file} not listed: {:?}", self.plugins));
        (&row.1, &row.2)
    }
}

/// `confiture plugins list --format json` with the cache in `cache` and its key in `key`.
fn list(root: &Path, cache: &Path, key: &Path) -> Listing {
    let out = Command::new(env!("CARGO_BIN_EXE_confiture"))
        .args(["plugins", "list", "--format", "json"])
        .current_dir(root)
        .env("CONFITURE_CACHE_DIR", cache)
        .env("CONFITURE_CACHE_KEY_FILE", key)
        .env("NO_COLOR", "1")
        .env_remove("CONFITURE_ENV")
        .stdin(Stdio::null())
        .output()
        .expect("run confiture");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    let plugins = json["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let field = |k: &str| p[k].as_str().unwrap().to_string();
            (field("file"), field("name"), field("cache"))
        })
        .collect();
    Listing { plugins, stderr }
}

/// The `.cwasm` files in `dir`, by the plugin file whose component they were compiled from.
fn artifact_of(dir: &Path, component: &Path) -> PathBuf {
    let sha = confiture::plugins::cache::sha256_hex(&std::fs::read(component).unwrap());
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with(&sha) && name.ends_with(".cwasm")
        })
        .unwrap_or_else(|| {
            panic!(
                "no artifact of {} in {}",
                component.display(),
                dir.display()
            )
        })
}

fn substitute(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
    std::fs::copy(from.with_extension("mac"), to.with_extension("mac")).unwrap();
}

#[test]
fn substituted_forged_or_exposed_cache_entries_never_run() {
    let project = project();
    let root = project.path();
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("cache");
    let key = home.path().join("state/confiture/plugin-cache.key");
    let plugins = cache.join("plugins");
    let email = root.join("ext/email.wasm");
    let panics = root.join("ext/panics.wasm");

    let first = list(root, &cache, &key);
    assert_eq!(first.of("ext/email.wasm"), (STRATEGY_PLUGIN, "miss"));
    assert_eq!(first.of("ext/panics.wasm"), ("hostile-panics", "miss"));
    let key_mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(key_mode & 0o777, 0o600, "the key is its owner's only");
    assert_eq!(list(root, &cache, &key).of("ext/email.wasm").1, "hit");

    // 1. The hostile plugin's artifact and MAC copied under the genuine plugin's key: the MAC
    //    covers the component's hash, so it fails; the genuine code is compiled and runs.
    let genuine = artifact_of(&plugins, &email);
    let genuine_bytes = std::fs::read(&genuine).unwrap();
    substitute(&artifact_of(&plugins, &panics), &genuine);
    let swapped = list(root, &cache, &key);
    assert_eq!(swapped.of("ext/email.wasm"), (STRATEGY_PLUGIN, "replaced"));
    assert!(
        swapped.stderr.contains(
            "warning: plugin email-strategy (ext/email.wasm): its cached compiled code failed \
             authentication (its MAC does not match); it was recompiled and the cache entry \
             replaced"
        ),
        "{}",
        swapped.stderr
    );
    assert_eq!(std::fs::read(&genuine).unwrap(), genuine_bytes);
    assert_eq!(list(root, &cache, &key).of("ext/email.wasm").1, "hit");

    // 2. Forged with another key (another machine's cache, restored by CI): refused.
    let other_key = home.path().join("other-state/plugin-cache.key");
    std::fs::create_dir(other_key.parent().unwrap()).unwrap();
    std::fs::set_permissions(
        other_key.parent().unwrap(),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    std::fs::write(&other_key, [7u8; 32]).unwrap();
    std::fs::set_permissions(&other_key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let forged = list(root, &cache, &other_key);
    assert_eq!(forged.of("ext/email.wasm"), (STRATEGY_PLUGIN, "replaced"));
    assert_eq!(forged.of("ext/panics.wasm"), ("hostile-panics", "replaced"));

    // 3. The artifact a symlink to the hostile one (with its MAC): never followed.
    std::fs::remove_file(&genuine).unwrap();
    symlink(artifact_of(&plugins, &panics), &genuine).unwrap();
    let linked = list(root, &cache, &other_key);
    assert_eq!(linked.of("ext/email.wasm"), (STRATEGY_PLUGIN, "replaced"));
    assert!(linked.stderr.contains("is a symlink"), "{}", linked.stderr);
    assert!(!std::fs::symlink_metadata(&genuine).unwrap().is_symlink());

    // 4. The cache directory a symlink to that cache: not used at all, nothing written.
    let linked_cache = home.path().join("linked");
    std::fs::create_dir_all(&linked_cache).unwrap();
    symlink(&plugins, linked_cache.join("plugins")).unwrap();
    let before = std::fs::read_dir(&plugins).unwrap().count();
    let via_link = list(root, &linked_cache, &other_key);
    assert_eq!(via_link.of("ext/email.wasm"), (STRATEGY_PLUGIN, "off"));
    assert!(
        via_link.stderr.contains(&format!(
            "warning: plugin email-strategy (ext/email.wasm): the compiled-artifact cache is \
             not used ({} is a symlink); it was compiled instead",
            linked_cache.join("plugins").display()
        )),
        "{}",
        via_link.stderr
    );
    assert_eq!(std::fs::read_dir(&plugins).unwrap().count(), before);

    // 5. A parent directory others can write (they could swap the whole cache): not used.
    let shared = home.path().join("shared");
    std::fs::create_dir_all(shared.join("cache/plugins")).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let exposed = list(root, &shared.join("cache"), &key);
    assert_eq!(exposed.of("ext/email.wasm"), (STRATEGY_PLUGIN, "off"));
    assert!(
        exposed.stderr.contains(&format!(
            "{} can be written by other users (mode 777)",
            shared.display()
        )),
        "{}",
        exposed.stderr
    );
    assert_eq!(
        std::fs::read_dir(shared.join("cache/plugins"))
            .unwrap()
            .count(),
        0
    );

    // 6. A key others can read: refused, the cache is not used.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let readable = list(root, &cache, &key);
    assert_eq!(readable.of("ext/email.wasm"), (STRATEGY_PLUGIN, "off"));
    assert!(
        readable
            .stderr
            .contains("can be read or written by other users (mode 644)"),
        "{}",
        readable.stderr
    );
}
