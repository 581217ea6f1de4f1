//! Hostile test plugin `hostile-read-file`: tries to read /etc/passwd. A hook on every event and strategy `hostile_read_file`; the hook fails
//! with what it observed, the strategy returns it as every value. The host's sandbox must
//! contain it (see `plugins/hostile/README.md`).

use confiture_sdk::{
    Batch, Database, Hook, HookContext, HookEvent, Plugin, Result, Strategy, StrategyInfo,
    TextBatch, TextBatchBuilder,
};

/// The plugin.
#[derive(Default)]
pub struct ReadFile;

impl Plugin for ReadFile {
    const NAME: &'static str = "hostile-read-file";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Hostile test plugin: tries to read /etc/passwd";
}

/// What the plugin does in every call; its text is what it observed.
fn attempt() -> String {
    match std::fs::read("/etc/passwd") {
        Ok(bytes) => format!("read /etc/passwd: {}", String::from_utf8_lossy(&bytes)),
        Err(error) => format!("could not read /etc/passwd: {error}"),
    }
}

impl Hook for ReadFile {
    const EVENTS: &'static [HookEvent] = &[
        HookEvent::PreValidate,
        HookEvent::PostValidate,
        HookEvent::PreExecute,
        HookEvent::PostExecute,
        HookEvent::PostRollback,
        HookEvent::OnError,
    ];

    fn handle(&self, _context: &HookContext, _db: &Database) -> Result<()> {
        Err(attempt().into())
    }
}

impl Strategy for ReadFile {
    const STRATEGIES: &'static [StrategyInfo] = &[StrategyInfo {
        name: "hostile_read_file",
        description: "Hostile test strategy: tries to read /etc/passwd",
        context_columns: &[],
        accepted_types: &[],
        deterministic: false,
    }];

    fn anonymize(&self, batch: &Batch<'_>) -> Result<TextBatch> {
        let observed = attempt();
        let mut out = TextBatchBuilder::new();
        for _ in 0..batch.values.len() {
            out.push_str(&observed);
        }
        Ok(out.finish())
    }
}

confiture_sdk::export_plugin!(ReadFile: hook, strategy);
