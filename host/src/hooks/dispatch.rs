//! Firing events: one [`HookRun`] per command run, holding the resolved hooks, the run's
//! metadata and every call's outcome.

use std::time::Instant;

use serde::Serialize;

use super::registry::Registration;
use crate::context::Globals;
use crate::output::{Format, Output, paint, style};
use crate::plugins::hooks::{Direction, Migration};
use crate::plugins::{
    CallFailure, HookCallError, HookContext, HookDatabase, HookEvent, IntegrityBreach, KeyValue,
    PluginSources, call_hook,
};
use crate::project::{Project, settings::hooks::HookPolicy};

/// The migration a per-migration event is about.
#[derive(Debug, Clone)]
pub struct MigrationRef {
    /// Version.
    pub version: String,
    /// Name.
    pub name: String,
    /// SHA-256 of the `.up.sql`.
    pub checksum: String,
    /// Applying or rolling back.
    pub direction: Direction,
    /// The file run, relative to the project root.
    pub path: String,
    /// Its SQL.
    pub sql: String,
}

impl MigrationRef {
    fn slug(&self) -> String {
        format!("{}_{}", self.version, self.name)
    }

    fn wit(&self) -> Migration {
        Migration {
            version: self.version.clone(),
            name: self.name.clone(),
            checksum: self.checksum.clone(),
            direction: self.direction,
            path: self.path.clone(),
            sql: self.sql.clone(),
        }
    }
}

/// The status a hook is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not started (validation events).
    Pending,
    /// The migration is running (pre-execute).
    Running,
    /// The migration ran (post-execute, inside its transaction, before the commit).
    Applied,
    /// The migration was rolled back (post-rollback).
    RolledBack,
    /// The run failed (on-error).
    Failed,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Applied => "applied",
            Status::RolledBack => "rolled-back",
            Status::Failed => "failed",
        }
    }
}

/// One hook call, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct HookOutcome {
    /// The plugin.
    pub plugin: String,
    /// The event.
    pub event: &'static str,
    /// `<version>_<name>` for per-migration events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migration: Option<String>,
    /// `ok` or `failed`.
    pub outcome: &'static str,
    /// The hook's failure policy.
    pub policy: HookPolicy,
    /// What kind of failure, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<CallFailure>,
    /// The failure's message, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Wall time of the call (instantiation, the call, its database calls), ms.
    pub duration_ms: f64,
}

/// A hook failed under policy `abort`: the run stops with its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("hook {plugin} aborted the run on {event}: {message}")]
pub struct HookAbort {
    /// The plugin.
    pub plugin: String,
    /// The event.
    pub event: &'static str,
    /// The plugin's error.
    pub message: String,
}

/// What a hook call that failed (its plugin's failure, not an integrity breach) does to the
/// run, by the hook's policy.
#[derive(Debug, PartialEq, Eq)]
enum Reaction {
    /// `abort`: the run stops with this.
    Stop(HookAbort),
    /// `warn`: this warning is printed and the run continues.
    Warn(String),
    /// `ignore`: the failure is in the JSON output only.
    Record,
}

/// The [`Reaction`] to `plugin` failing with `message` on `event` (`about` names the
/// migration, with a leading space, or is empty) under `policy`.
fn reaction(
    policy: HookPolicy,
    plugin: &str,
    event: &'static str,
    about: &str,
    message: &str,
) -> Reaction {
    match policy {
        HookPolicy::Abort => Reaction::Stop(HookAbort {
            plugin: plugin.to_string(),
            event,
            message: message.to_string(),
        }),
        HookPolicy::Warn => Reaction::Warn(format!(
            "hook {plugin} failed on {event}{about} (policy warn, the run continues): {message}"
        )),
        HookPolicy::Ignore => Reaction::Record,
    }
}

