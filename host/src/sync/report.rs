//! What `confiture sync` prints: the run's summary (text or JSON) and the dry run's plan and
//! samples.

use std::io::Write;

use serde::Serialize;

use super::masking::MaskedColumn;
use super::run::{DryRunReport, SyncReport, TableStatus};
use crate::output::Report;

/// One table of the summary.
#[derive(Debug, Serialize)]
pub struct TableSummary {
    /// `schema.table`.
    pub table: String,
    /// `copied`, `skipped` (committed by an earlier run, see `--resume`) or `failed`.
    pub status: &'static str,
    /// Why its group failed; the target table is as it was.
    pub error: Option<String>,
    /// Rows read from the source snapshot.
    pub rows_read: u64,
    /// Rows in the target after the load (checked equal to `rows_read`).
    pub rows_written: u64,
    /// Load time in milliseconds.
    pub elapsed_ms: u64,
    /// Source connections that read it (CTID ranges).
    pub readers: usize,
    /// Sequences set past the copied maximum: `sequence = value`.
    pub sequences: Vec<String>,
}

/// A table whose target has columns the source lacks.
#[derive(Debug, Serialize)]
pub struct TargetDefaults {
    /// `schema.table`.
    pub table: String,
    /// The target's columns filled with their defaults (or NULL).
    pub columns: Vec<String>,
}

fn target_defaults(tables: &[(crate::sync::TableName, Vec<String>)]) -> Vec<TargetDefaults> {
    tables
        .iter()
        .map(|(table, columns)| TargetDefaults {
            table: table.to_string(),
            columns: columns.clone(),
        })
        .collect()
}

fn render_target_defaults(out: &mut dyn Write, tables: &[TargetDefaults]) -> std::io::Result<()> {
    for t in tables {
        writeln!(
            out,
            "{}: the target's column(s) {} are not in the source and get their defaults",
            t.table,
            t.columns.join(", ")
        )?;
    }
    Ok(())
}

/// The result of `confiture sync` (the JSON output).
#[derive(Debug, Serialize)]
pub struct SyncSummary {
    /// The source, redacted.
    pub from: String,
    /// The target, redacted.
    pub to: String,
    /// The source snapshot every table was read from.
    pub snapshot: String,
    /// True when anonymization was applied.
    pub anonymized: bool,
    /// Every table, in load order.
    pub tables: Vec<TableSummary>,
    /// The anonymized columns, with those reached through foreign keys.
    pub masked_columns: Vec<MaskedColumn>,
    /// Target columns the source lacks, filled with their defaults.
    pub target_defaults: Vec<TargetDefaults>,
    /// Groups left alone because the checkpoint lists them.
    pub skipped_groups: usize,
    /// Groups that failed and were rolled back.
    pub failed_groups: usize,
    /// Total rows written.
    pub rows: u64,
    /// Wall time in milliseconds.
    pub elapsed_ms: u64,
    /// Warnings (also printed on stderr).
    pub warnings: Vec<String>,
}

impl SyncSummary {
    /// The summary of `report`.
    pub fn new(
        from: String,
        to: String,
        report: &SyncReport,
        masked_columns: Vec<MaskedColumn>,
        anonymized: bool,
        elapsed_ms: u64,
        warnings: Vec<String>,
    ) -> Self {
        let tables: Vec<TableSummary> = report
            .tables
            .iter()
            .map(|t| {
                let (status, error) = match &t.status {
                    TableStatus::Copied => ("copied", None),
                    TableStatus::Skipped => ("skipped", None),
                    TableStatus::Failed { error } => ("failed", Some(error.clone())),
                };
                TableSummary {
                    table: t.table.to_string(),
                    status,
                    error,
                    rows_read: t.rows_read,
                    rows_written: t.rows_written,
                    elapsed_ms: t.elapsed.as_millis() as u64,
                    readers: t.readers,
                    sequences: t
                        .sequences
                        .iter()
                        .map(|s| format!("{} = {}", s.sequence, s.value))
                        .collect(),
                }
            })
            .collect();
        SyncSummary {
            from,
            to,
            snapshot: report.snapshot.clone(),
            anonymized,
            rows: tables.iter().map(|t| t.rows_written).sum(),
            tables,
            masked_columns,
            target_defaults: target_defaults(&report.target_defaults),
            skipped_groups: report.skipped_groups,
            failed_groups: report.failed_groups,
            elapsed_ms,
            warnings,
        }
    }
}

