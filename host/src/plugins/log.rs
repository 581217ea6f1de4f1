//! The host log for plugins: every line a plugin writes (through the `log` import, or on its
//! stdout/stderr) goes here, prefixed with the plugin's name, filtered by a verbosity threshold.

use std::fmt;
use std::io::Write;
use std::sync::Arc;

use serde::Serialize;

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

/// The host log as plugins see it: a threshold and a sink.
#[derive(Clone)]
pub struct PluginLog {
    threshold: LogLevel,
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
                record.plugin,
                record.level,
                record.message
            );
        })
    }

    /// Lines at or above `threshold` go to `sink` (tests and embedders collect them).
    pub fn to(threshold: LogLevel, sink: impl Fn(&LogRecord) + Send + Sync + 'static) -> Self {
        PluginLog {
            threshold,
            sink: Arc::new(sink),
        }
    }

    /// The threshold chosen from `CONFITURE_PLUGIN_LOG` (default `info`).
    pub fn threshold_from_env() -> LogLevel {
        std::env::var("CONFITURE_PLUGIN_LOG")
            .ok()
            .and_then(|v| LogLevel::parse(&v))
            .unwrap_or(LogLevel::Info)
    }

    /// Writes one line if its level passes the threshold.
    pub fn emit(&self, plugin: &str, level: LogLevel, source: LogSource, message: &str) {
        if level >= self.threshold {
            (self.sink)(&LogRecord {
                plugin: plugin.to_string(),
                level,
                source,
                message: message.to_string(),
            });
        }
    }
}
