//! `uuid`: keyed version-4 UUIDs.

use anyhow::Result;

use crate::anonymize::column::{ColumnType, Kind};
use crate::anonymize::keys::{push_hex, strategy_key};
use crate::anonymize::params::{ParamReader, Params};
use crate::anonymize::strategy::unsupported;
use crate::anonymize::writer::map_values;
use crate::anonymize::{KeyedHasher, Strategy, TextBatch};

/// Replaces each value with a UUID made from its keyed HMAC, with the version-4 and variant
/// bits set, in canonical lowercase form. Keyed on the value's hex digits (case and hyphens
/// ignored), so one UUID maps to the same UUID in every table (foreign keys still join).
#[derive(Debug)]
pub struct Uuid {
    key: KeyedHasher,
}

impl Uuid {
    /// Takes no params. Needs the secret.
    pub fn from_params(params: &Params, hasher: Option<KeyedHasher>) -> Result<Self> {
        ParamReader::new("uuid", params).finish()?;
        Ok(Uuid {
            key: strategy_key("uuid", hasher)?,
        })
    }
}

/// Appends `bytes` as a canonical lowercase UUID (8-4-4-4-12).
pub(crate) fn push_uuid(out: &mut String, bytes: &[u8; 16]) {
    for (i, range) in [0..4, 4..6, 6..8, 8..10, 10..16].into_iter().enumerate() {
        if i > 0 {
            out.push('-');
        }
        push_hex(out, &bytes[range.clone()], 2 * range.len());
    }
}

impl Strategy for Uuid {
    fn name(&self) -> &str {
        "uuid"
    }

    fn anonymize(&self, column: &ColumnType, values: &TextBatch) -> Result<TextBatch> {
        if !(column.is_textual() || *column.kind() == Kind::Uuid && !column.is_array()) {
            return Err(unsupported(
                self.name(),
                column,
                "uuid and text-like columns",
            ));
        }
        if column.max_chars().is_some_and(|max| max < 36) {
            return Err(unsupported(
                self.name(),
                column,
                "columns of 36 characters or more",
            ));
        }
        let mut hex = Vec::with_capacity(32);
        map_values(self.name(), values, |value, out| {
            hex.clear();
            hex.extend(
                value
                    .bytes()
                    .filter(u8::is_ascii_hexdigit)
                    .map(|b| b.to_ascii_lowercase()),
            );
            let digest = self.key.hash(&hex);
            let mut bytes = [0; 16];
            bytes.copy_from_slice(&digest[..16]);
            bytes[6] = (bytes[6] & 0x0f) | 0x40;
            bytes[8] = (bytes[8] & 0x3f) | 0x80;
            push_uuid(out.buffer(), &bytes);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::anonymize::testing::{assert_keyed, build, run, run_err};

    #[test]
    fn version_four_canonical_and_keyed() {
        let values = [
            Some("123e4567-e89b-12d3-a456-426614174000"),
            None,
            Some("00000000-0000-0000-0000-000000000000"),
            Some("123E4567E89B12D3A456426614174000"),
        ];
        assert_keyed("uuid", "{}", "uuid", &values);
        let out = run(&*build("uuid", "{}", "s"), "uuid", &values);
        for v in out.iter().flatten() {
            assert_eq!(v.len(), 36);
            assert_eq!(&v[14..15], "4", "{v}");
            assert!("89ab".contains(&v[19..20]), "{v}");
            assert_eq!(v.to_lowercase(), *v);
        }
        assert_eq!(out[0], out[3], "case and hyphens are ignored");
        assert_ne!(out[0], out[2]);
        run(&*build("uuid", "{}", "s"), "text", &values);
        let error = run_err(&*build("uuid", "{}", "s"), "character varying(20)", &values);
        assert!(error.contains("36 characters"), "{error}");
    }

    #[test]
    fn a_column_fits_a_uuid_or_is_refused_before_any_value() {
        let strategy = build("uuid", "{}", "s");
        let value = [Some("123e4567-e89b-12d3-a456-426614174000")];
        let out = run(&*strategy, "character varying(36)", &value);
        assert_eq!(out[0].as_ref().unwrap().len(), 36);
        for column in ["character varying(35)", "uuid[]", "integer"] {
            let error = run_err(&*strategy, column, &value);
            assert!(error.contains("cannot fill"), "{column}: {error}");
        }
    }
}
