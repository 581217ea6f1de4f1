//! The host log for plugins: every line a plugin writes (through the `log` import, or on its
//! stdout/stderr) goes here, prefixed with the plugin's name, filtered by a verbosity threshold
//! (`CONFITURE_PLUGIN_LOG`, `off` silences plugins), and bounded per call ([`CallBudget`]).

use std::fmt;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use crate::text::neutralise;

/// Severity of a plugin log line (mirrors the WIT `log-level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Fine-grained detail.
    Trace,
    /// Diagnostic detail.
    Debug,
    /// Normal progress.
    Info,
    /// Something to look at.
    Warn,
    /// Something failed.
    Error,
}

impl LogLevel {
    /// Parses `trace`, `debug`, `info`, `warn` or `error`.
    pub fn parse(text: &str) -> Option<LogLevel> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "trace" => LogLevel::Trace,
            "debug" => LogLevel::Debug,
            "info" => LogLevel::Info,
            "warn" | "warning" => LogLevel::Warn,
            "error" => LogLevel::Error,
            _ => return None,
        })
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        })
    }
}

/// Where a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogSource {
    /// The `log` import.
    Log,
    /// The plugin's stdout.
    Stdout,
    /// The plugin's stderr.
    Stderr,
}

/// One line a plugin logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogRecord {
    /// The plugin's name.
    pub plugin: String,
    /// Severity (stdout lines are `info`, stderr lines `warn`).
    pub level: LogLevel,
    /// How the plugin wrote it.
    pub source: LogSource,
    /// The text, without its line break.
    pub message: String,
}

type Sink = dyn Fn(&LogRecord) + Send + Sync;

/// Most lines one call may log (the `log` import, stdout and stderr together); later lines are
/// dropped and counted.
pub const MAX_LINES_PER_CALL: usize = 1_000;
/// Most bytes one call may log.
pub const MAX_BYTES_PER_CALL: usize = 1024 * 1024;

/// The host log as plugins see it: a threshold (`None`: off) and a sink.
#[derive(Clone)]
pub struct PluginLog {
    threshold: Option<LogLevel>,
    sink: Arc<Sink>,
}

impl fmt::Debug for PluginLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginLog")
            .field("threshold", &self.threshold)
            .finish_non_exhaustive()
    }
}

impl Default for PluginLog {
    fn default() -> Self {
        PluginLog::stderr(LogLevel::Info)
    }
}

impl PluginLog {
    /// Lines at or above `threshold` go to stderr as `[plugin <name>] <level>: <message>`.
    pub fn stderr(threshold: LogLevel) -> Self {
        PluginLog::to(threshold, |record| {
            let _ = writeln!(
                anstream::stderr(),
                "[plugin {}] {}: {}",
                neutralise(&record.plugin),
                record.level,
                neutralise(&record.message)
            );
        })
    }

    /// Lines at or above `threshold` go to `sink` (tests and embedders collect them).
    pub fn to(threshold: LogLevel, sink: impl Fn(&LogRecord) + Send + Sync + 'static) -> Self {
        PluginLog {
            threshold: Some(threshold),
            sink: Arc::new(sink),
        }
    }

    /// A log that drops every line.
    pub fn off() -> Self {
        PluginLog {
            threshold: None,
            sink: Arc::new(|_| {}),
        }
    }

    /// The log `CONFITURE_PLUGIN_LOG` asks for: a threshold (`trace` … `error`, default `info`)
    /// on stderr, or `off`.
    pub fn from_env() -> Self {
        let setting = std::env::var("CONFITURE_PLUGIN_LOG").unwrap_or_default();
        if setting.trim().eq_ignore_ascii_case("off") {
            return PluginLog::off();
        }
        PluginLog::stderr(LogLevel::parse(&setting).unwrap_or(LogLevel::Info))
    }

    /// True when lines of `level` are written.
    pub fn shows(&self, level: LogLevel) -> bool {
        self.threshold.is_some_and(|threshold| level >= threshold)
    }

