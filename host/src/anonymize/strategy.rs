//! The [`Strategy`] trait every anonymizer implements, native or WebAssembly.

use super::TextBatch;
use super::column::ColumnType;

/// Replaces the values of one column, a batch at a time.
pub trait Strategy: Send + Sync {
    /// The name used in anonymization.yaml (e.g. "email").
    fn name(&self) -> &str;

    /// Replaces the values of one column batch. `column` is the column's type; returns exactly
    /// `values.len()` values. NULL stays NULL unless the strategy is configured otherwise (the
    /// `null` strategy makes everything NULL).
    fn anonymize(&self, column: &ColumnType, values: &TextBatch) -> anyhow::Result<TextBatch>;

    /// Other columns of the same rows this strategy reads (row context), in the order
    /// [`Strategy::anonymize_rows`] receives them. Built-ins read none.
    fn context_columns(&self) -> &[String] {
        &[]
    }

    /// [`Strategy::anonymize`] with the row context: `context[i]` holds the values of
    /// `context_columns()[i]` for the same rows. Strategies without context ignore it.
    fn anonymize_rows(
        &self,
        column: &ColumnType,
        values: &TextBatch,
        context: &[&TextBatch],
    ) -> anyhow::Result<TextBatch> {
        let _ = context;
        self.anonymize(column, values)
    }

    /// Checks, before any row is read, that this strategy can fill a column of type `column`
    /// (and that the column is wide enough for what it writes). By default a probe: the
    /// strategy run on no values, which type checks the column the way a real batch would.
    fn check_column(&self, column: &ColumnType) -> anyhow::Result<()> {
        let none = TextBatch::empty();
        let context = vec![&none; self.context_columns().len()];
        self.anonymize_rows(column, &none, &context).map(drop)
    }

    /// True when the host must check every value it returns against the column's type
    /// (plugins); built-ins are correct by construction and tested.
    fn needs_output_check(&self) -> bool {
        false
    }
}

/// A value a strategy returned that does not fit its column; `row` is its position in the
/// batch, so the caller can name the row by its key.
#[derive(Debug, thiserror::Error)]
#[error("value {row} of the batch is not a valid {type_name}: {problem}")]
pub struct InvalidOutput {
    /// Position in the batch.
    pub row: usize,
    /// The column's type.
    pub type_name: String,
    /// What is wrong, without the value itself.
    pub problem: String,
}

/// The error for a column type a strategy cannot fill; `handles` lists what it can.
pub(crate) fn unsupported(strategy: &str, column: &ColumnType, handles: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "strategy `{strategy}` cannot fill a column of type {column}; it handles {handles} \
         (pick another strategy for this column in anonymization.yaml)"
    )
}
