//! Hook plugin `hook-recorder` (every event, asks `db-read` and `db-write`): a test and
//! debugging hook. For each event it logs one line at info level describing the event and its
//! context (`recorded event=... migration=... status=...`), so tests and people can see what
//! the host fires, in which order, with what. Config keys:
//! - `fail_on`: an event name (`post-execute`, ...) or `all`; the hook fails on it;
//! - `query_sql`: SQL run with `query` on every per-migration event (`db-read`);
//! - `execute_sql`: SQL run with `execute` on every per-migration event (`db-write`);
//! - `spin_on`: an event name; the hook loops forever on it (the host's time limit stops it);
//! - `panic_on`: an event name; the hook panics on it (a trap).

use confiture_sdk::{Capability, Error, config};
use confiture_sdk::{Database, Direction, Hook, HookContext, HookEvent, Plugin, Result};

/// The plugin.
#[derive(Default)]
pub struct Recorder;

impl Plugin for Recorder {
    const NAME: &'static str = "hook-recorder";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Logs every hook event and its context";
    const CAPABILITIES: &'static [Capability] = &[Capability::DbRead, Capability::DbWrite];
}

fn event_name(event: HookEvent) -> &'static str {
    match event {
        HookEvent::PreValidate => "pre-validate",
        HookEvent::PostValidate => "post-validate",
        HookEvent::PreExecute => "pre-execute",
        HookEvent::PostExecute => "post-execute",
        HookEvent::PostRollback => "post-rollback",
        HookEvent::OnError => "on-error",
    }
}

fn matches(key: &str, event: &str) -> bool {
    config(key).is_some_and(|v| v == "all" || v.split(',').any(|e| e.trim() == event))
}

impl Hook for Recorder {
    const EVENTS: &'static [HookEvent] = &[
        HookEvent::PreValidate,
        HookEvent::PostValidate,
        HookEvent::PreExecute,
        HookEvent::PostExecute,
        HookEvent::PostRollback,
        HookEvent::OnError,
    ];

    fn handle(&self, context: &HookContext, db: &Database) -> Result<()> {
        let event = event_name(context.event);
        let migration = context.migration.as_ref().map_or_else(
            || "-".to_string(),
            |m| {
                let direction = match m.direction {
                    Direction::Up => "up",
                    Direction::Down => "down",
                };
                format!(
                    "{}_{} direction={direction} path={} checksum={} sql_bytes={}",
                    m.version,
                    m.name,
                    m.path,
                    m.checksum,
                    m.sql.len()
                )
            },
        );
        let metadata = context
            .metadata
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        confiture_sdk::info!(
            "recorded event={event} migration={migration} environment={} status={} duration={} \
             error={} metadata={metadata}",
            context.environment,
            context.status,
            context
                .duration_ms
                .map_or("-".to_string(), |d| d.to_string()),
            context.error.as_deref().unwrap_or("-").replace('\n', " "),
        );
        if matches("spin_on", event) {
            let mut turns: u64 = 0;
            loop {
                turns = std::hint::black_box(turns.wrapping_add(1));
            }
        }
        if matches("panic_on", event) {
            panic!("hook-recorder panics on {event}");
        }
        if context.migration.is_some() {
            if let Some(sql) = config("query_sql") {
                let rows = db
                    .query(&sql, &[])
                    .map_err(|e| Error::new(format!("query failed: {}: {}", e.code, e.message)))?;
                confiture_sdk::info!("query returned {} row(s)", rows.values.len());
            }
            if let Some(sql) = config("execute_sql") {
                let count = db.execute(&sql, &[]).map_err(|e| {
                    Error::new(format!("execute failed: {}: {}", e.code, e.message))
                })?;
                confiture_sdk::info!("execute affected {count} row(s)");
            }
        }
        if matches("fail_on", event) {
            return Err(Error::new(format!(
                "hook-recorder fails on {event} as configured"
            )));
        }
        Ok(())
    }
}

confiture_sdk::export_plugin!(Recorder: hook);
