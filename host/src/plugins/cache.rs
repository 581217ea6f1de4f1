//! The compiled-artifact cache: `<cache dir>/<sha256 of component>-<engine hash>.cwasm`.
//!
//! A `.cwasm` is native code that wasmtime maps and runs without checks, and CI systems restore
//! cache directories from storage other jobs can write, so an artifact is loaded only when it is
//! **authenticated**: beside it, a `.mac` file holds HMAC-SHA-256 under a key kept outside the
//! cache ([`CacheKey`]) over the component's SHA-256, the engine's fingerprint and the artifact.
//! An artifact copied from another plugin, another engine, another machine's cache or written
//! by anyone without the key fails, and is recompiled and replaced (the caller warns, naming the
//! plugin); it never runs.
//!
//! Every file is opened without following symlinks (`O_NOFOLLOW`), and the cache directory, the
//! key and every directory above each of them must belong to the current user or root and be
//! writable by no one else (a root-owned sticky directory such as `/tmp` excepted: others
//! cannot replace what is ours in it). A cache that fails those checks is not used at all.
//! Files are written to a temporary name and renamed, so readers never see half a file, and the
//! verified bytes themselves go to `Component::deserialize`, so nothing can change between the
//! check and the load.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, bail, ensure};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use super::compile::Compiled;

/// First line of every `.mac` file.
const MAC_MAGIC: &str = "confiture-cwasm-mac v2";
/// Domain label of the artifact MAC (no other use of the cache key).
const MAC_LABEL: &[u8] = b"confiture.plugin-cache.artifact\0";
/// Length of the cache key, in bytes.
const KEY_LEN: usize = 32;

/// Whether a load used the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheStatus {
    /// An authenticated artifact was loaded; nothing was compiled.
    Hit,
    /// The component was compiled and the artifact written.
    Miss,
    /// An artifact was there but failed authentication; it was recompiled and replaced.
    Replaced,
    /// The cache is off (`--no-plugin-cache`, no cache directory, or a cache that is not
    /// private to the current user).
    Off,
}

/// What the cache holds for a component.
pub(crate) enum Lookup {
    /// An authenticated artifact, loaded.
    Hit(Component),
    /// Nothing.
    Missing,
    /// An artifact that failed authentication, and why (it will be replaced).
    Bad(String),
    /// The cache cannot be trusted, and why: it is neither read nor written.
    Untrusted(String),
}

/// The cache directory and the file of the key that authenticates its artifacts.
#[derive(Debug, Clone)]
pub struct ArtifactCache {
    dir: PathBuf,
    key_file: PathBuf,
}

/// A component's SHA-256, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Feeds `Hash` output into SHA-256, for a hash that is stable across processes.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

impl ArtifactCache {
    /// A cache in `dir` whose artifacts are authenticated with the key in `key_file` (both
    /// created on first use).
    pub fn new(dir: PathBuf, key_file: PathBuf) -> Self {
        ArtifactCache { dir, key_file }
    }

    /// The cache of the process environment ([`Self::default_dir`], [`Self::default_key_file`]);
    /// `None` when either has no home.
    pub fn from_env() -> Option<Self> {
        Some(ArtifactCache::new(
            Self::default_dir()?,
            Self::default_key_file()?,
        ))
    }

