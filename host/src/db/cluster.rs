//! The project's throwaway PostgreSQL cluster under `.confiture/pg/`.
//!
//! A development and test cluster, not a server to keep data in: `initdb` with **trust**
//! authentication, listening on 127.0.0.1 only (plus a Unix socket in the state directory), on
//! a free port chosen at first start and kept while it stays free. The server binaries come
//! from `CONFITURE_PG_BINDIR`, `PATH`, `pg_config --bindir` or `/usr/lib/postgresql/*/bin`
//! (see [`binaries`]). As root, the server runs as the `postgres` OS user (see `server_user`).
//!
//! On disk: `<state>/cluster.json` (see `state::ClusterState`), `<state>/data` (PGDATA) and
//! `<state>/server.log`, or — as root, when `postgres` cannot reach the state directory — a
//! `postgres`-owned `/tmp/confiture-pg-<hash>` holding the data and log instead.

pub mod binaries;
mod server_user;
mod state;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Output;

use anyhow::Context;
use serde::Serialize;
use tokio_postgres::Config;

use self::server_user::ServerUser;
use self::state::{ClusterState, Postmaster, server_dir};
use crate::db::connect::{ConnectionSpec, TlsMode};
use crate::error::{ExitCode, Failure};

/// The superuser `initdb` creates.
const SUPERUSER: &str = "postgres";
/// Unix socket paths are limited to ~107 bytes; leave room for `/.s.PGSQL.<port>`.
const MAX_SOCKET_DIR_LEN: usize = 100;

/// A throwaway local cluster: its state directory, its database, and extra server settings.
#[derive(Debug, Clone)]
pub struct Cluster {
    state_dir: PathBuf,
    database: String,
    settings: Vec<(String, String)>,
}

/// What a `start`, `stop` or `reset` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterAction {
    /// A new cluster was created and started.
    Initialized,
    /// The existing cluster was started.
    Started,
    /// It was running already; nothing changed.
    AlreadyRunning,
    /// The server was stopped.
    Stopped,
    /// It was not running; nothing changed.
    AlreadyStopped,
    /// The project database was dropped and created again.
    Reset,
}

/// Where the cluster is and whether it runs, for `confiture db status` (text and JSON).
#[derive(Debug, Clone, Serialize)]
pub struct ClusterStatus {
    /// What the command did, if it changed (or declined to change) something.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<ClusterAction>,
    /// True when the server accepts connections.
    pub running: bool,
    /// True when the cluster exists on disk.
    pub initialized: bool,
    /// The state directory (`.confiture/pg`).
    pub state_dir: PathBuf,
    /// PGDATA.
    pub data_dir: Option<PathBuf>,
    /// The server log.
    pub log_file: Option<PathBuf>,
    /// TCP port on 127.0.0.1.
    pub port: Option<u16>,
    /// The postmaster's process id, while running.
    pub pid: Option<i32>,
    /// The server binaries' directory.
    pub bin_dir: Option<PathBuf>,
    /// `postgres --version`, e.g. `15.8`.
    pub server_version: Option<String>,
    /// The OS user the server runs as, when not the invoking user.
    pub run_as: Option<String>,
    /// The project database.
    pub database: String,
    /// Connection URL of the project database (never holds a password: trust auth).
    pub url: Option<String>,
    /// Things worth knowing (recovered from a crash, data directory re-created, ...).
    pub notes: Vec<String>,
}

impl Cluster {
    /// The cluster of the project at `root`: state under `<root>/.confiture/pg/`, database named
    /// after the project directory.
    pub fn for_project(root: &Path) -> Cluster {
        let name = root
            .canonicalize()
            .unwrap_or_else(|_| root.to_path_buf())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Cluster::in_dir(&root.join(".confiture").join("pg"), &database_name(&name))
    }

    /// A cluster whose state lives in `state_dir`, with project database `database`.
    pub fn in_dir(state_dir: &Path, database: &str) -> Cluster {
        Cluster {
            state_dir: state_dir.to_path_buf(),
            database: database.to_string(),
            settings: Vec::new(),
        }
    }

    /// Adds a server setting passed as `-c name=value` on every start (e.g. `max_connections`).
    pub fn with_setting(mut self, name: &str, value: &str) -> Cluster {
        self.settings.push((name.to_string(), value.to_string()));
        self
    }

