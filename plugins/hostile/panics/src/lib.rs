//! Hostile test plugin `hostile-panics`: panics in every call. A hook on every event, strategy
//! `hostile_panics` and lint rule `hostile_panics`; the hook fails
//! with what it observed, the strategy returns it as every value. The host's sandbox must
//! contain it (see `plugins/hostile/README.md`).

use confiture_sdk::{
    Batch, Database, Hook, HookContext, HookEvent, Lint, LintContext, Plugin, Result, RuleInfo,
    Severity, Strategy, StrategyInfo, TextBatch, TextBatchBuilder, Violation,
};

/// The plugin.
#[derive(Default)]
pub struct Panics;

impl Plugin for Panics {
    const NAME: &'static str = "hostile-panics";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Hostile test plugin: panics in every call";
}

/// What the plugin does in every call; its text is what it observed.
fn attempt() -> String {
    let reason = std::hint::black_box("hostile-panics always panics");
    panic!("{reason}")
}

impl Hook for Panics {
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

impl Strategy for Panics {
    const STRATEGIES: &'static [StrategyInfo] = &[StrategyInfo {
        name: "hostile_panics",
        description: "Hostile test strategy: panics in every call",
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

impl Lint for Panics {
    const RULES: &'static [RuleInfo] = &[RuleInfo {
        id: "hostile_panics",
        category: "structure",
        default_severity: Severity::Warning,
        description: "Hostile test rule: panics in every call",
    }];

    fn check(&self, _context: &LintContext) -> Vec<Violation> {
        let observed = attempt();
        unreachable!("{observed}")
    }
}

confiture_sdk::export_plugin!(Panics: hook, strategy, lint);
