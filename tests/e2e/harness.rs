//! The shared test harness: one throwaway PostgreSQL cluster for the whole run, a fresh
//! database per test, temporary projects, and running the real `confiture` binary.
//!
//! The cluster lives in `<workspace>/target/test-pg` and is started once per test process with
//! the same machinery as `confiture db start` (`Cluster::in_dir`: `initdb`/`pg_ctl`, through
//! `runuser -u postgres` as root), with `max_connections = 300` (tests run in parallel) and TLS
//! on (a test CA and a `localhost` server certificate made with the `openssl` CLI). A file lock
//! (`target/test-pg.lock`) keeps parallel test processes from racing while it starts.
//!
//! `cargo xtask test` stops the shared cluster at the end
//! (`Cluster::in_dir(target/test-pg, ..).stop()`); a plain `cargo test` leaves it running, and
//! the next run reuses it. Databases left by earlier test processes are dropped when a new
//! process first uses the cluster.

// A shared API: not every part is used by every set of tests.
#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use confiture::db::cluster::Cluster;

/// Name of the shared cluster's own database (unused by tests; they get one each).
const CLUSTER_DATABASE: &str = "confiture_test";
/// Connections the shared cluster allows; every test process and binary run opens some.
const MAX_CONNECTIONS: u32 = 300;
/// Prefix of the per-test databases: `t_<pid>_<counter>`.
const TEST_DB_PREFIX: &str = "t_";

/// The running shared cluster.
struct Shared {
    port: u16,
    ca_cert: PathBuf,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the host crate sits in the workspace")
        .to_path_buf()
}

/// The shared cluster, with the settings tests need (durability off: it is throwaway).
fn shared_cluster() -> Cluster {
    Cluster::in_dir(&cluster_state_dir(), CLUSTER_DATABASE)
        .with_setting("max_connections", &MAX_CONNECTIONS.to_string())
        .with_setting("fsync", "off")
        .with_setting("synchronous_commit", "off")
        .with_setting("full_page_writes", "off")
        // Every test creates a database (`CREATE DATABASE` logs the template's ~8 MB); without
        // a cap the WAL alone reaches 1 GB before recycling.
        .with_setting("max_wal_size", "96MB")
        .with_setting("min_wal_size", "32MB")
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let target = workspace().join("target");
        std::fs::create_dir_all(&target).expect("create target/");
        let lock_path = target.join("test-pg.lock");
        let lock = File::create(&lock_path).expect("create target/test-pg.lock");
        lock.lock().expect("lock target/test-pg.lock");
        let cluster = shared_cluster();
        let mut status = cluster.start().unwrap_or_else(|e| panic!("{e:#}"));
        let port = status.port.expect("a running cluster has a port");
        let current: u32 = admin_query(port, "SHOW max_connections")
            .parse()
            .expect("max_connections is a number");
        if current < MAX_CONNECTIONS {
            // Started earlier with other settings: restart with ours.
            cluster.stop().unwrap_or_else(|e| panic!("{e:#}"));
            status = cluster.start().unwrap_or_else(|e| panic!("{e:#}"));
        }
        let port = status.port.expect("a running cluster has a port");
        let data_dir = status
            .data_dir
            .expect("a running cluster has a data directory");
        let ca_cert = enable_tls(port, &cluster_state_dir(), &data_dir);
        drop_leftover_databases(port);
        drop(lock);
        Shared { port, ca_cert }
    })
}

fn cluster_state_dir() -> PathBuf {
    workspace().join("target/test-pg")
}

fn admin_client(port: u16) -> postgres::Client {
    postgres::Client::connect(
        &format!("host=127.0.0.1 port={port} user=postgres dbname=postgres"),
        postgres::NoTls,
    )
    .unwrap_or_else(|e| panic!("connect to the test cluster on port {port}: {e}"))
}

