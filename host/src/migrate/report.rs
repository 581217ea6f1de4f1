//! What the migrate commands report, as text and as JSON.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::apply::{Flow, InvalidIndex, Left, Outcome, Unit, UnitFailure, in_words};
use super::plan::{Entry, State};
use crate::db::script::ScriptError;
use crate::error::ExitCode;
use crate::hooks::HookOutcome;
use crate::output::{Output, Report, paint, style};
use crate::project::DatabaseSource;
use crate::risk::Level;

/// The database and tracking table a command worked on.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// The database, password redacted.
    pub database: String,
    /// Where its settings came from.
    pub database_source: DatabaseSource,
    /// The tracking table.
    pub table: String,
}

/// A migration in a list.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Item {
    /// Version.
    pub version: String,
    /// Name.
    pub name: String,
    /// How long it ran, when it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Its risk level, for a migration a dry run would apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk: Option<Level>,
    /// Why, `"message (line N)"` per reason at that level, with `risk`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_reasons: Option<Vec<String>>,
}

/// The style a level is shown in.
pub fn level_style(level: Level) -> anstyle::Style {
    match level {
        Level::Low => style::OK,
        Level::High => style::WARN,
        Level::Critical => style::ERR,
    }
}

/// `[HIGH]`, coloured by level.
pub fn level_tag(level: Level) -> String {
    paint(level_style(level), format!("[{}]", level.label()))
}

/// ` LEVEL: first reason` (and how many more), or nothing without a risk.
pub fn risk_suffix(risk: Option<Level>, reasons: Option<&[String]>) -> String {
    let Some(level) = risk else {
        return String::new();
    };
    let reasons = reasons.unwrap_or_default();
    let word = paint(level_style(level), level.label());
    match reasons {
        [] => format!("  {word}"),
        [one] => format!("  {word}: {one}"),
        [first, rest @ ..] => format!("  {word}: {first} (+{} more)", rest.len()),
    }
}

impl Item {
    /// `<version>_<name>`.
    pub fn slug(&self) -> String {
        format!("{}_{}", self.version, self.name)
    }

    /// The item for `unit`, with how long it ran when it ran.
    pub fn of(unit: &Unit<'_>, outcome: Option<&Outcome>) -> Self {
        Item {
            version: unit.version.clone(),
            name: unit.name.clone(),
            duration_ms: outcome
                .and_then(Outcome::elapsed)
                .map(|e| e.as_millis() as u64),
            ..Item::default()
        }
    }
}

/// A migration that failed: where, why, and what state it left.
#[derive(Debug, Clone, Serialize)]
pub struct FailureReport {
    /// Version of the failed migration.
    pub version: String,
    /// Its name.
    pub name: String,
    /// Ran outside a transaction.
    pub no_transaction: bool,
    /// The statement's error, when a statement failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ScriptError>,
    /// The error as one message.
    pub message: String,
    /// What the failure left behind, for people.
    pub state: String,
    /// What the failure left behind, as verified with the server.
    pub left: Left,
    /// The run's migration lock was lost, so the run stopped before this migration (exit 6).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub lock_lost: bool,
}

impl FailureReport {
    /// Describes the failure of `unit`; `dry_run` when it ran in a dry run's transaction.
    pub fn of(unit: &Unit<'_>, failure: &UnitFailure, dry_run: bool) -> Self {
        FailureReport {
            version: unit.version.clone(),
            name: unit.name.clone(),
            no_transaction: unit.script.outside_transaction(),
            error: failure.script_error().cloned(),
            message: crate::error::one_line(&failure.error),
            state: in_words(&unit.slug(), unit.direction, &failure.left, dry_run),
            left: failure.left.clone(),
            lock_lost: failure.lock_lost(),
        }
    }

    /// The exit code of a run that ended with this failure.
    pub fn exit_code(&self) -> ExitCode {
        match self.left {
            _ if self.lock_lost => ExitCode::LockContention,
            Left::Disconnected { .. } => ExitCode::Connection,
            _ => ExitCode::MigrationFailed,
        }
    }

    /// Writes the failure for people.
    pub fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "{} {}", paint(style::ERR, "error:"), self.message)?;
        writeln!(out, "  {}", self.state)
    }
}

/// Progress lines for `migrate up` and `migrate down`: one per migration that ran or failed.
pub struct Progress<'a> {
    /// Where the lines go.
    pub out: &'a Output,
    /// The word for a unit that ran: `applied`, `rolled back`, `ran`.
    pub done: &'static str,
}