    /// Starts the cluster, creating it on first use; reports and changes nothing when it runs.
    pub fn start(&self) -> anyhow::Result<ClusterStatus> {
        let _lock = self.lock()?;
        let mut notes = Vec::new();
        let recorded = self.load_state()?;
        if let Some(state) = &recorded
            && let Some(pm) = Postmaster::read(&state.data_dir)
            && pm.alive
            && state::accepts_connections(pm.port.unwrap_or(state.port))
        {
            return self.status_with(Some(ClusterAction::AlreadyRunning), notes);
        }
        let user = ServerUser::for_cluster(recorded.as_ref().map(|s| s.data_dir.as_path()))?;
        let bin_dir = self.bin_dir(recorded.as_ref())?;
        std::fs::create_dir_all(&self.state_dir)
            .with_context(|| format!("creating {}", self.state_dir.display()))?;
        let (mut state, action) = match recorded {
            Some(state) if state.data_dir.join("PG_VERSION").is_file() => {
                (state, ClusterAction::Started)
            }
            previous => {
                if let Some(previous) = &previous {
                    notes.push(format!(
                        "the data directory {} was gone; created a new cluster",
                        previous.data_dir.display()
                    ));
                }
                match self.adopt_orphan_data(&user, &bin_dir) {
                    Some(state) => {
                        notes.push(
                            "cluster.json was missing; adopted the existing data directory".into(),
                        );
                        (state, ClusterAction::Started)
                    }
                    None => (
                        self.init(&user, &bin_dir, previous.map(|p| p.port))?,
                        ClusterAction::Initialized,
                    ),
                }
            }
        };
        state.bin_dir = bin_dir;
        check_versions(&state)?;
        if Postmaster::read(&state.data_dir).is_some_and(|pm| !pm.alive) {
            // PostgreSQL takes a zombie (a killed server its parent never reaped) for a live
            // one; the shared-memory check still guards against leftover backends.
            let pid_file = state.data_dir.join("postmaster.pid");
            std::fs::remove_file(&pid_file)
                .with_context(|| format!("removing the stale {}", pid_file.display()))?;
            // Its socket and socket lock file too (the socket directory is this cluster's own).
            for entry in std::fs::read_dir(state.socket_dir()).into_iter().flatten() {
                let _ = std::fs::remove_file(entry?.path());
            }
            notes.push(
                "the server had stopped without shutting down (stale postmaster.pid); \
                 PostgreSQL ran crash recovery on start"
                    .into(),
            );
        }
        self.start_server(&user, &mut state)?;
        self.ensure_database(&state)?;
        self.status_with(Some(action), notes)
    }

    /// Stops the server; says so and succeeds when it was not running.
    pub fn stop(&self) -> anyhow::Result<ClusterStatus> {
        if !self.state_file().exists() {
            return self.status_with(Some(ClusterAction::AlreadyStopped), Vec::new());
        }
        let _lock = self.lock()?;
        let Some(state) = self.load_state()? else {
            return self.status_with(Some(ClusterAction::AlreadyStopped), Vec::new());
        };
        match Postmaster::read(&state.data_dir) {
            Some(pm) if pm.alive => {}
            stale => {
                let notes = stale
                    .map(|_| vec!["a stale postmaster.pid was left by a crashed server".into()])
                    .unwrap_or_default();
                return self.status_with(Some(ClusterAction::AlreadyStopped), notes);
            }
        }
        let user = ServerUser::for_cluster(Some(&state.data_dir))?;
        let out = self.run_pg_ctl(&user, &state, &["stop", "-w", "-t", "60", "-m", "fast"])?;
        if !out.status.success() && Postmaster::read(&state.data_dir).is_some_and(|pm| pm.alive) {
            return Err(server_failure("pg_ctl stop", &out, &state.log_file).into());
        }
        self.status_with(Some(ClusterAction::Stopped), Vec::new())
    }

    /// Whether the cluster exists and runs, where, on which port.
    pub fn status(&self) -> anyhow::Result<ClusterStatus> {
        self.status_with(None, Vec::new())
    }

    /// How to connect to the project database; exit code 3 with a hint when it is not running.
    pub fn connection_spec(&self) -> anyhow::Result<ConnectionSpec> {
        Ok(self.spec_on(&self.database, &self.running_state()?))
    }

    /// The superuser on the `postgres` database.
    pub fn admin_spec(&self) -> anyhow::Result<ConnectionSpec> {
        Ok(self.spec_on("postgres", &self.running_state()?))
    }

