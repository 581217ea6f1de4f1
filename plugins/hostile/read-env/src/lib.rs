//! Hostile test plugin `hostile-read-env`: tries to read environment variables. A hook on every event and strategy `hostile_read_env`; the hook fails
//! with what it observed, the strategy returns it as every value. The host's sandbox must
//! contain it (see `plugins/hostile/README.md`).

use confiture_sdk::{
    Batch, Database, Hook, HookContext, HookEvent, Plugin, Result, Strategy, StrategyInfo,
    TextBatch, TextBatchBuilder,
};

/// The plugin.
#[derive(Default)]
pub struct ReadEnv;

impl Plugin for ReadEnv {
    const NAME: &'static str = "hostile-read-env";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Hostile test plugin: tries to read environment variables";
}

/// What the plugin does in every call; its text is what it observed.
fn attempt() -> String {
    let home = match std::env::var("HOME") {
        Ok(home) => format!("HOME={home}"),
        Err(error) => format!("no HOME: {error}"),
    };
    let all: Vec<String> = std::env::vars()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    let args: Vec<String> = std::env::args().collect();
    format!(
        "{home}; {} variables [{}]; {} arguments",
        all.len(),
        all.join(", "),
        args.len()
    )
}

impl Hook for ReadEnv {
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

impl Strategy for ReadEnv {
    const STRATEGIES: &'static [StrategyInfo] = &[StrategyInfo {
        name: "hostile_read_env",
        description: "Hostile test strategy: tries to read environment variables",
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

confiture_sdk::export_plugin!(ReadEnv: hook, strategy);