impl Flow for Progress<'_> {
    async fn starting(&mut self, unit: &Unit<'_>) -> anyhow::Result<()> {
        if let Some(why) = unit.script.why_outside() {
            self.out.line(format!(
                "  {} runs outside a transaction, statement by statement ({why})",
                unit.slug()
            ));
        }
        Ok(())
    }

    async fn finished(&mut self, unit: &Unit<'_>, outcome: &Outcome) -> anyhow::Result<()> {
        match outcome {
            Outcome::Failed(_) => {
                self.out
                    .line(format!("  {} {}", paint(style::ERR, "failed"), unit.slug()));
            }
            _ => {
                if let Some(elapsed) = outcome.elapsed() {
                    self.out.line(format!(
                        "  {} {} ({} ms)",
                        paint(style::OK, self.done),
                        unit.slug(),
                        elapsed.as_millis()
                    ));
                }
            }
        }
        Ok(())
    }
}

fn rfc3339<S: serde::Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        None => s.serialize_none(),
    }
}

/// A row of `migrate status` and of plans.
#[derive(Debug, Clone, Serialize)]
pub struct StatusRow {
    /// Version.
    pub version: String,
    /// Name.
    pub name: String,
    /// State.
    pub state: State,
    /// When it was applied (RFC 3339, UTC).
    #[serde(serialize_with = "rfc3339")]
    pub applied_at: Option<DateTime<Utc>>,
    /// How long it took.
    pub execution_time_ms: Option<i32>,
    /// Who applied it.
    pub applied_by: Option<String>,
    /// Runs outside a transaction.
    pub no_transaction: bool,
    /// Has a `.down.sql`.
    pub reversible: bool,
    /// A pending migration's risk level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk: Option<Level>,
    /// Why, `"message (line N)"` per reason at that level, with `risk`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_reasons: Option<Vec<String>>,
}

impl StatusRow {
    /// The row for a plan entry.
    pub fn from_entry(e: &Entry<'_>) -> Self {
        StatusRow {
            version: e.version.clone(),
            name: e.name.clone(),
            state: e.state,
            applied_at: e.applied_at(),
            execution_time_ms: e.row.and_then(|r| r.execution_time_ms),
            applied_by: e.row.and_then(|r| r.who().map(str::to_string)),
            no_transaction: e.migration.is_some_and(|m| m.no_transaction),
            reversible: e.migration.is_some_and(|m| m.down_path.is_some()),
            risk: None,
            risk_reasons: None,
        }
    }
}

/// Counts per state.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    /// Applied and unchanged.
    pub applied: usize,
    /// Not yet applied.
    pub pending: usize,
    /// Applied, file changed since.
    pub changed: usize,
    /// Applied, file gone.
    pub missing: usize,
}

impl Counts {
    /// Counts the rows.
    pub fn of(rows: &[StatusRow]) -> Self {
        let mut c = Counts::default();
        for r in rows {
            match r.state {
                State::Applied => c.applied += 1,
                State::Pending => c.pending += 1,
                State::Changed => c.changed += 1,
                State::Missing => c.missing += 1,
            }
        }
        c
    }
}

/// `migrate status`.
#[derive(Debug, Serialize)]
pub struct StatusReport {
    /// Database and table.
    #[serde(flatten)]
    pub target: Target,
    /// Whether the tracking table exists.
    pub tracking_table_exists: bool,
    /// Counts per state.
    pub counts: Counts,
    /// Every migration.
    pub migrations: Vec<StatusRow>,
}

impl Report for StatusReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "{} {} (table {})",
            paint(style::BOLD, "Migrations on"),
            self.target.database,
            self.target.table
        )?;
        if !self.tracking_table_exists {
            writeln!(
                out,
                "{}",
                paint(
                    style::DIM,
                    "no tracking table yet: every migration is pending"
                )
            )?;
        }
        render_rows(out, &self.migrations)?;
        let c = &self.counts;
        writeln!(
            out,
            "{} applied, {} pending, {} changed, {} missing",
            c.applied, c.pending, c.changed, c.missing
        )
    }
}

