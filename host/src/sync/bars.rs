//! Progress on a terminal: one bar per table (rows, rows/s, ETA from the estimated row count),
//! drawn on stderr.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use super::catalog::TableName;
use super::progress::Progress;

/// Rows per second, rounded, with thousands separators: `71,533 rows/s`.
fn rate(per_sec: f64) -> String {
    let whole = per_sec.max(0.0).round() as u64;
    let digits = whole.to_string();
    let mut out = String::with_capacity(digits.len() + 10);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out.push_str(" rows/s");
    out
}

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
                "{prefix:<32} [{bar:30}] {human_pos:>11} rows  {rate:>12}  ETA {eta}",
            )
            .expect("a valid template")
            .with_key(
                "rate",
                |state: &ProgressState, out: &mut dyn std::fmt::Write| {
                    let _ = write!(out, "{}", rate(state.per_sec()));
                },
            )
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

#[cfg(test)]
mod tests {
    use super::rate;

    #[test]
    fn rates_are_rounded_whole_rows() {
        assert_eq!(rate(71_532.923_5), "71,533 rows/s");
        assert_eq!(rate(0.4), "0 rows/s");
        assert_eq!(rate(1_234_567.5), "1,234,568 rows/s");
    }
}