fn admin_query(port: u16, sql: &str) -> String {
    admin_client(port)
        .query_one(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

/// Makes a test CA and a `localhost` certificate signed by it (the CA in the state directory,
/// the server's certificate and key in the data directory, owned by the server's user), turns
/// `ssl` on and reloads. Returns the CA certificate's path.
fn enable_tls(port: u16, state_dir: &Path, data_dir: &Path) -> PathBuf {
    let ca_cert = state_dir.join("test-ca.crt");
    let ca_key = state_dir.join("test-ca.key");
    let server_cert = data_dir.join("server.crt");
    let server_key = data_dir.join("server.key");
    if ![&ca_cert, &ca_key, &server_cert, &server_key]
        .iter()
        .all(|p| p.is_file())
    {
        make_ca(&ca_cert, &ca_key, "Confiture test CA");
        make_server_cert(&ca_cert, &ca_key, &server_cert, &server_key);
        give_to_owner_of(data_dir, &[&server_cert, &server_key]);
    }
    let want = [
        ("ssl", "on".to_string()),
        ("ssl_cert_file", server_cert.display().to_string()),
        ("ssl_key_file", server_key.display().to_string()),
    ];
    let mut admin = admin_client(port);
    let mut changed = false;
    for (name, value) in &want {
        let current: String = admin
            .query_one(&format!("SHOW {name}"), &[])
            .expect("SHOW")
            .get(0);
        if &current != value {
            let literal = value.replace('\'', "''");
            admin
                .batch_execute(&format!("ALTER SYSTEM SET {name} = '{literal}'"))
                .unwrap_or_else(|e| panic!("ALTER SYSTEM SET {name}: {e}"));
            changed = true;
        }
    }
    if changed {
        admin
            .batch_execute("SELECT pg_reload_conf()")
            .expect("reload");
        let deadline = Instant::now() + Duration::from_secs(10);
        while admin_query(port, "SHOW ssl") != "on" {
            assert!(
                Instant::now() < deadline,
                "ssl did not turn on; see the server log in {}",
                state_dir.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    ca_cert
}

/// A self-signed CA certificate and key (EC P-256) made with the `openssl` CLI.
pub fn make_ca(cert: &Path, key: &Path, name: &str) {
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "3650",
        "-subj",
        &format!("/CN={name}"),
        "-keyout",
        &key.display().to_string(),
        "-out",
        &cert.display().to_string(),
    ]);
}

/// A certificate for CN=localhost (subjectAltName DNS:localhost) signed by the CA.
fn make_server_cert(ca_cert: &Path, ca_key: &Path, cert: &Path, key: &Path) {
    let dir = tempfile::tempdir().expect("temp dir");
    let csr = dir.path().join("server.csr");
    let ext = dir.path().join("server.ext");
    std::fs::write(
        &ext,
        "subjectAltName=DNS:localhost\nbasicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write server.ext");
    let path = |p: &Path| p.display().to_string();
    openssl(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        &path(key),
        "-out",
        &path(&csr),
    ]);
    let serial = format!(
        "{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_nanos()
    );
    openssl(&[
        "x509",
        "-req",
        "-days",
        "3650",
        "-in",
        &path(&csr),
        "-CA",
        &path(ca_cert),
        "-CAkey",
        &path(ca_key),
        "-set_serial",
        &serial,
        "-extfile",
        &path(&ext),
        "-out",
        &path(cert),
    ]);
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the `openssl` CLI is needed to make the test certificates");
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The server reads its key only when the server's user owns it with mode 0600.
fn give_to_owner_of(data_dir: &Path, files: &[&Path]) {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = data_dir.metadata().expect("data directory metadata");
    for file in files {
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
        if meta.uid() != nix::unistd::geteuid().as_raw() {
            std::os::unix::fs::chown(file, Some(meta.uid()), Some(meta.gid()))
                .expect("chown to the server's user");
        }
    }
}

/// Drops `t_<pid>_<n>` databases whose test process has exited.
fn drop_leftover_databases(port: u16) {
    let mut admin = admin_client(port);
    let rows = admin
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE $1",
            &[&format!("{TEST_DB_PREFIX}%")],
        )
        .expect("list test databases");
    for row in rows {
        let name: String = row.get(0);
        let pid = name
            .strip_prefix(TEST_DB_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|pid| pid.parse::<i32>().ok());
        let alive = pid.is_some_and(|pid| {
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
        });
        if pid.is_some() && !alive {
            drop_database(port, &name);
        }
    }
}

/// Drops `name` (closing its sessions); a test's database goes when the test ends, so that a
/// full run holds only the databases of the tests still running, not ~2 GB of finished ones.
fn drop_database(port: u16, name: &str) {
    let _ = admin_client(port)
        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
}

/// Superuser URL to the shared cluster's `postgres` database.
pub fn admin_url() -> String {
    format!("postgresql://postgres@127.0.0.1:{}/postgres", shared().port)
}

/// The shared cluster's TCP port on 127.0.0.1.
pub fn cluster_port() -> u16 {
    shared().port
}

/// The CA certificate that signed the shared cluster's `localhost` server certificate (use it
/// as `sslrootcert`).
pub fn tls_cert_path() -> PathBuf {
    shared().ca_cert.clone()
}

/// A fresh, empty, uniquely named database on the shared cluster, dropped when the value is
/// (unless the test failed: its database stays for a look until the next run starts).
pub struct TestDb {
    /// Its name, `t_<pid>_<n>`.
    pub name: String,
    /// Its URL (no password: the test cluster trusts local connections).
    pub url: String,
}

impl TestDb {
    /// Creates the database.
    #[allow(clippy::new_without_default)]
    pub fn new() -> TestDb {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let shared = shared();
        let name = format!(
            "{TEST_DB_PREFIX}{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        admin_client(shared.port)
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        let url = format!("postgresql://postgres@127.0.0.1:{}/{name}", shared.port);
        TestDb { name, url }
    }

    /// A synchronous client on this database. Its session has no statement or
    /// idle-in-transaction timeout whatever the database sets (from the startup packet, so from
    /// its first statement): hostile settings a test gives its database (`ALTER DATABASE ...
    /// SET statement_timeout = '5ms'`) are for the tool, not for the test's own statements.
    pub fn client(&self) -> postgres::Client {
        let mut config: postgres::Config = self
            .url
            .parse()
            .unwrap_or_else(|e| panic!("parse {}: {e}", self.url));
        config
            .options("-c statement_timeout=0 -c idle_in_transaction_session_timeout=0")
            .connect(postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to {}: {e}", self.url))
    }

    /// The first column of the first row as text (write `SELECT x::text`); `None` when NULL or
    /// when there is no row.
    pub fn scalar(&self, sql: &str) -> Option<String> {
        let row = self
            .client()
            .query_opt(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"))?;
        row.get::<_, Option<String>>(0)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            // On its own thread: the synchronous client cannot run inside a test's runtime.
            let (port, name) = (shared().port, self.name.clone());
            let _ = std::thread::spawn(move || drop_database(port, &name)).join();
        }
    }
}

/// A temporary project: `db/schema/`, `db/migrations/`, and `db/environments/local.yaml`
/// pointing at a fresh [`TestDb`].
pub struct TestProject {
    /// The project directory (deleted on drop).
    pub dir: tempfile::TempDir,
    /// The project's database.
    pub db: TestDb,
}

impl TestProject {
    /// Creates the project and its database.
    #[allow(clippy::new_without_default)]
    pub fn new() -> TestProject {
        let db = TestDb::new();
        let project = TestProject {
            dir: tempfile::tempdir().expect("temp dir"),
            db,
        };
        std::fs::create_dir_all(project.root().join("db/schema")).expect("db/schema");
        std::fs::create_dir_all(project.root().join("db/migrations")).expect("db/migrations");
        project.write(
            "db/environments/local.yaml",
            &format!("database_url: {}\n", project.db.url),
        );
        project
    }

    /// The project directory.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file under the project, creating parent directories.
    pub fn write(&self, relative_path: &str, content: &str) {
        let path = self.root().join(relative_path);
        std::fs::create_dir_all(path.parent().expect("a file has a parent"))
            .unwrap_or_else(|e| panic!("create parent of {relative_path}: {e}"));
        std::fs::write(&path, content).unwrap_or_else(|e| panic!("write {relative_path}: {e}"));
    }

    /// Runs the binary in the project directory and waits for it.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(
            self.command(args)
                .output()
                .unwrap_or_else(|e| panic!("run confiture {args:?}: {e}")),
        )
    }

    /// Runs the binary like [`TestProject::run`] with a wall-clock `bound`: a run still going
    /// at the bound is killed and the test fails (a time limit that stopped working fails the
    /// test instead of hanging it). Returns the run and how long it took.
    pub fn run_bounded(&self, args: &[&str], bound: Duration) -> (Run, Duration) {
        run_bounded(self.command(args), bound)
    }

    /// The binary with `args`, in the project directory, stdin null, `NO_COLOR=1`, without
    /// `DATABASE_URL` and `CONFITURE_ENV`; not yet run.
    pub fn command(&self, args: &[&str]) -> Command {
        confiture_command(self.root(), args)
    }
}

/// Runs `cmd` to its end, or kills it (and its process group, when it leads one) and fails the
/// test when it is still running after `bound`; returns the run and how long it took.
pub fn run_bounded(mut cmd: Command, bound: Duration) -> (Run, Duration) {
    use std::io::Read;
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {cmd:?}: {e}"));
    // Drained while it runs, so a full pipe cannot stall it.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if started.elapsed() >= bound {
            // SAFETY: signalling a process group has no memory-safety preconditions.
            let group = unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
            if group != 0 {
                let _ = child.kill();
            }
            let _ = child.wait();
            let err = String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned();
            panic!("{cmd:?} was still running after {bound:?} and was killed; stderr:\n{err}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = started.elapsed();
    let output = std::process::Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    };
    (Run::from(output), elapsed)
}

/// Starts argv[2:] from this small process and writes its `ru_maxrss` (KiB) to argv[1]; exits
/// as it did. A process forked from the test binary would carry the test binary's own peak
/// (Linux keeps the larger of the old and new image's peaks across `exec`), so the measured
/// program is started from here instead.
const PEAK_WRAPPER: &str = r#"
import os, signal, sys
peak_file, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(peak_file, "w") as f:
    f.write(str(usage.ru_maxrss))
if os.WIFSIGNALED(status):
    signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
    os.kill(os.getpid(), os.WTERMSIG(status))
sys.exit(os.WEXITSTATUS(status))
"#;

/// [`run_bounded`], also returning the peak resident memory, in MiB, of the program and of the
/// children it waited for (its compiling processes), and nothing of the test process's own.
pub fn run_measured(cmd: Command, bound: Duration) -> (Run, Duration, u64) {
    use std::os::unix::process::CommandExt;
    let peak_file = tempfile::NamedTempFile::new().expect("a file for the peak");
    let mut wrapper = Command::new("python3");
    wrapper
        .arg("-c")
        .arg(PEAK_WRAPPER)
        .arg(peak_file.path())
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stdin(Stdio::null())
        .process_group(0);
    if let Some(dir) = cmd.get_current_dir() {
        wrapper.current_dir(dir);
    }
    for (name, value) in cmd.get_envs() {
        match value {
            Some(value) => wrapper.env(name, value),
            None => wrapper.env_remove(name),
        };
    }
    let (run, elapsed) = run_bounded(wrapper, bound);
    let peak_kib: u64 = std::fs::read_to_string(peak_file.path())
        .expect("the wrapper wrote the peak")
        .trim()
        .parse()
        .expect("the peak is a number");
    (run, elapsed, peak_kib / 1024)
}

/// The real binary with `args` in `dir`, set up like [`TestProject::command`].
pub fn confiture_command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_confiture"));
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .env_remove("CONFITURE_ENV");
    cmd
}

/// The upstream Python Confiture release the compatibility tests run against.
pub const UPSTREAM_RELEASE: &str = "1.29.0";

/// The upstream Python Confiture's `confiture` program, installed from PyPI
/// (`fraiseql-confiture==UPSTREAM_RELEASE`) into `target/upstream-venv` the first time a test
/// needs it, and reused after; a file lock keeps parallel test processes from installing it
/// twice. Needs `python3` with its `venv` module and access to PyPI once.
pub fn upstream_confiture() -> PathBuf {
    static PROGRAM: OnceLock<PathBuf> = OnceLock::new();
    PROGRAM
        .get_or_init(|| {
            let target = workspace().join("target");
            let venv = target.join("upstream-venv");
            let program = venv.join("bin/confiture");
            let marker = venv.join("installed-release");
            std::fs::create_dir_all(&target).expect("create target/");
            let lock = File::create(target.join("upstream-venv.lock"))
                .expect("create target/upstream-venv.lock");
            lock.lock().expect("lock target/upstream-venv.lock");
            let installed = std::fs::read_to_string(&marker).unwrap_or_default();
            if !(program.is_file() && installed.trim() == UPSTREAM_RELEASE) {
                let package = format!("fraiseql-confiture=={UPSTREAM_RELEASE}");
                let mut create = Command::new("python3");
                create.arg("-m").arg("venv").arg(&venv);
                let mut install = Command::new(venv.join("bin/pip"));
                install
                    .args(["install", "--quiet", "--disable-pip-version-check"])
                    .arg(&package);
                for mut step in [create, install] {
                    let status = step
                        .status()
                        .unwrap_or_else(|e| panic!("{step:?}: {e} (install python3 with venv)"));
                    assert!(
                        status.success(),
                        "installing {package} into {} failed ({step:?}); it needs python3 \
                         with venv and access to PyPI",
                        venv.display()
                    );
                }
                std::fs::write(&marker, UPSTREAM_RELEASE).expect("write the install marker");
            }
            drop(lock);
            program
        })
        .clone()
}

/// The upstream program with `args` in `dir`: stdin null, no colour, a wide terminal, without
/// the ambient database variables; not yet run.
pub fn upstream_command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(upstream_confiture());
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "200")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("DATABASE_URL")
        .env_remove("CONFITURE_DATABASE_URL")
        .env_remove("CONFITURE_ENV");
    cmd
}