/// The status table, one line per migration.
pub fn render_rows(out: &mut dyn Write, rows: &[StatusRow]) -> std::io::Result<()> {
    if rows.is_empty() {
        return writeln!(out, "  (no migrations)");
    }
    let width = rows
        .iter()
        .map(|r| r.version.len() + r.name.len() + 1)
        .max()
        .unwrap_or(0);
    for r in rows {
        let state = match r.state {
            State::Applied => paint(style::OK, format!("{:<8}", "applied")),
            State::Pending => paint(style::WARN, format!("{:<8}", "pending")),
            State::Changed | State::Missing => {
                paint(style::ERR, format!("{:<8}", r.state.as_str()))
            }
        };
        let when = r
            .applied_at
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default();
        let time = r
            .execution_time_ms
            .map(|ms| format!("{ms} ms"))
            .unwrap_or_default();
        let risk = risk_suffix(r.risk, r.risk_reasons.as_deref());
        let line = if risk.is_empty() {
            format!(
                "  {state} {:<width$}  {when:<23}  {time}",
                format!("{}_{}", r.version, r.name)
            )
        } else {
            format!(
                "  {state} {:<width$}{risk}",
                format!("{}_{}", r.version, r.name)
            )
        };
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// How `migrate up` ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpMode {
    /// Applied for real.
    Apply,
    /// Printed the plan only.
    DryRun,
    /// Ran in one transaction and rolled it back.
    DryRunExecute,
}

/// `migrate up`.
#[derive(Debug, Serialize)]
pub struct UpReport {
    /// Database and table.
    #[serde(flatten)]
    pub target: Target,
    /// How it ran.
    pub mode: UpMode,
    /// Migrations applied (or, in a dry run, that ran before the rollback).
    pub applied: Vec<Item>,
    /// Pending migrations that did not run (the plan, in a dry run; those after a failure).
    pub not_run: Vec<Item>,
    /// No-transaction migrations a `--dry-run-execute` skipped.
    pub skipped: Vec<Item>,
    /// Applied versions whose files are missing.
    pub missing: Vec<Item>,
    /// Total time in milliseconds.
    pub duration_ms: u64,
    /// The failure, if one happened.
    pub failure: Option<FailureReport>,
    /// A `--dry-run-execute`: true when the server confirmed its transaction rolled back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rolled_back: Option<bool>,
    /// Every hook call, in order (absent when no hook fired).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookOutcome>,
}

impl UpReport {
    /// An empty report for a run in `mode`, with the applied versions whose files are missing.
    pub fn new(target: Target, mode: UpMode, missing: Vec<Item>) -> Self {
        UpReport {
            target,
            mode,
            applied: Vec::new(),
            not_run: Vec::new(),
            skipped: Vec::new(),
            missing,
            duration_ms: 0,
            failure: None,
            rolled_back: None,
            hooks: Vec::new(),
        }
    }
}

/// One line summing up the hook calls of a run, when there were any.
pub fn render_hooks(out: &mut dyn Write, hooks: &[HookOutcome]) -> std::io::Result<()> {
    if hooks.is_empty() {
        return Ok(());
    }
    let total: f64 = hooks.iter().map(|h| h.duration_ms).sum();
    let failed = hooks.iter().filter(|h| h.outcome != "ok").count();
    let summary = format!(
        "Hooks: {} call(s) in {total:.1} ms, {failed} failed.",
        hooks.len()
    );
    if failed == 0 {
        writeln!(out, "{summary}")
    } else {
        writeln!(out, "{}", paint(style::WARN, summary))
    }
}

impl Report for UpReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        render_hooks(out, &self.hooks)?;
        match self.mode {
            UpMode::DryRun => {
                if self.not_run.is_empty() {
                    return writeln!(
                        out,
                        "Dry run: nothing to apply; the database is up to date."
                    );
                }
                writeln!(
                    out,
                    "Dry run: would apply {} migration(s) to {}:",
                    self.not_run.len(),
                    self.target.database
                )?;
                for item in &self.not_run {
                    let risk = risk_suffix(item.risk, item.risk_reasons.as_deref());
                    writeln!(out, "  {}{risk}", item.slug())?;
                }
                Ok(())
            }
            UpMode::DryRunExecute => {
                for item in &self.skipped {
                    writeln!(
                        out,
                        "  {} {} (runs outside a transaction: cannot run inside the dry run's)",
                        paint(style::WARN, "skipped"),
                        item.slug()
                    )?;
                }
                let verdict = if self.failure.is_some() {
                    paint(style::ERR, "failed")
                } else {
                    paint(style::OK, "succeeded")
                };
                let ran = format!(
                    "{} migration(s) ran in {} ms",
                    self.applied.len(),
                    self.duration_ms
                );
                if self.rolled_back == Some(true) {
                    writeln!(
                        out,
                        "Dry run {verdict}: {ran} and were rolled back; nothing was changed."
                    )
                } else {
                    writeln!(
                        out,
                        "Dry run {verdict}: {ran}; its transaction was NOT confirmed rolled \
                         back (see the error)."
                    )
                }
            }
            UpMode::Apply => {
                if self.applied.is_empty() && self.failure.is_none() {
                    return writeln!(out, "Nothing to apply; the database is up to date.");
                }
                let summary = format!(
                    "Applied {} migration(s) in {} ms.",
                    self.applied.len(),
                    self.duration_ms
                );
                if self.failure.is_some() && !self.not_run.is_empty() {
                    writeln!(
                        out,
                        "{summary} {} later migration(s) did not run.",
                        self.not_run.len()
                    )
                } else if self.failure.is_some() {
                    writeln!(out, "{summary}")
                } else {
                    writeln!(out, "{}", paint(style::OK, summary))
                }
            }
        }
    }
}