    /// [`Cluster::admin_spec`], through another port of the same host (a relay in front of
    /// the cluster).
    pub fn admin_spec_through(&self, port: u16) -> anyhow::Result<ConnectionSpec> {
        let mut state = self.running_state()?;
        state.port = port;
        Ok(self.spec_on("postgres", &state))
    }

    /// Drops the project database (closing its sessions) and creates it again, empty.
    pub async fn reset_database(&self) -> anyhow::Result<()> {
        let admin = self.admin_spec()?.connect().await?;
        let name = quote_ident(&self.database);
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .with_context(|| format!("dropping database {}", self.database))?;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .with_context(|| format!("creating database {}", self.database))?;
        Ok(())
    }

    fn state_file(&self) -> PathBuf {
        self.state_dir.join("cluster.json")
    }

    fn load_state(&self) -> anyhow::Result<Option<ClusterState>> {
        ClusterState::load(&self.state_file())
    }

    /// Serialises start/stop between processes working on the same state directory.
    fn lock(&self) -> anyhow::Result<File> {
        std::fs::create_dir_all(&self.state_dir)
            .with_context(|| format!("creating {}", self.state_dir.display()))?;
        let path = self.state_dir.join("lock");
        let file = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        file.lock()
            .with_context(|| format!("locking {}", path.display()))?;
        Ok(file)
    }

    /// The recorded state when the server runs; else the "not running" connection failure.
    fn running_state(&self) -> anyhow::Result<ClusterState> {
        let not_running = || {
            Failure::new(ExitCode::Connection, "the local database is not running")
                .hint("run `confiture db start`")
        };
        let mut state = self.load_state()?.ok_or_else(not_running)?;
        match Postmaster::read(&state.data_dir) {
            Some(pm) if pm.alive && state::accepts_connections(pm.port.unwrap_or(state.port)) => {
                state.port = pm.port.unwrap_or(state.port);
                Ok(state)
            }
            _ => Err(not_running().into()),
        }
    }

    fn spec_on(&self, database: &str, state: &ClusterState) -> ConnectionSpec {
        let mut config = Config::new();
        config
            .host("127.0.0.1")
            .port(state.port)
            .user(SUPERUSER)
            .dbname(database);
        ConnectionSpec::from_config(config, TlsMode::Disable, None)
    }

    fn status_with(
        &self,
        action: Option<ClusterAction>,
        notes: Vec<String>,
    ) -> anyhow::Result<ClusterStatus> {
        let state = self.load_state()?;
        let postmaster = state.as_ref().and_then(|s| Postmaster::read(&s.data_dir));
        let live = postmaster.as_ref().filter(|pm| pm.alive);
        let port = live
            .and_then(|pm| pm.port)
            .or(state.as_ref().map(|s| s.port));
        let running = live.is_some() && port.is_some_and(state::accepts_connections);
        let mut notes = notes;
        if action.is_none() && postmaster.as_ref().is_some_and(|pm| !pm.alive) {
            notes.push(
                "a crashed server left postmaster.pid; `confiture db start` recovers it".into(),
            );
        }
        let bin_dir = match &state {
            Some(s) => Some(s.bin_dir.clone()),
            None => self.bin_dir(None).ok(),
        };
        let url = state.as_ref().zip(port).map(|(s, port)| {
            let mut s = s.clone();
            s.port = port;
            self.spec_on(&self.database, &s).redacted()
        });
        Ok(ClusterStatus {
            action,
            running,
            initialized: state
                .as_ref()
                .is_some_and(|s| s.data_dir.join("PG_VERSION").is_file()),
            state_dir: self.state_dir.clone(),
            data_dir: state.as_ref().map(|s| s.data_dir.clone()),
            log_file: state.as_ref().map(|s| s.log_file.clone()),
            port,
            pid: if running { live.map(|pm| pm.pid) } else { None },
            server_version: bin_dir.as_deref().and_then(server_version),
            bin_dir,
            run_as: state.as_ref().and_then(|s| s.run_as.clone()),
            database: self.database.clone(),
            url,
            notes,
        })
    }

