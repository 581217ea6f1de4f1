//! `confiture db start|stop|status|url|reset`: the project's own throwaway cluster, driven
//! through the real binary. As root the server runs as `postgres` (and a project `postgres`
//! cannot reach gets a fallback data directory); the `postgres` user itself runs it directly.
//! Each test's clusters are stopped on drop, so a failing test leaks no server.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{Run, confiture_command};

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// A temporary project with `db/` whose cluster is stopped (and its fallback data directory
/// removed) on drop.
pub(crate) struct LocalProject {
    dir: tempfile::TempDir,
    as_user: Option<&'static str>,
}

impl LocalProject {
    pub(crate) fn new() -> LocalProject {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("db")).expect("db/");
        LocalProject { dir, as_user: None }
    }

    /// A project owned by `user`, whose commands run as that user (root only).
    fn owned_by(user: &'static str) -> LocalProject {
        let mut project = LocalProject::new();
        let status = Command::new("chown")
            .args(["-R", user])
            .arg(project.root())
            .status()
            .expect("chown");
        assert!(status.success());
        project.as_user = Some(user);
        project
    }

    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        let mut cmd = match self.as_user {
            None => confiture_command(self.root(), args),
            Some(user) => {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", user, "--", env!("CARGO_BIN_EXE_confiture")])
                    .args(args)
                    .current_dir(self.root())
                    .stdin(std::process::Stdio::null())
                    .env("NO_COLOR", "1")
                    .env_remove("DATABASE_URL")
                    .env_remove("CONFITURE_ENV");
                cmd
            }
        };
        Run::from(cmd.output().expect("run confiture"))
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        let run = self.run(&all);
        run.ok();
        run.json()
    }

    fn data_dir(&self) -> Option<PathBuf> {
        let text = std::fs::read_to_string(self.root().join(".confiture/pg/cluster.json")).ok()?;
        let state: serde_json::Value = serde_json::from_str(&text).ok()?;
        state["data_dir"].as_str().map(PathBuf::from)
    }
}

impl Drop for LocalProject {
    fn drop(&mut self) {
        let _ = self.run(&["db", "stop"]);
        // A fallback data directory outside the project (root, unreachable project).
        if let Some(server_dir) = self.data_dir().as_deref().and_then(Path::parent)
            && !server_dir.starts_with(self.root())
            && server_dir
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("confiture-pg-"))
        {
            let _ = std::fs::remove_dir_all(server_dir);
        }
    }
}

fn port_of(status: &serde_json::Value) -> u64 {
    status["port"].as_u64().expect("a port")
}

