//! Hostile test plugin `hostile-log-flood`: a hook (on `pre-execute`) that writes a million log
//! lines — half through the log import, half on stdout — then succeeds. The host must
//! rate-limit what reaches the terminal, say how much it dropped, and finish the run.

use confiture_sdk::{Hook, HookContext};

/// Lines written per call.
const LINES: usize = 1_000_000;

/// The plugin.
#[derive(Default)]
pub struct Hostile;

impl confiture_sdk::Plugin for Hostile {
    const NAME: &'static str = "hostile-log-flood";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Hostile test plugin: writes a million log lines per call";
}

impl Hook for Hostile {
    const EVENTS: &'static [confiture_sdk::HookEvent] = &[confiture_sdk::HookEvent::PreExecute];

    fn handle(
        &self,
        _context: &HookContext,
        _db: &confiture_sdk::Database,
    ) -> confiture_sdk::Result<()> {
        for i in 0..LINES / 2 {
            confiture_sdk::log(confiture_sdk::Level::Warn, &format!("flood line {i}"));
            println!("flood stdout line {i}");
        }
        Ok(())
    }
}

confiture_sdk::export_plugin!(Hostile: hook);