    /// `CONFITURE_PG_BINDIR`, else the recorded directory while it still holds the binaries,
    /// else a search.
    fn bin_dir(&self, recorded: Option<&ClusterState>) -> anyhow::Result<PathBuf> {
        let explicit = std::env::var_os(binaries::BINDIR_VAR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        if explicit.is_none()
            && let Some(state) = recorded
            && binaries::has_server_binaries(&state.bin_dir)
        {
            return Ok(state.bin_dir.clone());
        }
        let path = std::env::var_os("PATH");
        Ok(binaries::find_bin_dir(
            explicit.as_deref(),
            path.as_deref(),
            binaries::DEFAULT_GLOBS,
        )?)
    }

    /// Where a new cluster's data goes: the state directory, or a fallback the server user
    /// owns when it cannot reach the state directory.
    fn server_dir_for(&self, user: &ServerUser) -> anyhow::Result<PathBuf> {
        user.give(&self.state_dir)?;
        if user.can_write(&self.state_dir) {
            Ok(self.state_dir.clone())
        } else {
            user.fallback_dir(&self.state_dir)
        }
    }

    /// A data directory left without `cluster.json` (deleted by hand): record it again.
    fn adopt_orphan_data(&self, user: &ServerUser, bin_dir: &Path) -> Option<ClusterState> {
        let data_dir = self.state_dir.join("data");
        data_dir.join("PG_VERSION").is_file().then(|| ClusterState {
            log_file: self.state_dir.join("server.log"),
            data_dir,
            port: 0,
            bin_dir: bin_dir.to_path_buf(),
            run_as: user.name().map(str::to_string),
            database: self.database.clone(),
        })
    }

    fn init(
        &self,
        user: &ServerUser,
        bin_dir: &Path,
        port: Option<u16>,
    ) -> anyhow::Result<ClusterState> {
        let dir = self.server_dir_for(user)?;
        let data_dir = dir.join("data");
        if data_dir.exists() {
            // A half-made data directory from an interrupted initdb: start over.
            std::fs::remove_dir_all(&data_dir)
                .with_context(|| format!("removing the incomplete {}", data_dir.display()))?;
        }
        let state = ClusterState {
            data_dir,
            log_file: dir.join("server.log"),
            port: state::free_port(port)?,
            bin_dir: bin_dir.to_path_buf(),
            run_as: user.name().map(str::to_string),
            database: self.database.clone(),
        };
        let out = user
            .command(&bin_dir.join("initdb"), &dir)
            .arg("-D")
            .arg(&state.data_dir)
            .args([
                "-U",
                SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "-N",
            ])
            .output()
            .context("running initdb")?;
        if !out.status.success() {
            return Err(server_failure("initdb", &out, &state.log_file).into());
        }
        state.save(&self.state_file())?;
        Ok(state)
    }

    /// `pg_ctl start`, retrying on another free port when the chosen one was taken meanwhile.
    fn start_server(&self, user: &ServerUser, state: &mut ClusterState) -> anyhow::Result<()> {
        let socket_dir = state.socket_dir();
        user.make_own_dir(&socket_dir)?;
        let socket_dir = socket_dir.to_str().filter(|s| {
            s.len() <= MAX_SOCKET_DIR_LEN
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/._-+".contains(&b))
        });
        let mut preferred = Some(state.port).filter(|p| *p != 0);
        let mut attempts_left = 3;
        loop {
            state.port = state::free_port(preferred)?;
            state.save(&self.state_file())?;
            let mut options = format!(
                "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories='{}'",
                state.port,
                socket_dir.unwrap_or("")
            );
            for (name, value) in &self.settings {
                options.push_str(&format!(" -c {name}={value}"));
            }
            let out = user
                .command(&state.bin_dir.join("pg_ctl"), server_dir(&state.data_dir))
                .args(["start", "-w", "-t", "60", "-D"])
                .arg(&state.data_dir)
                .arg("-l")
                .arg(&state.log_file)
                .arg("-o")
                .arg(&options)
                .output()
                .context("running pg_ctl start")?;
            if out.status.success() {
                return Ok(());
            }
            attempts_left -= 1;
            if attempts_left == 0
                || !state::log_tail(&state.log_file, 10).contains("could not bind")
            {
                return Err(server_failure("pg_ctl start", &out, &state.log_file).into());
            }
            preferred = None;
        }
    }

    fn run_pg_ctl(
        &self,
        user: &ServerUser,
        state: &ClusterState,
        args: &[&str],
    ) -> anyhow::Result<Output> {
        user.command(&state.bin_dir.join("pg_ctl"), server_dir(&state.data_dir))
            .args(args)
            .arg("-D")
            .arg(&state.data_dir)
            .output()
            .with_context(|| format!("running pg_ctl {}", args[0]))
    }

    /// Creates the project database when missing (through [`crate::bridge::block_on`], so that
    /// this works from synchronous code and from inside an async command alike).
    fn ensure_database(&self, state: &ClusterState) -> anyhow::Result<()> {
        let admin = self.spec_on("postgres", state);
        let database = self.database.clone();
        crate::bridge::block_on("creating the database", async {
            let client = admin.connect().await?;
            let exists = client
                .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&database])
                .await?
                .is_some();
            if !exists {
                client
                    .batch_execute(&format!("CREATE DATABASE {}", quote_ident(&database)))
                    .await
                    .with_context(|| format!("creating database {database}"))?;
            }
            Ok(())
        })
    }
}