    /// Writes one line if its level passes the threshold.
    pub fn emit(&self, plugin: &str, level: LogLevel, source: LogSource, message: &str) {
        if self.shows(level) {
            (self.sink)(&LogRecord {
                plugin: plugin.to_string(),
                level,
                source,
                message: message.to_string(),
            });
        }
    }

    /// Writes one line of a call if its level passes the threshold and `budget` allows it.
    pub(crate) fn emit_within(
        &self,
        budget: &CallBudget,
        plugin: &str,
        level: LogLevel,
        source: LogSource,
        message: &str,
    ) {
        if self.shows(level) && budget.admit(message.len()) {
            self.emit(plugin, level, source, message);
        }
    }

    /// Says how many lines `budget` dropped, if any, and starts it afresh for the next call.
    pub(crate) fn close_call(&self, budget: &CallBudget, plugin: &str) {
        let dropped = budget.reset();
        if dropped > 0 {
            self.emit(
                plugin,
                LogLevel::Warn,
                LogSource::Log,
                &format!(
                    "{dropped} more log line(s) of this call were dropped (at most \
                     {MAX_LINES_PER_CALL} lines and {} KiB per call)",
                    MAX_BYTES_PER_CALL / 1024
                ),
            );
        }
    }
}

/// What one call may still log.
#[derive(Debug, Default)]
pub(crate) struct CallBudget {
    lines: AtomicUsize,
    bytes: AtomicUsize,
    dropped: AtomicUsize,
}

impl CallBudget {
    /// Counts a line of `len` bytes; false (and counted as dropped) past the budget.
    fn admit(&self, len: usize) -> bool {
        let lines = self.lines.fetch_add(1, Ordering::Relaxed) + 1;
        let bytes = self.bytes.fetch_add(len, Ordering::Relaxed) + len;
        if lines > MAX_LINES_PER_CALL || bytes > MAX_BYTES_PER_CALL {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Starts afresh; returns how many lines were dropped.
    fn reset(&self) -> usize {
        self.lines.store(0, Ordering::Relaxed);
        self.bytes.store(0, Ordering::Relaxed);
        self.dropped.swap(0, Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn a_call_logs_at_most_its_budget_and_says_how_much_it_dropped() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let log = PluginLog::to(LogLevel::Info, move |r| {
            sink.lock().unwrap().push(r.message.clone())
        });
        let budget = CallBudget::default();
        for i in 0..MAX_LINES_PER_CALL + 5 {
            log.emit_within(
                &budget,
                "p",
                LogLevel::Info,
                LogSource::Log,
                &format!("{i}"),
            );
        }
        // Below the threshold: neither written nor counted.
        log.emit_within(&budget, "p", LogLevel::Debug, LogSource::Log, "quiet");
        log.close_call(&budget, "p");
        let got = lines.lock().unwrap().clone();
        assert_eq!(got.len(), MAX_LINES_PER_CALL + 1);
        assert!(
            got.last().unwrap().starts_with("5 more log line(s)"),
            "{got:?}"
        );
        // The next call starts with a full budget.
        log.emit_within(&budget, "p", LogLevel::Info, LogSource::Log, "again");
        assert_eq!(lines.lock().unwrap().last().unwrap(), "again");
        let big = "x".repeat(MAX_BYTES_PER_CALL);
        log.emit_within(&budget, "p", LogLevel::Info, LogSource::Log, &big);
        assert_ne!(lines.lock().unwrap().last().unwrap(), &big);
    }

    #[test]
    fn off_writes_nothing() {
        let log = PluginLog::off();
        assert!(!log.shows(LogLevel::Error));
        assert!(PluginLog::to(LogLevel::Warn, |_| {}).shows(LogLevel::Error));
        assert!(!PluginLog::to(LogLevel::Warn, |_| {}).shows(LogLevel::Info));
    }
}
