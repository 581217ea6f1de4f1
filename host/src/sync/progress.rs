//! Progress reports for the CLI's bars.

use std::time::Duration;

use crate::sync::catalog::TableName;

/// Receives progress as the sync runs; called from several tasks at once. Every method does
/// nothing unless implemented.
pub trait Progress: Send + Sync {
    /// A table's copy starts.
    fn on_table_start(&self, _table: &TableName, _estimated_rows: u64) {}
    /// `n` more rows of `table` were read.
    fn on_rows(&self, _table: &TableName, _n: u64) {}
    /// A table was loaded (its group is not committed yet).
    fn on_table_done(&self, _table: &TableName, _rows: u64, _elapsed: Duration) {}
    /// A group failed and was rolled back: its tables are left as they were.
    fn on_group_failed(&self, _tables: &[TableName], _error: &anyhow::Error) {}
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