/// Refuses data created by another major version than the binaries found.
fn check_versions(state: &ClusterState) -> anyhow::Result<()> {
    let data_major = std::fs::read_to_string(state.data_dir.join("PG_VERSION"))
        .unwrap_or_default()
        .trim()
        .to_string();
    let Some(version) = server_version(&state.bin_dir) else {
        return Ok(());
    };
    let bin_major = version.split('.').next().unwrap_or_default();
    if !data_major.is_empty() && data_major != bin_major {
        return Err(Failure::config(format!(
            "the cluster in {} was created by PostgreSQL {data_major}, but the server binaries \
             in {} are version {version}",
            state.data_dir.display(),
            state.bin_dir.display()
        ))
        .hint(format!(
            "set {}=<PostgreSQL {data_major} bin directory>, or delete {} to start afresh \
             (this deletes the local data)",
            binaries::BINDIR_VAR,
            server_dir(&state.data_dir).display()
        ))
        .into());
    }
    Ok(())
}

/// `postgres --version` → `15.8`.
fn server_version(bin_dir: &Path) -> Option<String> {
    let out = std::process::Command::new(bin_dir.join("postgres"))
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let version = text
        .split("(PostgreSQL)")
        .nth(1)?
        .split_whitespace()
        .next()?;
    Some(version.to_string())
}

/// A failed server command: its output and the tail of the server log.
fn server_failure(what: &str, out: &Output, log_file: &Path) -> Failure {
    let mut message = format!("{what} failed ({})", out.status);
    for stream in [&out.stderr, &out.stdout] {
        let text = String::from_utf8_lossy(stream);
        if !text.trim().is_empty() {
            message.push_str(&format!("\n{}", text.trim_end()));
        }
    }
    let tail = state::log_tail(log_file, 10);
    if !tail.is_empty() {
        message.push_str(&format!("\nlast lines of {}:\n{tail}", log_file.display()));
    }
    let failure = Failure::new(ExitCode::Failure, message);
    if log_file.is_file() {
        failure.hint(format!(
            "see {} for the full server log",
            log_file.display()
        ))
    } else {
        failure
    }
}

/// A PostgreSQL database name from a directory name: lower case, `[a-z0-9_]`, at most 63 bytes.
fn database_name(dir_name: &str) -> String {
    let mut name: String = dir_name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    name = name.trim_matches('_').to_string();
    if name.is_empty() {
        name = "confiture".into();
    } else if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "db_");
    }
    name.truncate(63);
    name
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_follow_the_project_directory() {
        assert_eq!(database_name("My-Shop"), "my_shop");
        assert_eq!(database_name("2024 app"), "db_2024_app");
        assert_eq!(database_name("..."), "confiture");
        assert_eq!(database_name(&"x".repeat(80)).len(), 63);
    }

    #[test]
    fn a_cluster_never_started_is_not_running() {
        let tmp = tempfile::tempdir().unwrap();
        let cluster = Cluster::for_project(tmp.path());
        let status = cluster.status().unwrap();
        assert!(!status.running && !status.initialized);
        assert_eq!(status.state_dir, tmp.path().join(".confiture/pg"));
        let err = cluster.connection_spec().unwrap_err();
        let failure = crate::error::failure_of(&err).unwrap();
        assert_eq!(failure.code, ExitCode::Connection);
        assert_eq!(failure.message, "the local database is not running");
        assert_eq!(failure.hint.as_deref(), Some("run `confiture db start`"));
    }

    #[test]
    fn a_corrupt_state_file_is_an_error_not_a_panic() {
        let tmp = tempfile::tempdir().unwrap();
        let cluster = Cluster::in_dir(tmp.path(), "db");
        std::fs::write(tmp.path().join("cluster.json"), "[1, 2").unwrap();
        for result in [cluster.status().map(|_| ()), cluster.stop().map(|_| ())] {
            let err = result.unwrap_err();
            assert!(err.to_string().contains("not valid cluster state"), "{err}");
        }
    }
}