/// Runs the upstream program and waits for it.
pub fn upstream(dir: &Path, args: &[&str]) -> Run {
    Run::from(
        upstream_command(dir, args)
            .output()
            .unwrap_or_else(|e| panic!("run upstream confiture {args:?}: {e}")),
    )
}

/// A finished run of the binary.
#[derive(Debug)]
pub struct Run {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl From<std::process::Output> for Run {
    fn from(out: std::process::Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Parses stdout as JSON; panics showing both streams when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}); exit {}\nstdout:\n{}\nstderr:\n{}",
                self.code, self.stdout, self.stderr
            )
        })
    }

    /// Panics showing both streams unless the exit code is `code`.
    pub fn exits(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "expected exit code {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Panics showing both streams unless the exit code is 0.
    pub fn ok(&self) -> &Run {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs the newest `pg_dump` installed under /usr/lib/postgresql (else PATH's) on `db` with
/// `extra` arguments and returns its output.
pub fn pg_dump(db: &TestDb, extra: &[&str]) -> String {
    let binary = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let binary = entry.path().join("bin/pg_dump");
            binary.exists().then_some((version, binary))
        })
        .max()
        .map_or_else(|| PathBuf::from("pg_dump"), |(_, binary)| binary);
    let out = Command::new(binary)
        .args(extra)
        .arg(format!("--dbname={}", db.url))
        .stdin(Stdio::null())
        .output()
        .expect("run pg_dump");
    assert!(
        out.status.success(),
        "pg_dump {extra:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("pg_dump writes UTF-8 here")
}
