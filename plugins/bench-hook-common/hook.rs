// Shared body of the `bench-hook-*` plugins (each crate sets `NAME` and includes this file):
// a hook on every event that does nothing, so `cargo xtask bench-hooks` measures the host's
// cost per hook call (instantiate, pass the context, call, tear down).

use confiture_sdk::{Database, Hook, HookContext, HookEvent, Plugin, Result};

/// The plugin.
#[derive(Default)]
pub struct BenchHook;

impl Plugin for BenchHook {
    const NAME: &'static str = NAME;
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Benchmark hook: does nothing on every event";
}

impl Hook for BenchHook {
    const EVENTS: &'static [HookEvent] = &[
        HookEvent::PreValidate,
        HookEvent::PostValidate,
        HookEvent::PreExecute,
        HookEvent::PostExecute,
        HookEvent::PostRollback,
        HookEvent::OnError,
    ];

    fn handle(&self, _context: &HookContext, _db: &Database) -> Result<()> {
        Ok(())
    }
}

confiture_sdk::export_plugin!(BenchHook: hook);
