//! What the cluster keeps on disk: `cluster.json` (where the data lives, port, binaries, server
//! user, database) and what PostgreSQL's `postmaster.pid` says about a running server.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::error::Failure;

/// The contents of `<state>/cluster.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterState {
    /// PGDATA: `<state>/data`, or a server-user-owned fallback when the state directory is not
    /// reachable by that user.
    pub data_dir: PathBuf,
    /// The server log.
    pub log_file: PathBuf,
    /// TCP port on 127.0.0.1.
    pub port: u16,
    /// Where `initdb`/`pg_ctl`/`postgres` were found when the cluster was created.
    pub bin_dir: PathBuf,
    /// OS user the server runs as (set when Confiture runs as root), else the invoking user.
    pub run_as: Option<String>,
    /// The project database.
    pub database: String,
}

impl ClusterState {
    /// Reads `file`; `Ok(None)` when it does not exist, a clear error when it is corrupt.
    pub fn load(file: &Path) -> anyhow::Result<Option<Self>> {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
        };
        serde_json::from_str(&text).map(Some).map_err(|e| {
            Failure::config(format!(
                "{} is not valid cluster state: {e}",
                file.display()
            ))
            .hint(format!(
                "delete {} and run `confiture db start` again; the data directory is kept and adopted",
                file.display()
            ))
            .into()
        })
    }

    /// Writes `file` atomically (a temporary file renamed over it).
    pub fn save(&self, file: &Path) -> anyhow::Result<()> {
        let tmp = file.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).expect("cluster state serialises");
        std::fs::write(&tmp, text + "\n")
            .and_then(|()| std::fs::rename(&tmp, file))
            .with_context(|| format!("writing {}", file.display()))
    }

    /// The Unix-socket directory next to the data directory.
    pub fn socket_dir(&self) -> PathBuf {
        server_dir(&self.data_dir).join("sock")
    }
}

/// The directory holding the data directory, the log and the socket directory.
pub fn server_dir(data_dir: &Path) -> &Path {
    data_dir.parent().unwrap_or(data_dir)
}

/// What `postmaster.pid` says, when the file exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Postmaster {
    /// The server's process id.
    pub pid: i32,
    /// The port it listens on.
    pub port: Option<u16>,
    /// True when that process still exists.
    pub alive: bool,
}

impl Postmaster {
    /// Reads `<data_dir>/postmaster.pid`; `None` when the server is cleanly stopped.
    pub fn read(data_dir: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
        let mut lines = text.lines();
        let pid: i32 = lines.next()?.trim().parse().ok()?;
        let port = lines.nth(2).and_then(|l| l.trim().parse().ok());
        Some(Postmaster {
            pid,
            port,
            alive: process_alive(pid),
        })
    }
}

/// True when `pid` exists and is not a zombie (a killed server nobody reaped, as happens in
/// containers whose init does not reap orphans).
fn process_alive(pid: i32) -> bool {
    use nix::errno::Errno;
    use nix::sys::signal::kill;
    use nix::unistd::Pid;
    let exists = pid > 0 && matches!(kill(Pid::from_raw(pid), None), Ok(()) | Err(Errno::EPERM));
    let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        // `pid (comm) S ...`: the state follows the last `)`.
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    });
    exists && !zombie
}

/// True when something accepts TCP connections on 127.0.0.1:`port`.
pub fn accepts_connections(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
}

/// `preferred` when it is free on 127.0.0.1, else a port the system hands out.
pub fn free_port(preferred: Option<u16>) -> anyhow::Result<u16> {
    if let Some(port) = preferred
        && TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
    {
        return Ok(port);
    }
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .context("finding a free TCP port on 127.0.0.1")?;
    Ok(listener.local_addr()?.port())
}

/// The last `lines` lines of a log file, for error messages (empty when unreadable).
pub fn log_tail(file: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_corrupt_files_are_clear_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("cluster.json");
        assert_eq!(ClusterState::load(&file).unwrap(), None);
        let state = ClusterState {
            data_dir: tmp.path().join("data"),
            log_file: tmp.path().join("server.log"),
            port: 54321,
            bin_dir: PathBuf::from("/usr/lib/postgresql/15/bin"),
            run_as: Some("postgres".into()),
            database: "shop".into(),
        };
        state.save(&file).unwrap();
        assert_eq!(ClusterState::load(&file).unwrap(), Some(state.clone()));
        assert_eq!(state.socket_dir(), tmp.path().join("sock"));
        std::fs::write(&file, "{ not json").unwrap();
        let err = ClusterState::load(&file).unwrap_err();
        let failure = crate::error::failure_of(&err).expect("a Failure");
        assert!(
            failure.message.contains("cluster.json"),
            "{}",
            failure.message
        );
        assert!(failure.hint.as_deref().unwrap().contains("delete"));
    }

    #[test]
    fn postmaster_pid_of_a_dead_process_is_not_alive() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(Postmaster::read(tmp.path()), None);
        // PIDs are below 2^22 on Linux; this one cannot exist.
        std::fs::write(
            tmp.path().join("postmaster.pid"),
            "99999999\n/data\n1700000000\n5433\n/tmp\n127.0.0.1\n0 0\nready   \n",
        )
        .unwrap();
        let pm = Postmaster::read(tmp.path()).unwrap();
        assert_eq!((pm.pid, pm.port, pm.alive), (99_999_999, Some(5433), false));
        std::fs::write(
            tmp.path().join("postmaster.pid"),
            format!("{}\n/data\n0\n5433\n", std::process::id()),
        )
        .unwrap();
        assert!(Postmaster::read(tmp.path()).unwrap().alive);
    }

    #[test]
    fn free_port_keeps_a_free_preferred_port() {
        let port = free_port(None).unwrap();
        assert_eq!(free_port(Some(port)).unwrap(), port);
        let busy = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let busy_port = busy.local_addr().unwrap().port();
        assert_ne!(free_port(Some(busy_port)).unwrap(), busy_port);
    }
}