impl Report for SyncSummary {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        render_target_defaults(out, &self.target_defaults)?;
        for t in &self.tables {
            match t.status {
                "copied" => writeln!(
                    out,
                    "copied  {:<40} {:>10} rows  {:>7} ms{}",
                    t.table,
                    t.rows_written,
                    t.elapsed_ms,
                    if t.readers > 1 {
                        format!("  ({} readers)", t.readers)
                    } else {
                        String::new()
                    }
                )?,
                "skipped" => {
                    writeln!(out, "skipped {:<40} (committed by an earlier run)", t.table)?
                }
                _ => writeln!(
                    out,
                    "FAILED  {:<40} left as it was: {}",
                    t.table,
                    t.error.as_deref().unwrap_or("")
                )?,
            }
        }
        for column in self
            .masked_columns
            .iter()
            .filter(|c| c.propagated_from.is_some())
        {
            writeln!(
                out,
                "anonymized {}.{} with `{}` too: it references {}",
                column.table,
                column.column,
                column.strategy,
                column.propagated_from.as_deref().unwrap_or("")
            )?;
        }
        writeln!(
            out,
            "{} rows in {} tables from {} to {} in {} ms{}{}",
            self.rows,
            self.tables.iter().filter(|t| t.status == "copied").count(),
            self.from,
            self.to,
            self.elapsed_ms,
            if self.anonymized {
                format!(", {} columns anonymized", self.masked_columns.len())
            } else {
                String::new()
            },
            if self.failed_groups > 0 {
                format!(
                    "; {} group(s) FAILED and were rolled back",
                    self.failed_groups
                )
            } else {
                String::new()
            }
        )
    }
}

/// The result of `confiture sync --dry-run`.
#[derive(Debug, Serialize)]
pub struct DryRunSummary {
    /// The source, redacted.
    pub from: String,
    /// The target, redacted.
    pub to: String,
    /// Table groups in load order; each is replaced in one transaction.
    pub groups: Vec<Vec<String>>,
    /// Estimated rows per group.
    pub estimated_rows: Vec<u64>,
    /// The anonymized columns, with those reached through foreign keys.
    pub masked_columns: Vec<MaskedColumn>,
    /// Target columns the source lacks, filled with their defaults.
    pub target_defaults: Vec<TargetDefaults>,
    /// Before/after values of a few rows of every anonymized table (long values cut).
    pub samples: Vec<super::run::TransformSample>,
    /// Warnings (also printed on stderr).
    pub warnings: Vec<String>,
}

impl DryRunSummary {
    /// The summary of `report`.
    pub fn new(
        from: String,
        to: String,
        report: DryRunReport,
        masked_columns: Vec<MaskedColumn>,
        warnings: Vec<String>,
    ) -> Self {
        DryRunSummary {
            from,
            to,
            groups: report
                .plan
                .groups
                .iter()
                .map(|g| g.tables.iter().map(ToString::to_string).collect())
                .collect(),
            estimated_rows: report
                .plan
                .groups
                .iter()
                .map(|g| g.estimated_rows)
                .collect(),
            masked_columns,
            target_defaults: target_defaults(&report.target_defaults),
            samples: report.samples,
            warnings,
        }
    }
}

impl Report for DryRunSummary {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "dry run: nothing is written. {} → {}, {} group(s) in load order:",
            self.from,
            self.to,
            self.groups.len()
        )?;
        for (group, rows) in self.groups.iter().zip(&self.estimated_rows) {
            writeln!(out, "  {} (~{rows} rows)", group.join(" → "))?;
        }
        render_target_defaults(out, &self.target_defaults)?;
        for column in &self.masked_columns {
            let via = column
                .propagated_from
                .as_deref()
                .map(|p| format!(" (through the foreign key to {p})"))
                .unwrap_or_default();
            writeln!(
                out,
                "anonymize {}.{} with `{}`{via}",
                column.table, column.column, column.strategy
            )?;
        }
        for sample in &self.samples {
            writeln!(out, "\n{} — before → after:", sample.table)?;
            for row in &sample.rows {
                let cells: Vec<String> = sample
                    .columns
                    .iter()
                    .zip(row.before.iter().zip(&row.after))
                    .map(|(name, (before, after))| {
                        format!(
                            "{name}: {} → {}",
                            before.as_deref().unwrap_or("NULL"),
                            after.as_deref().unwrap_or("NULL")
                        )
                    })
                    .collect();
                writeln!(out, "  {}", cells.join("  |  "))?;
            }
        }
        Ok(())
    }
}
