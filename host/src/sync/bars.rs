//! Progress on a terminal: one bar per table (rows, rows/s, ETA from the estimated row count),
//! drawn on stderr.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::catalog::TableName;
use super::progress::Progress;

/// Bars for the tables being copied.
pub struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<TableName, ProgressBar>>,
}

impl Bars {
    /// Bars on stderr.
    pub fn new() -> Self {
        Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
        }
    }

    fn bar(&self, table: &TableName) -> Option<ProgressBar> {
        self.bars.lock().expect("bars lock").get(table).cloned()
    }
}

impl Default for Bars {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for Bars {
    fn on_table_start(&self, table: &TableName, estimated_rows: u64) {
        let bar = self.multi.add(ProgressBar::new(estimated_rows.max(1)));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:<32} [{bar:30}] {human_pos:>11} rows  {per_sec:>12}  ETA {eta}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(table.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        self.bars
            .lock()
            .expect("bars lock")
            .insert(table.clone(), bar);
    }

    fn on_rows(&self, table: &TableName, n: u64) {
        if let Some(bar) = self.bar(table) {
            bar.inc(n);
            if bar.position() > bar.length().unwrap_or(0) {
                bar.set_length(bar.position());
            }
        }
    }

    fn on_table_done(&self, table: &TableName, rows: u64, _elapsed: Duration) {
        if let Some(bar) = self.bar(table) {
            bar.set_length(rows.max(1));
            bar.set_position(rows);
            bar.finish();
        }
    }

    fn on_group_failed(&self, tables: &[TableName], _error: &anyhow::Error) {
        for table in tables {
            if let Some(bar) = self.bar(table) {
                bar.abandon_with_message("rolled back");
            }
        }
    }
}
