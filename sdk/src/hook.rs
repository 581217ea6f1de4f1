//! Migration hooks: the [`Hook`] trait and what a hook is told.

use crate::{Database, HookEvent, Plugin, Result};

/// A migration hook. Implement it with [`Plugin`] and export with
/// `confiture_sdk::export_plugin!(MyHook: hook)`.
pub trait Hook: Plugin {
    /// The events the host calls [`Hook::handle`] for.
    const EVENTS: &'static [HookEvent];

    /// Handles one event. An error fails the hook; what that does (abort, warn, ignore) is the
    /// environment file's failure policy. `db` reaches the migration's database when granted.
    fn handle(&self, context: &HookContext, db: &Database) -> Result<()>;
}

/// Whether a migration is being applied or rolled back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `.up.sql`.
    Up,
    /// `.down.sql`.
    Down,
}

/// The migration a per-migration event is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migration {
    /// Version (digits), e.g. `20261125093000`.
    pub version: String,
    /// Name, e.g. `add_users_email_index`.
    pub name: String,
    /// SHA-256 of the `.up.sql`, hex.
    pub checksum: String,
    /// Applying or rolling back.
    pub direction: Direction,
    /// Path of the file being run, relative to the project root.
    pub path: String,
    /// The SQL being run.
    pub sql: String,
}

/// Everything a hook knows about the moment it is called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookContext {
    /// The event being fired.
    pub event: HookEvent,
    /// The migration, for per-migration events.
    pub migration: Option<Migration>,
    /// Environment name, e.g. `production`.
    pub environment: String,
    /// Status so far: `pending`, `running`, `applied`, `failed`, `rolled-back`.
    pub status: String,
    /// Time the migration took, for post events.
    pub duration_ms: Option<u64>,
    /// The error, for `post-rollback` after a failure and `on-error`.
    pub error: Option<String>,
    /// Run metadata: `run-id`, `user`, `dry-run`, plus the environment file's
    /// `hooks.metadata` entries.
    pub metadata: Vec<(String, String)>,
}

impl HookContext {
    /// A context for `event` in environment `local`, status `running`, with nothing else set
    /// (a starting point for unit tests).
    pub fn new(event: HookEvent) -> Self {
        Self {
            event,
            migration: None,
            environment: "local".to_string(),
            status: "running".to_string(),
            duration_ms: None,
            error: None,
            metadata: Vec::new(),
        }
    }

    /// The run metadata entry `key`.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, value)| value.as_str())
    }

    /// True when the run is a dry run (`dry-run` metadata is `true`).
    pub fn dry_run(&self) -> bool {
        self.metadata("dry-run") == Some("true")
    }
}
