//! Hostile test plugin `hostile-other-contract`: a valid strategy plugin, but built against
//! `confiture:plugin@1.0.0` (the copy of the WIT in `wit/`), a major version this host does not
//! speak. The host must refuse to load it with an error naming the file and the versions.

wit_bindgen::generate!({
    path: "wit",
    world: "strategy-plugin",
});

use exports::confiture::plugin::metadata::{self, PluginInfo, StrategyInfo};
use exports::confiture::plugin::strategy::{self, Batch, TextBatch};

struct OtherContract;

impl metadata::Guest for OtherContract {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "hostile-other-contract".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Hostile test plugin: built against confiture:plugin@1.0.0".into(),
            capabilities: vec![],
            hooks: vec![],
            strategies: vec![StrategyInfo {
                name: "other_contract_identity".into(),
                description: "Returns the values unchanged".into(),
                context_columns: vec![],
                accepted_types: vec![],
                deterministic: true,
            }],
            rules: vec![],
        }
    }
}

impl strategy::Guest for OtherContract {
    fn anonymize(batch: Batch) -> Result<TextBatch, String> {
        Ok(batch.values)
    }
}

export!(OtherContract);
