//! Who runs the server. PostgreSQL refuses to run as root, so when Confiture runs as root the
//! server binaries run as the `postgres` OS user through `runuser`, in directories that user
//! owns; as a normal user they run directly.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context;
use nix::unistd::{Uid, User};
use sha2::{Digest, Sha256};

use crate::error::{ExitCode, Failure};

/// The OS user the server runs as when Confiture runs as root.
pub const SERVER_USER: &str = "postgres";

/// How server binaries are launched.
#[derive(Debug, Clone)]
pub enum ServerUser {
    /// Run directly, as the invoking user.
    Current,
    /// Run through `runuser -u <name> --` (Confiture runs as root).
    Other {
        /// The OS user name.
        name: String,
        /// Its uid and gid, for chown.
        uid: u32,
        /// Its primary group.
        gid: u32,
        /// The `runuser` program.
        runuser: PathBuf,
    },
}

impl ServerUser {
    /// The invoking user, or `name` (default [`SERVER_USER`]) when running as root.
    fn detect(name: Option<&str>) -> anyhow::Result<Self> {
        if !Uid::effective().is_root() {
            return Ok(ServerUser::Current);
        }
        let name = name.unwrap_or(SERVER_USER);
        let user = User::from_name(name)
            .with_context(|| format!("looking up the OS user `{name}`"))?
            .ok_or_else(|| {
                Failure::new(
                    ExitCode::Config,
                    format!(
                        "running as root, but there is no `{name}` OS user to run PostgreSQL as \
                         (the server refuses to run as root)"
                    ),
                )
                .hint(
                    "install the PostgreSQL server packages (they create the `postgres` user), \
                     create it with `useradd --system postgres`, or run confiture as a normal user",
                )
            })?;
        Ok(ServerUser::Other {
            name: name.to_string(),
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
            runuser: find_runuser()?,
        })
    }

    /// The user for a cluster whose data directory may exist: as root, that directory's owner
    /// (whoever created it), else [`SERVER_USER`].
    pub fn for_cluster(data_dir: Option<&Path>) -> anyhow::Result<Self> {
        use std::os::unix::fs::MetadataExt;
        let owner = data_dir
            .and_then(|dir| dir.metadata().ok())
            .map(|meta| meta.uid())
            .filter(|uid| *uid != 0 && Uid::effective().is_root())
            .and_then(|uid| User::from_uid(Uid::from_raw(uid)).ok().flatten());
        Self::detect(owner.as_ref().map(|user| user.name.as_str()))
    }

    /// The user name to record, when it is not the invoking user.
    pub fn name(&self) -> Option<&str> {
        match self {
            ServerUser::Current => None,
            ServerUser::Other { name, .. } => Some(name),
        }
    }

    /// A command running `program` as this user, with `dir` as working directory (one the
    /// server user can enter; root's may not be).
    pub fn command(&self, program: &Path, dir: &Path) -> Command {
        let mut cmd = match self {
            ServerUser::Current => Command::new(program),
            ServerUser::Other { name, runuser, .. } => {
                let mut cmd = Command::new(runuser);
                cmd.args(["-u", name, "--"]).arg(program);
                cmd
            }
        };
        cmd.current_dir(dir)
            .stdin(Stdio::null())
            .env_remove("PGDATA")
            .env("LC_ALL", "C");
        cmd
    }

    /// Creates `dir` (and parents) and hands it to this user.
    pub fn make_own_dir(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        self.give(dir)
    }

    /// Hands `path` to this user (no-op when running as the invoking user).
    pub fn give(&self, path: &Path) -> anyhow::Result<()> {
        if let ServerUser::Other { uid, gid, name, .. } = self {
            std::os::unix::fs::chown(path, Some(*uid), Some(*gid))
                .with_context(|| format!("giving {} to the `{name}` user", path.display()))?;
        }
        Ok(())
    }

    /// True when this user can create files in `dir` (every parent must be searchable).
    pub fn can_write(&self, dir: &Path) -> bool {
        match self {
            ServerUser::Current => true,
            ServerUser::Other { .. } => self
                .command(Path::new("test"), Path::new("/"))
                .arg("-w")
                .arg(dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success()),
        }
    }

    /// A directory the server user owns, outside a state directory it cannot reach:
    /// `<tmp>/confiture-pg-<hash of the state path>`. Refuses one owned by someone else.
    pub fn fallback_dir(&self, state_dir: &Path) -> anyhow::Result<PathBuf> {
        let canonical = state_dir
            .canonicalize()
            .unwrap_or_else(|_| state_dir.to_path_buf());
        let hash = Sha256::digest(canonical.as_os_str().as_encoded_bytes());
        let short: String = hash[..6].iter().map(|b| format!("{b:02x}")).collect();
        let dir = std::env::temp_dir().join(format!("confiture-pg-{short}"));
        if let (Ok(meta), ServerUser::Other { uid, name, .. }) = (dir.symlink_metadata(), self) {
            use std::os::unix::fs::MetadataExt;
            if !meta.is_dir() || (meta.uid() != *uid && meta.uid() != 0) {
                return Err(Failure::config(format!(
                    "{} exists but is not a directory owned by `{name}`",
                    dir.display()
                ))
                .hint("remove it, or move the project somewhere the `postgres` user can read")
                .into());
            }
        }
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .with_context(|| format!("restricting {}", dir.display()))?;
        self.give(&dir)?;
        Ok(dir)
    }
}

fn find_runuser() -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join("runuser"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Failure::config("running as root, but `runuser` (util-linux) is not installed")
                .hint("install util-linux, or run confiture as a normal user")
                .into()
        })
}
