//! `preserve`: values pass through unchanged.

use anyhow::Result;

use crate::anonymize::column::ColumnType;
use crate::anonymize::params::{ParamReader, Params};
use crate::anonymize::{KeyedHasher, Strategy, TextBatch};

/// Returns every value unchanged (for columns listed only to document that they are safe).
#[derive(Debug)]
pub struct Preserve;

impl Preserve {
    /// Takes no params; no secret needed.
    pub fn from_params(params: &Params, _hasher: Option<KeyedHasher>) -> Result<Self> {
        ParamReader::new("preserve", params).finish()?;
        Ok(Preserve)
    }
}

impl Strategy for Preserve {
    fn name(&self) -> &str {
        "preserve"
    }

    fn anonymize(&self, _column: &ColumnType, values: &TextBatch) -> Result<TextBatch> {
        Ok(values.clone())
    }
}

#[cfg(test)]
mod tests {
    use crate::anonymize::testing::{build, run};

    #[test]
    fn passes_values_through() {
        let values = [Some("a"), None, Some("2024-01-01")];
        let out = run(&*build("preserve", "{}", "s"), "text", &values);
        assert_eq!(out, [Some("a".into()), None, Some("2024-01-01".into())]);
        let out = run(
            &*build("preserve", "{}", "s"),
            "integer",
            &[Some("42"), None],
        );
        assert_eq!(out, [Some("42".into()), None]);
    }
}
