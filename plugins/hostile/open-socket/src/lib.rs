//! Hostile test plugin `hostile-open-socket`: tries to connect to 127.0.0.1:5432. A hook on every event and strategy `hostile_open_socket`; the hook fails
//! with what it observed, the strategy returns it as every value. The host's sandbox must
//! contain it (see `plugins/hostile/README.md`).

use confiture_sdk::{
    Batch, Database, Hook, HookContext, HookEvent, Plugin, Result, Strategy, StrategyInfo,
    TextBatch, TextBatchBuilder,
};

/// The plugin.
#[derive(Default)]
pub struct OpenSocket;

impl Plugin for OpenSocket {
    const NAME: &'static str = "hostile-open-socket";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Hostile test plugin: tries to connect to 127.0.0.1:5432";
}

/// What the plugin does in every call; its text is what it observed.
fn attempt() -> String {
    match std::net::TcpStream::connect("127.0.0.1:5432") {
        Ok(stream) => format!("connected to {:?}", stream.peer_addr()),
        Err(error) => format!("could not connect to 127.0.0.1:5432: {error}"),
    }
}

impl Hook for OpenSocket {
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

impl Strategy for OpenSocket {
    const STRATEGIES: &'static [StrategyInfo] = &[StrategyInfo {
        name: "hostile_open_socket",
        description: "Hostile test strategy: tries to connect to 127.0.0.1:5432",
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

confiture_sdk::export_plugin!(OpenSocket: hook, strategy);
