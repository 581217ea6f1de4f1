//! Hostile test plugin `hostile-memory-bomb`: allocates memory until it dies. A hook on every event and strategy `hostile_memory_bomb`; the hook fails
//! with what it observed, the strategy returns it as every value. The host's sandbox must
//! contain it (see `plugins/hostile/README.md`).

use confiture_sdk::{
    Batch, Database, Hook, HookContext, HookEvent, Plugin, Result, Strategy, StrategyInfo,
    TextBatch, TextBatchBuilder,
};

/// The plugin.
#[derive(Default)]
pub struct MemoryBomb;

impl Plugin for MemoryBomb {
    const NAME: &'static str = "hostile-memory-bomb";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Hostile test plugin: allocates memory until it dies";
}

/// What the plugin does in every call; its text is what it observed.
fn attempt() -> String {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        // 1 MiB at a time, touched so the pages are really used.
        hoard.push(vec![0xa5; 1 << 20]);
        std::hint::black_box(&hoard);
    }
}

impl Hook for MemoryBomb {
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

impl Strategy for MemoryBomb {
    const STRATEGIES: &'static [StrategyInfo] = &[StrategyInfo {
        name: "hostile_memory_bomb",
        description: "Hostile test strategy: allocates memory until it dies",
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

confiture_sdk::export_plugin!(MemoryBomb: hook, strategy);
