//! Anonymization strategies: the [`Strategy`] trait and the batch it is given.

use crate::{Plugin, Result, StrategyInfo, TextBatch, TextBatchView};

/// An anonymization strategy (or several: a plugin names them in [`Strategy::STRATEGIES`] and
/// tells them apart by [`Batch::strategy`]). Implement it with [`Plugin`] and export with
/// `confiture_sdk::export_plugin!(MyStrategy: strategy)`.
pub trait Strategy: Plugin {
    /// The strategies provided.
    const STRATEGIES: &'static [StrategyInfo];

    /// Replaces one batch of a column's values: return exactly as many values as
    /// `batch.values.len()`, in order, built with [`crate::TextBatchBuilder`]. An error fails the
    /// table being copied.
    fn anonymize(&self, batch: &Batch<'_>) -> Result<TextBatch>;
}

/// The column being anonymized.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Column {
    /// Schema, e.g. `public`.
    pub schema: String,
    /// Table name.
    pub table: String,
    /// Column name.
    pub name: String,
    /// PostgreSQL type as `format_type` prints it (e.g. `character varying(255)`).
    pub type_name: String,
}

/// One call's worth of values, read in place from what the host sent.
#[derive(Clone, Debug)]
pub struct Batch<'a> {
    /// The strategy asked for (a plugin may provide several).
    pub strategy: &'a str,
    /// The column.
    pub column: &'a Column,
    /// The strategy's parameters from `anonymization.yaml`.
    pub params: &'a [(String, String)],
    /// The values to replace.
    pub values: TextBatchView<'a>,
    /// The declared context columns: name and the same rows' values.
    pub context: Vec<(&'a str, TextBatchView<'a>)>,
}

impl<'a> Batch<'a> {
    /// A batch of `values` for `strategy` on `column`, no parameters nor context (for unit
    /// tests; add them through the public fields).
    pub fn new(strategy: &'a str, column: &'a Column, values: TextBatchView<'a>) -> Self {
        Self {
            strategy,
            column,
            params: &[],
            values,
            context: Vec::new(),
        }
    }

    /// Parameter `key` from `anonymization.yaml`.
    pub fn param(&self, key: &str) -> Option<&'a str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, value)| value.as_str())
    }

    /// The values of context column `name`, row for row with [`Batch::values`].
    pub fn context(&self, name: &str) -> Option<TextBatchView<'a>> {
        self.context
            .iter()
            .find(|(column, _)| *column == name)
            .map(|(_, values)| *values)
    }
}