/// Why firing an event stopped the run.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HookStop {
    /// A hook under policy `abort` failed.
    #[error(transparent)]
    Abort(#[from] HookAbort),
    /// After a hook's database call the host's transaction or session was not intact; the run
    /// stops whatever the hook's policy.
    #[error(transparent)]
    Integrity(#[from] IntegrityBreach),
}

/// The hooks of one command run.
#[derive(Debug)]
pub struct HookRun {
    registration: Registration,
    environment: String,
    metadata: Vec<(String, String)>,
    out: Output,
    /// Every call made so far, in order.
    pub outcomes: Vec<HookOutcome>,
}

impl HookRun {
    /// A run without hooks.
    pub fn none(format: Format) -> Self {
        HookRun {
            registration: Registration::default(),
            environment: String::new(),
            metadata: Vec::new(),
            out: Output::new(format),
            outcomes: Vec::new(),
        }
    }

    /// Loads the project's plugins (once; only when there is at least one component, so a
    /// project without plugins never starts wasmtime) and resolves its hooks for `command`.
    pub fn load(
        g: &Globals,
        project: &Project,
        command: &str,
        dry_run: bool,
    ) -> anyhow::Result<Self> {
        let sources = PluginSources::from_project(project, &g.plugin_files);
        let mut run = HookRun::none(g.out.format);
        if sources.discover()?.is_empty() {
            return Ok(run);
        }
        let registration = load_registration(g, project, &sources)?;
        run.registration = registration;
        run.environment = project.env.name.clone();
        run.metadata = vec![
            ("run-id".into(), crate::db::run::run_id().to_string()),
            ("user".into(), crate::identity::current(None)),
            ("dry-run".into(), dry_run.to_string()),
            ("command".into(), command.into()),
        ];
        for (k, v) in &project.env.hooks.metadata {
            run.metadata.retain(|(key, _)| key != k);
            run.metadata.push((k.clone(), v.clone()));
        }
        Ok(run)
    }

    /// True when no hook fires on `event`.
    pub fn idle(&self, event: HookEvent) -> bool {
        self.registration.for_event(event).next().is_none()
    }

    /// Fires `event`: calls each hook registered for it, in order. A failure under `abort`
    /// stops there and returns [`HookStop::Abort`]; under `warn` it is reported on stderr; under
    /// `ignore` it is only recorded. A breach of the host's integrity stops there under every
    /// policy ([`HookStop::Integrity`]). `db` is what the hooks' database calls run on.
    pub async fn fire(
        &mut self,
        event: HookEvent,
        migration: Option<&MigrationRef>,
        status: Status,
        duration_ms: Option<u64>,
        error: Option<&str>,
        mut db: Option<&mut dyn HookDatabase>,
    ) -> Result<(), HookStop> {
        let hooks: Vec<_> = self.registration.for_event(event).cloned().collect();
        if hooks.is_empty() {
            return Ok(());
        }
        let name = event.name();
        let wit_migration = migration.map(MigrationRef::wit);
        let metadata: Vec<KeyValue> = self
            .metadata
            .iter()
            .map(|(key, value)| KeyValue {
                key: key.clone(),
                value: value.clone(),
            })
            .collect();
        let slug = migration.map(MigrationRef::slug);
        let about = slug.as_deref().map(|s| format!(" {s}")).unwrap_or_default();
        for hook in hooks {
            let context = HookContext {
                event: event.into(),
                migration: wit_migration.clone(),
                environment: self.environment.clone(),
                status: status.as_str().into(),
                duration_ms,
                error: error.map(str::to_string),
                metadata: metadata.clone(),
            };
            let started = Instant::now();
            // Re-borrow for this call only (shortening the trait object's lifetime).
            let this_db = db.as_deref_mut().map(|d| d as &mut dyn HookDatabase);
            let result = call_hook(&hook.plugin, context, this_db).await;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            let plugin = hook.plugin.name().to_string();
            let mut outcome = HookOutcome {
                plugin: plugin.clone(),
                event: name,
                migration: slug.clone(),
                outcome: "ok",
                policy: hook.policy,
                failure: None,
                message: None,
                duration_ms: (ms * 1000.0).round() / 1000.0,
            };
            match result {
                Ok(()) => {
                    self.out.line(format!(
                        "    {} {plugin} {name}{about} ({ms:.1} ms)",
                        paint(style::OK, "hook ok")
                    ));
                    self.outcomes.push(outcome);
                }
                Err(HookCallError::Integrity(breach)) => {
                    let message = breach.to_string();
                    outcome.outcome = "failed";
                    outcome.failure = Some(CallFailure::Integrity);
                    outcome.message = Some(message.clone());
                    self.outcomes.push(outcome);
                    self.out.line(format!(
                        "    {} {plugin} {name}{about} ({ms:.1} ms): {message}",
                        paint(style::ERR, "hook failed")
                    ));
                    return Err(HookStop::Integrity(breach));
                }
                Err(HookCallError::Plugin(err)) => {
                    let message = err.to_string();
                    outcome.outcome = "failed";
                    outcome.failure = Some(err.failure);
                    outcome.message = Some(message.clone());
                    self.outcomes.push(outcome);
                    match reaction(hook.policy, &plugin, name, &about, &message) {
                        Reaction::Stop(abort) => {
                            self.out.line(format!(
                                "    {} {plugin} {name}{about} ({ms:.1} ms): {message}",
                                paint(style::ERR, "hook failed")
                            ));
                            return Err(abort.into());
                        }
                        Reaction::Warn(warning) => self.out.warn(warning),
                        Reaction::Record => {}
                    }
                }
            }
        }
        Ok(())
    }

    /// Fires `on-error` with `error`; its own failures are recorded, never raised.
    pub async fn on_error(
        &mut self,
        migration: Option<&MigrationRef>,
        error: &str,
        db: Option<&mut dyn HookDatabase>,
    ) {
        if let Err(stop) = self
            .fire(
                HookEvent::OnError,
                migration,
                Status::Failed,
                None,
                Some(error),
                db,
            )
            .await
        {
            self.out.warn(format!(
                "{stop} (on-error hooks cannot stop a run that already failed)"
            ));
        }
    }
}

/// Loads the plugin set and resolves the hooks, printing configuration warnings.
pub fn load_registration(
    g: &Globals,
    project: &Project,
    sources: &PluginSources,
) -> anyhow::Result<Registration> {
    let set = crate::plugins::run::load(g, sources)?;
    let registration = Registration::resolve(&set, &project.env);
    for warning in &registration.warnings {
        g.out.warn(warning);
    }
    Ok(registration)
}

impl HookRun {
    /// Fires a run-level event (`pre-validate`, `post-validate`) with autocommit database
    /// access on `client`; a failure under `abort` becomes the run's error (exit 1).
    pub async fn validate(
        &mut self,
        event: HookEvent,
        client: &tokio_postgres::Client,
    ) -> anyhow::Result<()> {
        if self.idle(event) {
            return Ok(());
        }
        let mut db = crate::plugins::PgDatabase::autocommit(client);
        self.fire(event, None, Status::Pending, None, None, Some(&mut db))
            .await
            .map_err(|stop| {
                let hint = match &stop {
                    HookStop::Abort(_) => {
                        "no migration was applied or rolled back; fix what the hook reports, or \
                         set its `hooks.plugins.<name>.policy` to `warn` in the environment file"
                    }
                    HookStop::Integrity(_) => {
                        "no migration was applied or rolled back; remove or disable the plugin \
                         (`plugins.<name>.enabled: false`) and report it to its author"
                    }
                };
                crate::error::Failure::new(crate::error::ExitCode::Failure, stop.to_string())
                    .hint(hint)
                    .into()
            })
    }

    /// Fires `post-rollback` after `migration` was rolled back (with the error that caused it,
    /// if any), with autocommit database access on `client`. A failure under `abort` is
    /// returned (after a successful `migrate down` it stops the run).
    pub async fn rolled_back(
        &mut self,
        migration: &MigrationRef,
        duration_ms: Option<u64>,
        error: Option<&str>,
        client: &tokio_postgres::Client,
    ) -> Result<(), HookStop> {
        if self.idle(HookEvent::PostRollback) {
            return Ok(());
        }
        let mut db = crate::plugins::PgDatabase::autocommit(client);
        self.fire(
            HookEvent::PostRollback,
            Some(migration),
            Status::RolledBack,
            duration_ms,
            error,
            Some(&mut db),
        )
        .await
    }

    /// After a failed migration was rolled back: `post-rollback` then `on-error`, neither of
    /// which can change the outcome (their failures are recorded and warned about).
    pub async fn failed(
        &mut self,
        migration: Option<&MigrationRef>,
        rolled_back: bool,
        error: &anyhow::Error,
        client: &tokio_postgres::Client,
    ) {
        if self.registration.hooks.is_empty() {
            return;
        }
        let message = crate::error::one_line(error);
        if rolled_back
            && let Some(m) = migration
            && let Err(stop) = self.rolled_back(m, None, Some(&message), client).await
        {
            self.out.warn(format!(
                "{stop} (post-rollback hooks cannot stop a run that already failed)"
            ));
        }
        if !self.idle(HookEvent::OnError) {
            let mut db = crate::plugins::PgDatabase::autocommit(client);
            self.on_error(migration, &message, Some(&mut db)).await;
        }
    }

    /// The calls made so far, taken out for the report.
    pub fn take_outcomes(&mut self) -> Vec<HookOutcome> {
        std::mem::take(&mut self.outcomes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abort_stops_the_run_with_the_plugins_message() {
        let reaction = reaction(
            HookPolicy::Abort,
            "audit",
            "post-execute",
            " 001_users",
            "refusé: ❌",
        );
        let Reaction::Stop(abort) = reaction else {
            panic!("abort stops the run: {reaction:?}");
        };
        assert_eq!(
            abort,
            HookAbort {
                plugin: "audit".into(),
                event: "post-execute",
                message: "refusé: ❌".into(),
            }
        );
        assert_eq!(
            HookStop::from(abort).to_string(),
            "hook audit aborted the run on post-execute: refusé: ❌"
        );
    }

    #[test]
    fn only_abort_stops_warn_warns_and_ignore_records() {
        assert_eq!(
            reaction(
                HookPolicy::Warn,
                "audit",
                "pre-execute",
                " 002_posts",
                "boom"
            ),
            Reaction::Warn(
                "hook audit failed on pre-execute 002_posts (policy warn, the run continues): boom"
                    .into()
            )
        );
        assert_eq!(
            reaction(HookPolicy::Ignore, "audit", "pre-execute", "", "boom"),
            Reaction::Record
        );
        assert_eq!(
            HookPolicy::default(),
            HookPolicy::Abort,
            "a hook aborts unless told"
        );
    }
}
