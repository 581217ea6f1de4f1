//! `redact`: one fixed replacement for every value.

use anyhow::Result;

use crate::anonymize::column::ColumnType;
use crate::anonymize::params::{ParamReader, Params};
use crate::anonymize::strategy::unsupported;
use crate::anonymize::writer::map_values;
use crate::anonymize::{KeyedHasher, Strategy, TextBatch};

/// Replaces every value with a fixed text, cut to the column's length.
#[derive(Debug)]
pub struct Redact {
    with: String,
}

impl Redact {
    /// Param `with` (default `[REDACTED]`); no secret needed.
    pub fn from_params(params: &Params, _hasher: Option<KeyedHasher>) -> Result<Self> {
        let mut reader = ParamReader::new("redact", params);
        let with = reader.string("with")?.unwrap_or("[REDACTED]").to_string();
        reader.finish()?;
        anyhow::ensure!(
            !with.contains('\0'),
            "strategy `redact`: param `with` contains a NUL character, which PostgreSQL text cannot hold"
        );
        Ok(Redact { with })
    }
}

impl Strategy for Redact {
    fn name(&self) -> &str {
        "redact"
    }

    fn anonymize(&self, column: &ColumnType, values: &TextBatch) -> Result<TextBatch> {
        if !column.is_textual() {
            return Err(unsupported(self.name(), column, "text-like columns"));
        }
        let max = column.max_chars();
        map_values(self.name(), values, |_, out| {
            out.push_str(&self.with);
            if let Some(max) = max {
                out.truncate_chars(max);
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::anonymize::testing::{build, run, run_err};

    #[test]
    fn replaces_and_fits_the_column() {
        let values = [Some("123-45-6789"), None];
        let out = run(&*build("redact", "{}", "s"), "text", &values);
        assert_eq!(out, [Some("[REDACTED]".into()), None]);
        let out = run(
            &*build("redact", "{}", "s"),
            "character varying(4)",
            &values,
        );
        assert_eq!(out[0].as_deref(), Some("[RED"));
        let out = run(
            &*build("redact", "{with: ééé}", "s"),
            "character(2)",
            &values,
        );
        assert_eq!(out[0].as_deref(), Some("éé"));
        let error = run_err(&*build("redact", "{}", "s"), "integer", &values);
        assert!(
            error.contains("cannot fill a column of type integer"),
            "{error}"
        );
    }
}
