//! Hostile test plugin `hostile-endless-loop`: loops forever. A hook on every event and strategy `hostile_endless_loop`; the hook fails
//! with what it observed, the strategy returns it as every value. The host's sandbox must
//! contain it (see `plugins/hostile/README.md`).

use confiture_sdk::{
    Batch, Database, Hook, HookContext, HookEvent, Plugin, Result, Strategy, StrategyInfo,
    TextBatch, TextBatchBuilder,
};

/// The plugin.
#[derive(Default)]
pub struct EndlessLoop;

impl Plugin for EndlessLoop {
    const NAME: &'static str = "hostile-endless-loop";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Hostile test plugin: loops forever";
}

/// What the plugin does in every call; its text is what it observed.
fn attempt() -> String {
    let mut turns: u64 = 0;
    loop {
        turns = std::hint::black_box(turns.wrapping_add(1));
    }
}

impl Hook for EndlessLoop {
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

impl Strategy for EndlessLoop {
    const STRATEGIES: &'static [StrategyInfo] = &[StrategyInfo {
        name: "hostile_endless_loop",
        description: "Hostile test strategy: loops forever",
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

confiture_sdk::export_plugin!(EndlessLoop: hook, strategy);