    /// `$CONFITURE_CACHE_DIR/plugins`, else `$XDG_CACHE_HOME/confiture/plugins`, else
    /// `~/.cache/confiture/plugins`; `None` when none of them is set.
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(dir) = env_path("CONFITURE_CACHE_DIR") {
            return Some(dir.join("plugins"));
        }
        let base = env_path("XDG_CACHE_HOME").or_else(|| Some(env_path("HOME")?.join(".cache")))?;
        Some(base.join("confiture").join("plugins"))
    }

    /// `$CONFITURE_CACHE_KEY_FILE`, else `$XDG_STATE_HOME/confiture/plugin-cache.key`, else
    /// `~/.local/state/confiture/plugin-cache.key`: in the user's state, never in the cache
    /// (which CI restores from shared storage).
    pub fn default_key_file() -> Option<PathBuf> {
        if let Some(file) = env_path("CONFITURE_CACHE_KEY_FILE") {
            return Some(file);
        }
        let base = env_path("XDG_STATE_HOME")
            .or_else(|| Some(env_path("HOME")?.join(".local").join("state")))?;
        Some(base.join("confiture").join("plugin-cache.key"))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key file.
    pub fn key_file(&self) -> &Path {
        &self.key_file
    }

    /// Where the artifact of `component` (raw bytes) compiled by `engine` lives.
    pub fn artifact_path(&self, engine: &Engine, component: &[u8]) -> PathBuf {
        self.dir.join(format!(
            "{}-{}.cwasm",
            sha256_hex(component),
            engine_fingerprint(engine)
        ))
    }

    /// The component's authenticated artifact, if the cache holds one.
    pub(crate) fn lookup(&self, engine: &Engine, bytes: &[u8]) -> Lookup {
        let key = match self.trusted_key(false) {
            Ok(Some(key)) => key,
            // No key yet: nothing in the cache can be authentic, and there is nothing to load.
            Ok(None) => return Lookup::Missing,
            Err(e) => return Lookup::Untrusted(format!("{e:#}")),
        };
        let path = self.artifact_path(engine, bytes);
        let artifact = match read_private(&path) {
            Ok(Some(artifact)) => artifact,
            Ok(None) => return Lookup::Missing,
            Err(e) => return Lookup::Bad(format!("{e:#}")),
        };
        let expected = mac_text(&key, engine, bytes, &artifact);
        match read_private(&mac_path(&path)) {
            Ok(Some(mac)) if mac == expected.as_bytes() => {}
            Ok(Some(_)) => return Lookup::Bad("its MAC does not match".into()),
            Ok(None) => return Lookup::Bad("it has no MAC".into()),
            Err(e) => return Lookup::Bad(format!("{e:#}")),
        }
        if Engine::detect_precompiled(&artifact).is_none() {
            return Lookup::Bad("it is not a wasmtime artifact".into());
        }
        // SAFETY: the bytes are authenticated with a key only the current user can read, over
        // this component's hash and this engine's fingerprint: this host compiled them for
        // this component. wasmtime additionally checks the engine configuration in the header.
        match unsafe { Component::deserialize(engine, &artifact) } {
            Ok(component) => Lookup::Hit(component),
            Err(e) => Lookup::Bad(format!("wasmtime refused it: {e}")),
        }
    }

    /// Writes the artifact of the component in `bytes`, then its MAC, each through a
    /// temporary file and a rename.
    pub(crate) fn store(
        &self,
        engine: &Engine,
        bytes: &[u8],
        compiled: &Compiled,
    ) -> anyhow::Result<()> {
        let key = self.trusted_key(true)?.context("no cache key")?;
        let path = self.artifact_path(engine, bytes);
        let artifact = match &compiled.artifact {
            Some(artifact) => artifact.clone(),
            None => compiled
                .component
                .serialize()
                .map_err(anyhow::Error::from)?,
        };
        write_atomic(&path, &artifact)?;
        write_atomic(
            &mac_path(&path),
            mac_text(&key, engine, bytes, &artifact).as_bytes(),
        )
    }

    /// Checks the cache directory, the key and every directory above them (creating the
    /// directories, and the key when `create`), and returns the key (`None`: no key yet).
    fn trusted_key(&self, create: bool) -> anyhow::Result<Option<[u8; KEY_LEN]>> {
        let key_dir = self
            .key_file
            .parent()
            .context("the key file has no directory")?;
        for dir in [&self.dir, &key_dir.to_path_buf()] {
            if create || dir.exists() {
                private_dir(dir)?;
            }
        }
        if !self.dir.exists() {
            return Ok(None);
        }
        match read_private(&self.key_file)? {
            Some(key) => {
                let key: [u8; KEY_LEN] = key.try_into().map_err(|_| {
                    anyhow::anyhow!("{} is not a cache key", self.key_file.display())
                })?;
                Ok(Some(key))
            }
            None if create => create_key(&self.key_file).map(Some),
            None => Ok(None),
        }
    }
}

/// A stable fingerprint of the engine's compilation settings (and wasmtime version).
fn engine_fingerprint(engine: &Engine) -> String {
    let mut hasher = ShaHasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hex(&hasher.0.finalize()[..8])
}

fn mac_path(path: &Path) -> PathBuf {
    path.with_extension("mac")
}

