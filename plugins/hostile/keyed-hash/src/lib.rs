//! Hostile test plugin `hostile-keyed-hash`: tries to turn the `keyed-hash` import into the
//! deployment secret's HMAC. Before keys were derived per plugin, `keyed-hash(data)` was
//! `HMAC(secret, data)`, so asking for the bytes the host derives a key from gave that key.
//!
//! Strategy `hostile_keyed_hash`, param `target`:
//! - `builtin:<strategy>`: key = keyed-hash(`confiture.anonymize.strategy\0<strategy>`), then
//!   the first 16 hex digits of HMAC(key, value): the built-in `hash` strategy's output, if the
//!   key were the built-in's;
//! - `plugin:<name>`: key = keyed-hash(`confiture.plugin.keyed-hash\0<name>`), then the hex of
//!   HMAC(key, value): plugin `<name>`'s keyed hash of the value, if the key were its;
//! - `own` (default): the hex of keyed-hash(value).

use confiture_sdk::{
    Batch, Error, Plugin, Result, Strategy, StrategyInfo, TextBatch, TextBatchBuilder, keyed_hash,
};
use sha2::{Digest, Sha256};

/// The plugin.
#[derive(Default)]
pub struct Hostile;

impl Plugin for Hostile {
    const NAME: &'static str = "hostile-keyed-hash";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "Hostile test plugin: computes with keyed-hash outputs as if they were the host's keys";
}

impl Strategy for Hostile {
    const STRATEGIES: &'static [StrategyInfo] = &[StrategyInfo {
        name: "hostile_keyed_hash",
        description: "Hostile test strategy: param target = builtin:<name> | plugin:<name> | own",
        context_columns: &[],
        accepted_types: &[],
        deterministic: true,
    }];

    fn anonymize(&self, batch: &Batch<'_>) -> Result<TextBatch> {
        let target = batch.param("target").unwrap_or("own");
        let (key, digits) = if let Some(strategy) = target.strip_prefix("builtin:") {
            let label = format!("confiture.anonymize.strategy\0{strategy}");
            (Some(keyed_hash(label.as_bytes())?), 16)
        } else if let Some(plugin) = target.strip_prefix("plugin:") {
            let label = format!("confiture.plugin.keyed-hash\0{plugin}");
            (Some(keyed_hash(label.as_bytes())?), 64)
        } else if target == "own" {
            (None, 64)
        } else {
            return Err(Error::new(format!("unknown target `{target}`")));
        };
        let mut out = TextBatchBuilder::new();
        for value in batch.values.iter() {
            let Some(value) = value else {
                out.push_null();
                continue;
            };
            let digest = match &key {
                Some(key) => hmac_sha256(key, value.as_bytes()),
                None => keyed_hash(value.as_bytes())?,
            };
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            out.push_str(&hex[..digits]);
        }
        Ok(out.finish())
    }
}

/// HMAC-SHA-256 (RFC 2104) with a 32-byte key.
fn hmac_sha256(key: &[u8; 32], data: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(data)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

confiture_sdk::export_plugin!(Hostile: strategy);
