//! Shared by the hook tests: a project with hook plugins copied into its plugins directory,
//! and the events the `hook-recorder` test plugin logged.

use crate::harness::{Run, TestProject};
use crate::plugins_support::{PLUGIN_ROLE, component, grant_plugin_role, hostile};

/// The test hook that logs every event (`plugins/hook-recorder`).
pub const RECORDER: &str = "hook-recorder";

/// A project with `plugins` (names under `target/plugins/`) in its plugins directory and
/// `env` appended to its `local.yaml`; plugins' SQL runs as [`PLUGIN_ROLE`].
pub fn project_with(plugins: &[&str], env: &str) -> TestProject {
    let p = TestProject::new();
    grant_plugin_role(&p.db);
    for name in plugins {
        let to = p.root().join("plugins").join(format!("{name}.wasm"));
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(component(name), &to).unwrap();
    }
    set_env(&p, env);
    p
}

/// Rewrites `local.yaml`: the database URL, [`PLUGIN_ROLE`] as `plugin_sandbox.role`, then
/// `env`.
pub fn set_env(p: &TestProject, env: &str) {
    p.write(
        "db/environments/local.yaml",
        &format!(
            "database_url: {}\nplugin_sandbox:\n  role: {PLUGIN_ROLE}\n{env}",
            p.db.url
        ),
    );
}

/// One event the recorder logged, parsed from `key=value` pairs.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The whole line after `recorded `.
    pub line: String,
}

impl Recorded {
    /// The value of `key` (up to the next ` key=`; `migration=` spans its sub-fields).
    pub fn get(&self, key: &str) -> String {
        // `error=` may hold spaces (it runs to ` metadata=`); `metadata=` ends the line.
        if key == "metadata" || key == "error" {
            let (_, rest) = self.line.split_once(&format!(" {key}=")).unwrap();
            return match key {
                "error" => rest.split(" metadata=").next().unwrap().to_string(),
                _ => rest.to_string(),
            };
        }
        let marker = format!("{key}=");
        let start = self
            .line
            .split(' ')
            .position(|w| w.starts_with(&marker))
            .unwrap_or_else(|| panic!("no {key} in {}", self.line));
        self.line.split(' ').nth(start).unwrap()[marker.len()..].to_string()
    }

    /// `event` and, for per-migration events, the migration: `post-execute 001_users`.
    pub fn short(&self) -> String {
        let migration = self.get("migration");
        if migration == "-" {
            self.get("event")
        } else {
            format!("{} {migration}", self.get("event"))
        }
    }
}

/// The recorder's lines on stderr, in order.
pub fn recorded(run: &Run) -> Vec<Recorded> {
    run.stderr
        .lines()
        .filter_map(|l| l.split_once("] info: recorded ").map(|(_, rest)| rest))
        .map(|line| Recorded {
            line: line.to_string(),
        })
        .collect()
}

/// The events, short form.
pub fn events(run: &Run) -> Vec<String> {
    recorded(run).iter().map(Recorded::short).collect()
}

/// Two reversible migrations: `users` then `posts`.
pub fn two_migrations(p: &TestProject) {
    crate::migrate_up::two_migrations(p);
}

/// Tracking rows.
pub fn tracked(p: &TestProject) -> usize {
    crate::migrate_up::tracked(p)
}

/// True when the relation exists.
pub fn exists(p: &TestProject, relation: &str) -> bool {
    crate::migrate_up::exists(p, relation)
}

/// A project with hostile plugin `folder` installed, granted `grant`, firing under `policy`
/// (`policy` may add keys of its `hooks.plugins` entry on further lines), with `extra` settings
/// under its `plugins:` entry.
pub fn hostile_project(folder: &str, grant: &str, policy: &str, extra: &str) -> TestProject {
    let p = TestProject::new();
    grant_plugin_role(&p.db);
    let name = format!("hostile-{folder}");
    std::fs::create_dir_all(p.root().join("plugins")).unwrap();
    std::fs::copy(
        hostile(folder),
        p.root().join(format!("plugins/{name}.wasm")),
    )
    .unwrap();
    set_env(
        &p,
        &format!(
            "plugins:\n  {name}:\n    grant: [{grant}]\n{extra}\
             hooks:\n  plugins:\n    {name}:\n      policy: {policy}\n"
        ),
    );
    p.write(
        "db/migrations/001_t.up.sql",
        "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n",
    );
    p
}
