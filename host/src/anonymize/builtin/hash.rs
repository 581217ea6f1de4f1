//! `hash`: the keyed HMAC of the value, in hex.

use anyhow::Result;

use crate::anonymize::column::ColumnType;
use crate::anonymize::keys::{push_hex, strategy_key};
use crate::anonymize::params::{ParamReader, Params};
use crate::anonymize::strategy::unsupported;
use crate::anonymize::writer::map_values;
use crate::anonymize::{KeyedHasher, Strategy, TextBatch};

/// Replaces each value with the first `length` hex digits of its keyed HMAC: equal inputs stay
/// equal (joins keep working), nothing about the input shows without the secret.
#[derive(Debug)]
pub struct Hash {
    key: KeyedHasher,
    length: usize,
}

impl Hash {
    /// Param `length` (hex digits, 1 to 64, default 16). Needs the secret.
    pub fn from_params(params: &Params, hasher: Option<KeyedHasher>) -> Result<Self> {
        let mut reader = ParamReader::new("hash", params);
        let length = reader.integer("length", 1, 64)?.unwrap_or(16) as usize;
        reader.finish()?;
        Ok(Hash {
            key: strategy_key("hash", hasher)?,
            length,
        })
    }
}

impl Strategy for Hash {
    fn name(&self) -> &str {
        "hash"
    }

    fn anonymize(&self, column: &ColumnType, values: &TextBatch) -> Result<TextBatch> {
        if !column.is_textual() {
            return Err(unsupported(self.name(), column, "text-like columns"));
        }
        let length = column
            .max_chars()
            .map_or(self.length, |max| max.min(self.length));
        map_values(self.name(), values, |value, out| {
            push_hex(out.buffer(), &self.key.hash(value.as_bytes()), length);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::anonymize::testing::{assert_keyed, build, run};

    #[test]
    fn keyed_hex_of_the_requested_length() {
        let values = [Some("alice"), None, Some("bob"), Some("alice")];
        assert_keyed("hash", "{}", "text", &values);
        let out = run(&*build("hash", "{length: 64}", "s"), "text", &values);
        assert_eq!(out[0].as_ref().unwrap().len(), 64);
        assert_eq!(out[0], out[3]);
        assert_ne!(out[0], out[2]);
        let out = run(&*build("hash", "{}", "s"), "character varying(5)", &values);
        assert_eq!(out[0].as_ref().unwrap().len(), 5);
        assert!(
            out[0]
                .as_ref()
                .unwrap()
                .bytes()
                .all(|b| b.is_ascii_hexdigit())
        );
        assert!(
            crate::anonymize::builtin::build(
                "hash",
                &crate::anonymize::testing::params("{length: 65}"),
                None
            )
            .unwrap()
            .is_err()
        );
    }
}