#[test]
fn db_lifecycle_start_status_url_reset_stop() {
    let project = LocalProject::new();
    // A private project directory: as root, `postgres` cannot reach it.
    std::fs::set_permissions(project.root(), PermissionsExt::from_mode(0o700)).unwrap();
    let stopped = project.json(&["db", "status"]);
    assert_eq!(stopped["running"], false);
    assert_eq!(stopped["initialized"], false);

    let first = project.json(&["db", "start"]);
    assert_eq!(first["action"], "initialized", "{first:#}");
    assert_eq!(first["running"], true);
    let port = port_of(&first);
    // As root the server runs as `postgres`; the project is out of its reach, so the data
    // lives in a postgres-owned fallback. As a normal user it runs directly, in place.
    let data_dir = first["data_dir"].as_str().unwrap();
    if is_root() {
        assert_eq!(first["run_as"], "postgres");
        assert!(data_dir.contains("confiture-pg-"), "{data_dir}");
    } else {
        assert_eq!(first["run_as"], serde_json::Value::Null);
        assert!(
            Path::new(data_dir).starts_with(project.root()),
            "{data_dir}"
        );
    }

    let again = project.json(&["db", "start"]);
    assert_eq!(again["action"], "already_running");
    assert_eq!(port_of(&again), port, "a second start changes nothing");
    assert_eq!(again["pid"], first["pid"]);

    let text = project.run(&["db", "status"]);
    text.ok();
    assert!(text.stdout.starts_with("running"), "{}", text.stdout);
    assert!(
        text.stdout.contains(&format!("port:           {port}")),
        "{}",
        text.stdout
    );
    let status = project.json(&["db", "status"]);
    assert_eq!(status["running"], true);
    let database = status["database"].as_str().unwrap().to_string();

    let url = project.run(&["db", "url"]);
    url.ok();
    let url = url.stdout.trim();
    assert_eq!(url.lines().count(), 1, "just the URL: {url}");
    assert!(url.contains(&format!(":{port}/{database}")), "{url}");
    let url_json = project.json(&["db", "url"]);
    assert_eq!(url_json["url"], url);
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect with db url");
    client
        .batch_execute("CREATE TABLE kept_until_reset (id int)")
        .unwrap();
    drop(client);

    let reset = project.json(&["db", "reset"]);
    assert_eq!(reset["action"], "reset");
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect after reset");
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE tablename = 'kept_until_reset'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 0, "reset leaves an empty database");
    drop(client);

    let stop = project.json(&["db", "stop"]);
    assert_eq!(stop["action"], "stopped");
    assert_eq!(stop["running"], false);
    let again = project.run(&["db", "stop"]);
    again.ok();
    assert!(again.stdout.contains("not running"), "{}", again.stdout);
    let url = project.run(&["db", "url"]);
    assert_eq!(url.code, 3, "{}", url.stderr);
    assert!(
        url.stderr.contains("the local database is not running"),
        "{}",
        url.stderr
    );
    assert!(url.stderr.contains("confiture db start"), "{}", url.stderr);

    let restarted = project.json(&["db", "start"]);
    assert_eq!(restarted["action"], "started");
    assert_eq!(
        port_of(&restarted),
        port,
        "the port is kept while it is free"
    );
}

#[test]
fn db_start_as_root_and_as_the_postgres_user() {
    let mine = LocalProject::new();
    let started = mine.json(&["db", "start"]);
    assert_eq!(started["running"], true);
    if !is_root() {
        // The normal-user path is the one above; running as another user needs root.
        assert_eq!(started["run_as"], serde_json::Value::Null);
        return;
    }
    assert_eq!(started["run_as"], "postgres");
    let data_dir = started["data_dir"].as_str().unwrap();
    assert!(
        Path::new(data_dir).starts_with(mine.root()),
        "in place when reachable: {data_dir}"
    );
    let theirs = LocalProject::owned_by("postgres");
    let their_start = theirs.json(&["db", "start"]);
    assert_eq!(their_start["action"], "initialized", "{their_start:#}");
    assert_eq!(
        their_start["run_as"],
        serde_json::Value::Null,
        "postgres runs it directly"
    );
    let data_dir = their_start["data_dir"].as_str().unwrap();
    assert!(Path::new(data_dir).starts_with(theirs.root()), "{data_dir}");
    assert_ne!(port_of(&their_start), port_of(&started));
    // Both run at once.
    for project in [&mine, &theirs] {
        let status = project.json(&["db", "status"]);
        assert_eq!(status["running"], true, "{status:#}");
        let url = project.run(&["db", "url"]);
        let mut client = postgres::Client::connect(url.stdout.trim(), postgres::NoTls)
            .expect("connect to each cluster");
        let one: i32 = client.query_one("SELECT 1", &[]).unwrap().get(0);
        assert_eq!(one, 1);
    }
    // Root can manage the cluster `postgres` made: it runs pg_ctl as the data's owner.
    let stop = Run::from(
        confiture_command(theirs.root(), &["db", "stop", "--format", "json"])
            .output()
            .unwrap(),
    );
    assert_eq!(stop.ok().json()["action"], "stopped", "{}", stop.stdout);
    assert_eq!(theirs.json(&["db", "status"])["running"], false);
}

#[test]
fn db_commands_need_a_project() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::from(
        confiture_command(dir.path(), &["db", "start"])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr.contains("no Confiture project"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("confiture init"), "{}", run.stderr);
    assert!(
        !dir.path().join(".confiture").exists(),
        "nothing is created outside a project"
    );
}