/// The `.mac` file of `artifact`: HMAC-SHA-256 under `key` over the label, the component's
/// SHA-256, the engine fingerprint and the artifact.
fn mac_text(key: &[u8; KEY_LEN], engine: &Engine, component: &[u8], artifact: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(MAC_LABEL);
    mac.update(&Sha256::digest(component));
    mac.update(engine_fingerprint(engine).as_bytes());
    mac.update(&(artifact.len() as u64).to_be_bytes());
    mac.update(artifact);
    format!(
        "{MAC_MAGIC}\nhmac-sha256 {}\n",
        hex(&mac.finalize().into_bytes())
    )
}

/// Creates `dir` (mode 0700) if needed, then refuses it unless it is a real directory (not a
/// symlink) of the current user that no one else can write, under directories that pass
/// [`trusted_ancestor`] — both along the path as written and along its resolved form.
fn private_dir(dir: &Path) -> anyhow::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let meta = fs::symlink_metadata(dir)?;
    ensure!(
        !meta.file_type().is_symlink(),
        "{} is a symlink",
        dir.display()
    );
    ensure!(
        meta.is_dir() && meta.uid() == my_uid() && meta.mode() & 0o022 == 0,
        "{} is not a private directory of the current user",
        dir.display()
    );
    let absolute = std::path::absolute(dir)?;
    let resolved = fs::canonicalize(dir)?;
    for path in [&absolute, &resolved] {
        for ancestor in path.ancestors().skip(1) {
            trusted_ancestor(ancestor)?;
        }
    }
    Ok(())
}

/// A directory above the cache or the key (or a symlink on the way to one): owned by the
/// current user or root, and writable by no one else — unless it is root's and sticky
/// (`/tmp`), where others cannot rename or remove what is ours.
fn trusted_ancestor(path: &Path) -> anyhow::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    let owner_ok = meta.uid() == my_uid() || meta.uid() == 0;
    ensure!(
        owner_ok,
        "{} belongs to another user (uid {})",
        path.display(),
        meta.uid()
    );
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    let shared = meta.mode() & 0o022 != 0;
    let sticky_root = meta.mode() & 0o1000 != 0 && meta.uid() == 0;
    ensure!(
        !shared || sticky_root,
        "{} can be written by other users (mode {:o})",
        path.display(),
        meta.mode() & 0o7777
    );
    Ok(())
}

fn my_uid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// The bytes of regular file `path` of the current user, opened without following a symlink;
/// `None` when it does not exist. A key must also be readable by no one else.
fn read_private(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    let mut file = match fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(nix::libc::ELOOP) => {
            bail!("{} is a symlink", path.display())
        }
        Err(e) => return Err(e).with_context(|| format!("cannot open {}", path.display())),
    };
    let meta = file.metadata()?;
    ensure!(
        meta.is_file() && meta.uid() == my_uid(),
        "{} is not a file of the current user",
        path.display()
    );
    ensure!(
        meta.mode() & 0o077 == 0,
        "{} can be read or written by other users (mode {:o})",
        path.display(),
        meta.mode() & 0o777
    );
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}

/// Creates the key file (mode 0600) with fresh random bytes; if another process created it
/// first, that key wins.
fn create_key(path: &Path) -> anyhow::Result<[u8; KEY_LEN]> {
    let mut key = [0u8; KEY_LEN];
    fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut key))
        .context("cannot read /dev/urandom for the cache key")?;
    let tmp = temporary(path)?;
    write_file(&tmp, &key)?;
    // A hard link fails if the key exists: exactly one process's key is kept.
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let key = read_private(path)?.context("the cache key vanished")?;
            key.try_into()
                .map_err(|_| anyhow::anyhow!("{} is not a cache key", path.display()))
        }
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}

/// A fresh temporary name beside `path`.
fn temporary(path: &Path) -> anyhow::Result<PathBuf> {
    let dir = path.parent().context("cache path has no directory")?;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    Ok(dir.join(format!(
        ".{}.{}-{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("artifact"),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )))
}

/// Writes a new file (mode 0600, never through an existing file or symlink) and syncs it.
fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(path)?;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(path);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = temporary(path)?;
    write_file(&tmp, bytes)?;
    let renamed = fs::rename(&tmp, path);
    if renamed.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    renamed.with_context(|| format!("cannot write {}", path.display()))
}
