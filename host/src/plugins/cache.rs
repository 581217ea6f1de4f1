//! The compiled-artifact cache: `<cache dir>/<sha256 of component>-<engine hash>.cwasm`.
//!
//! A `.cwasm` is native code that wasmtime maps and runs without checks, so it is trusted only
//! from this directory, which the host creates (mode 0700) and which must belong to the
//! current user. Every artifact has a `.check` file beside it with its length and SHA-256,
//! written after it; an artifact whose check is missing or does not match (truncated, foreign,
//! from another engine) is recompiled and overwritten. Both files are written to a temporary
//! name and renamed, so readers never see half a file. The verified bytes themselves are handed
//! to `Component::deserialize` (rather than mapping the file again with `deserialize_file`), so
//! there is no window between the check and the load in which the file could change.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use super::compile::Compiled;

/// First line of every `.check` file.
const CHECK_MAGIC: &str = "confiture-cwasm-check v1";

/// Whether a load used the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheStatus {
    /// A verified artifact was loaded; nothing was compiled.
    Hit,
    /// The component was compiled and the artifact written.
    Miss,
    /// An artifact was there but failed verification; it was recompiled and replaced.
    Replaced,
    /// The cache is off (`--no-plugin-cache`, or no cache directory).
    Off,
}

/// What the cache holds for a component.
pub(crate) enum Lookup {
    /// A verified artifact, loaded.
    Hit(Component),
    /// Nothing.
    Missing,
    /// An artifact that failed verification (it will be replaced).
    Bad,
    /// There is no cache.
    Off,
}

/// The cache directory and its key scheme.
#[derive(Debug, Clone)]
pub struct ArtifactCache {
    dir: PathBuf,
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

impl ArtifactCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: PathBuf) -> Self {
        ArtifactCache { dir }
    }

    /// `$CONFITURE_CACHE_DIR/plugins`, else `$XDG_CACHE_HOME/confiture/plugins`, else
    /// `~/.cache/confiture/plugins`; `None` when none of them is set.
    pub fn default_dir() -> Option<PathBuf> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(dir) = var("CONFITURE_CACHE_DIR") {
            return Some(PathBuf::from(dir).join("plugins"));
        }
        let base = var("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
        Some(base.join("confiture").join("plugins"))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the artifact of `component` (raw bytes) compiled by `engine` lives.
    pub fn artifact_path(&self, engine: &Engine, component: &[u8]) -> PathBuf {
        let mut hasher = ShaHasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_hash = hex(&hasher.0.finalize()[..8]);
        self.dir
            .join(format!("{}-{engine_hash}.cwasm", sha256_hex(component)))
    }

    /// The component's verified artifact, if the cache holds one.
    pub(crate) fn lookup(&self, engine: &Engine, bytes: &[u8]) -> Lookup {
        let path = self.artifact_path(engine, bytes);
        if !path.exists() {
            return Lookup::Missing;
        }
        match self.load_verified(engine, &path) {
            Some(component) => Lookup::Hit(component),
            None => Lookup::Bad,
        }
    }

    /// The artifact at `path`, if its directory is ours and its check file matches it.
    fn load_verified(&self, engine: &Engine, path: &Path) -> Option<Component> {
        self.owned_dir().ok()?;
        let check = fs::read_to_string(check_path(path)).ok()?;
        let bytes = fs::read(path).ok()?;
        if check != check_text(&bytes) {
            return None;
        }
        Engine::detect_precompiled(&bytes)?;
        // SAFETY: the artifact was written by this host into a directory only the current
        // user can write, and its length and SHA-256 match the check file written after it;
        // wasmtime additionally verifies the engine configuration in the artifact's header.
        unsafe { Component::deserialize(engine, &bytes) }.ok()
    }

    /// Writes the artifact of the component in `bytes`, then its check file, each through a
    /// temporary file and a rename.
    pub(crate) fn store(
        &self,
        engine: &Engine,
        bytes: &[u8],
        compiled: &Compiled,
    ) -> anyhow::Result<()> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)?;
        self.owned_dir()?;
        let path = self.artifact_path(engine, bytes);
        let artifact = match &compiled.artifact {
            Some(artifact) => artifact.clone(),
            None => compiled
                .component
                .serialize()
                .map_err(anyhow::Error::from)?,
        };
        write_atomic(&path, &artifact)?;
        write_atomic(&check_path(&path), check_text(&artifact).as_bytes())
    }

    /// Refuses a cache directory that another user owns or others may write.
    fn owned_dir(&self) -> anyhow::Result<()> {
        let meta = fs::metadata(&self.dir)?;
        let uid = nix::unistd::geteuid().as_raw();
        anyhow::ensure!(
            meta.uid() == uid && meta.mode() & 0o022 == 0,
            "{} is not a private directory of the current user",
            self.dir.display()
        );
        Ok(())
    }
}

fn check_path(path: &Path) -> PathBuf {
    path.with_extension("check")
}

fn check_text(artifact: &[u8]) -> String {
    format!(
        "{CHECK_MAGIC}\nlength {}\nsha256 {}\n",
        artifact.len(),
        sha256_hex(artifact)
    )
}

fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().context("artifact path has no directory")?;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".{}.{}-{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("artifact"),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    Ok(result?)
}
