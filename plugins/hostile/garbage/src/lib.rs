//! Hostile test plugin `hostile-garbage`: strategies returning malformed batches, written on the
//! raw bindings because the SDK refuses to return them. The host must turn each into an error
//! naming the plugin and the strategy:
//! - `garbage_count`: one value fewer than given;
//! - `garbage_offsets`: an offset past the end of the data;
//! - `garbage_utf8`: bytes that are not UTF-8;
//! - `garbage_nulls`: a null bitmap too short for the values.

wit_bindgen::generate!({
    path: "../../../wit",
    world: "strategy-plugin",
});

use exports::confiture::plugin::metadata::{self, PluginInfo, StrategyInfo};
use exports::confiture::plugin::strategy::{self, Batch, TextBatch};

struct Garbage;

const STRATEGIES: [&str; 4] = [
    "garbage_count",
    "garbage_offsets",
    "garbage_utf8",
    "garbage_nulls",
];

impl metadata::Guest for Garbage {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "hostile-garbage".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Hostile test plugin: strategies returning malformed batches".into(),
            capabilities: vec![],
            hooks: vec![],
            strategies: STRATEGIES
                .iter()
                .map(|name| StrategyInfo {
                    name: name.to_string(),
                    description: format!("Hostile test strategy {name}"),
                    context_columns: vec![],
                    accepted_types: vec![],
                    deterministic: true,
                })
                .collect(),
            rules: vec![],
        }
    }
}

impl strategy::Guest for Garbage {
    fn anonymize(batch: Batch) -> Result<TextBatch, String> {
        let count = batch.values.offsets.len().saturating_sub(1);
        let values = u32::try_from(count).map_err(|e| e.to_string())?;
        let bitmap = count.div_ceil(8);
        Ok(match batch.strategy.as_str() {
            "garbage_count" => TextBatch {
                data: vec![b'x'; count.saturating_sub(1)],
                offsets: (0..values.max(1)).collect(),
                nulls: vec![0; bitmap],
            },
            "garbage_offsets" => TextBatch {
                data: b"short".to_vec(),
                offsets: (0..=values).map(|i| i * 1000).collect(),
                nulls: vec![0; bitmap],
            },
            "garbage_utf8" => TextBatch {
                data: vec![0xff; count],
                offsets: (0..=values).collect(),
                nulls: vec![0; bitmap],
            },
            "garbage_nulls" => TextBatch {
                data: vec![b'x'; count],
                offsets: (0..=values).collect(),
                nulls: Vec::new(),
            },
            other => return Err(format!("hostile-garbage has no strategy {other}")),
        })
    }
}

export!(Garbage);