/// `migrate down`.
#[derive(Debug, Serialize)]
pub struct DownReport {
    /// Database and table.
    #[serde(flatten)]
    pub target: Target,
    /// Printed only.
    pub dry_run: bool,
    /// Migrations rolled back (or, in a dry run, that would be).
    pub rolled_back: Vec<Item>,
    /// Total time in milliseconds.
    pub duration_ms: u64,
    /// The failure, if one happened.
    pub failure: Option<FailureReport>,
    /// Every hook call, in order (absent when no hook fired).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookOutcome>,
}

impl Report for DownReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        render_hooks(out, &self.hooks)?;
        if self.dry_run {
            writeln!(
                out,
                "Dry run: would roll back {} migration(s):",
                self.rolled_back.len()
            )?;
            for item in &self.rolled_back {
                writeln!(out, "  {}", item.slug())?;
            }
            return Ok(());
        }
        if self.rolled_back.is_empty() && self.failure.is_none() {
            return writeln!(out, "Nothing to roll back.");
        }
        writeln!(
            out,
            "Rolled back {} migration(s) in {} ms.",
            self.rolled_back.len(),
            self.duration_ms
        )
    }
}

/// A `.verify.sql` result.
#[derive(Debug, Serialize)]
pub struct VerifyRun {
    /// Version.
    pub version: String,
    /// The file.
    pub file: String,
    /// Its first column was true.
    pub ok: bool,
    /// Why not, when not.
    pub error: Option<String>,
}

/// `migrate verify`.
#[derive(Debug, Serialize)]
pub struct VerifyReport {
    /// Database and table.
    #[serde(flatten)]
    pub target: Target,
    /// No drift and every verify query true.
    pub ok: bool,
    /// Applied migrations whose files changed.
    pub changed: Vec<Item>,
    /// Applied migrations whose files are gone.
    pub missing: Vec<Item>,
    /// INVALID indexes in the database (left by a failed `CREATE INDEX CONCURRENTLY`).
    pub invalid_indexes: Vec<InvalidIndex>,
    /// `--run` results.
    pub verified: Vec<VerifyRun>,
}

impl Report for VerifyReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for item in &self.changed {
            writeln!(
                out,
                "  {} {} (its .up.sql differs from what was applied)",
                paint(style::ERR, "changed"),
                item.slug()
            )?;
        }
        for item in &self.missing {
            writeln!(
                out,
                "  {} {} (applied, no file on disk)",
                paint(style::ERR, "missing"),
                item.slug()
            )?;
        }
        for index in &self.invalid_indexes {
            writeln!(
                out,
                "  {} index {} on {} (a failed concurrent build left it; it enforces nothing): \
                 {}",
                paint(style::ERR, "invalid"),
                index.name,
                index.table,
                index.cleanup
            )?;
        }
        for run in &self.verified {
            match &run.error {
                None => writeln!(out, "  {} {}", paint(style::OK, "verified"), run.file)?,
                Some(e) => writeln!(out, "  {} {}: {e}", paint(style::ERR, "failed"), run.file)?,
            }
        }
        if self.ok {
            writeln!(
                out,
                "{}",
                paint(style::OK, "Migrations verified: no drift.")
            )
        } else {
            writeln!(out, "{}", paint(style::ERR, "Verification failed."))
        }
    }
}

/// `migrate baseline`.
#[derive(Debug, Serialize)]
pub struct BaselineReport {
    /// Database and table.
    #[serde(flatten)]
    pub target: Target,
    /// The version baselined through.
    pub through: String,
    /// Migrations recorded as applied without running.
    pub recorded: Vec<Item>,
}

impl Report for BaselineReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for item in &self.recorded {
            writeln!(out, "  recorded {}", item.slug())?;
        }
        writeln!(
            out,
            "Baseline through {}: {} migration(s) marked as applied without running.",
            self.through,
            self.recorded.len()
        )
    }
}

/// `migrate generate`.
#[derive(Debug, Serialize)]
pub struct GenerateReport {
    /// Version.
    pub version: String,
    /// Name.
    pub name: String,
    /// Files created.
    pub files: Vec<String>,
}

impl Report for GenerateReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for file in &self.files {
            writeln!(out, "created {file}")?;
        }
        writeln!(
            out,
            "Both hold only comments: add the SQL to each (until then, commands that run \
             migrations refuse the migration)"
        )
    }
}
