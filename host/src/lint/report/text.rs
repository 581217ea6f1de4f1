//! The readable report: findings grouped by file, `file:line:col`, then a summary.

use std::fmt::Write as _;

use crate::lint::engine::{Finding, LintReport};
use crate::lint::registry::Registry;
use crate::lint::rule::Severity;
use crate::output::{paint, style};
use crate::text::neutralise;

fn styled(severity: Severity) -> String {
    let s = match severity {
        Severity::Critical => style::ERR,
        Severity::Warning => style::WARN,
        Severity::Info => style::DIM,
    };
    paint(s, format!("{:<8}", severity.as_str()))
}

fn place(f: &Finding) -> String {
    match &f.location {
        Some(l) => format!("{}:{}:{}", neutralise(&l.file), l.line, l.column),
        None => "(no location)".to_string(),
    }
}

/// The text report (with colour codes).
pub fn render(report: &LintReport) -> String {
    let mut out = String::new();
    let mut current: Option<&str> = None;
    for f in &report.findings {
        let file = f
            .location
            .as_ref()
            .map_or("(no location)", |l| l.file.as_str());
        if current != Some(file) {
            if current.is_some() {
                out.push('\n');
            }
            let _ = writeln!(out, "{}", paint(style::BOLD, neutralise(file)));
            current = Some(file);
        }
        let _ = writeln!(
            out,
            "  {}  {}  {}  {}",
            place(f),
            styled(f.severity),
            paint(style::DIM, neutralise(&f.rule)),
            neutralise(&f.message)
        );
        if let Some(suggestion) = &f.suggestion {
            let _ = writeln!(
                out,
                "      {} {}",
                paint(style::BOLD, "help:"),
                neutralise(suggestion)
            );
        }
        if let Some(fix) = &f.fix {
            let mut lines = fix.lines();
            if let Some(first) = lines.next() {
                let _ = writeln!(
                    out,
                    "      {}  {}",
                    paint(style::BOLD, "fix:"),
                    neutralise(first)
                );
            }
            for line in lines {
                let _ = writeln!(out, "            {}", neutralise(line));
            }
        }
    }
    if !report.findings.is_empty() {
        out.push('\n');
    }
    let s = &report.summary;
    let counts = format!(
        "{} critical, {} warning{}, {} info",
        s.critical,
        s.warning,
        if s.warning == 1 { "" } else { "s" },
        s.info
    );
    let scope = format!(
        "{} file{}, {} statements, {} rules, PostgreSQL {}, {} ms",
        report.files.len(),
        if report.files.len() == 1 { "" } else { "s" },
        report.statements,
        report.rules_run,
        report.postgres_version,
        report.elapsed_ms
    );
    let suppressed = if s.suppressed > 0 {
        format!("; {} suppressed", s.suppressed)
    } else {
        String::new()
    };
    let verdict = if report.failed {
        paint(
            style::ERR,
            format!("✗ failed: findings at or above {}", report.fail_level),
        )
    } else {
        paint(
            style::OK,
            format!("✓ passed: nothing at or above {}", report.fail_level),
        )
    };
    let _ = writeln!(out, "{verdict} — {counts} ({scope}){suppressed}");
    out
}

/// `--list-rules` as text: id, category, severity (after configuration), on/off, description.
pub fn rule_list(registry: &Registry, rows: &[(String, String, Severity, bool)]) -> String {
    let mut out = String::new();
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    for (id, category, severity, enabled) in rows {
        let description = registry.get(id).map_or("", |r| r.description());
        let state = if *enabled { "" } else { " (disabled)" };
        let _ = writeln!(
            out,
            "{}  {:<11}  {}{}\n    {}",
            paint(style::BOLD, format!("{id:<width$}")),
            category,
            styled(*severity),
            paint(style::DIM, state),
            description
        );
    }
    out
}
