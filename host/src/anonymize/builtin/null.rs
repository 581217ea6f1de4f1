//! `null`: every value becomes NULL.

use anyhow::Result;

use crate::anonymize::column::ColumnType;
use crate::anonymize::params::{ParamReader, Params};
use crate::anonymize::writer::BatchWriter;
use crate::anonymize::{KeyedHasher, Strategy, TextBatch};

/// Replaces every value with NULL (the column must be nullable).
#[derive(Debug)]
pub struct Null;

impl Null {
    /// Takes no params; no secret needed.
    pub fn from_params(params: &Params, _hasher: Option<KeyedHasher>) -> Result<Self> {
        ParamReader::new("null", params).finish()?;
        Ok(Null)
    }
}

impl Strategy for Null {
    fn name(&self) -> &str {
        "null"
    }

    fn anonymize(&self, _column: &ColumnType, values: &TextBatch) -> Result<TextBatch> {
        let mut writer = BatchWriter::with_capacity(values.len(), 0);
        for _ in 0..values.len() {
            writer.push_null()?;
        }
        Ok(writer.finish())
    }
}

#[cfg(test)]
mod tests {
    use crate::anonymize::testing::{build, run};

    #[test]
    fn everything_becomes_null() {
        let values = [
            Some("a"),
            None,
            Some("b"),
            Some(""),
            Some("c"),
            Some("d"),
            Some("e"),
            Some("f"),
            Some("g"),
        ];
        let out = run(&*build("null", "{}", "s"), "integer", &values);
        assert_eq!(out, vec![None; 9]);
    }
}
