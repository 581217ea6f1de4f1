//! Hostile test plugin `hostile-costly-start`: a hook (on `pre-execute`) whose `describe` —
//! the first code the host runs once it has started the plugin — logs a trace line, fills
//! 48 MiB and keeps the CPU busy for a second. A disabled plugin must run no code at all, so
//! with `enabled: false` no trace may appear and nothing may cost (see
//! `plugins/hostile/README.md`).

wit_bindgen::generate!({
    path: "../../../wit",
    world: "hook-plugin",
});

use confiture::plugin::host::{LogLevel, log};
use confiture::plugin::types::HookEvent;
use exports::confiture::plugin::hooks::{self, HookContext};
use exports::confiture::plugin::metadata::{self, PluginInfo};

/// The line that proves the plugin ran.
const TRACE: &str = "hostile-costly-start is running";
/// Memory filled while describing.
const HOARD_BYTES: usize = 48 << 20;
/// CPU time spent while describing.
const BUSY: std::time::Duration = std::time::Duration::from_secs(1);

struct CostlyStart;

impl metadata::Guest for CostlyStart {
    fn describe() -> PluginInfo {
        log(LogLevel::Warn, TRACE);
        let hoard = vec![0xa5_u8; HOARD_BYTES];
        let started = std::time::Instant::now();
        let mut spins = 0_u64;
        while started.elapsed() < BUSY {
            spins = std::hint::black_box(spins.wrapping_add(u64::from(hoard[spins as usize % HOARD_BYTES])));
        }
        std::hint::black_box(&hoard);
        PluginInfo {
            name: "hostile-costly-start".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Hostile test plugin: burns memory and CPU as it describes itself".into(),
            capabilities: vec![],
            hooks: vec![HookEvent::PreExecute],
            strategies: vec![],
            rules: vec![],
        }
    }
}

impl hooks::Guest for CostlyStart {
    fn handle(_context: HookContext) -> Result<(), String> {
        log(LogLevel::Warn, TRACE);
        Ok(())
    }
}

export!(CostlyStart);
