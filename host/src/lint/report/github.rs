//! GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` annotation per finding.

use std::fmt::Write as _;

use crate::lint::engine::LintReport;
use crate::lint::rule::Severity;
use crate::text::neutralise;

/// Escapes a workflow command's message: GitHub's escapes for `%` and line breaks, then every
/// other control character neutralised ([`neutralise`]), so no escape sequence reaches the log.
fn data(text: &str) -> String {
    let escaped = text
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    neutralise(&escaped).into_owned()
}

/// Escapes a workflow command's property value.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

/// The annotations, then a summary line.
pub fn render(report: &LintReport) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let command = match f.severity {
            Severity::Critical => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = Vec::new();
        if let Some(l) = &f.location {
            props.push(format!("file={}", property(&l.file)));
            props.push(format!("line={}", l.line));
            props.push(format!("col={}", l.column));
        }
        props.push(format!(
            "title={}",
            property(&format!("{} ({})", f.rule, f.severity))
        ));
        let mut message = f.message.clone();
        if let Some(s) = &f.suggestion {
            message.push_str("\nhelp: ");
            message.push_str(s);
        }
        if let Some(fix) = &f.fix {
            message.push_str("\nfix: ");
            message.push_str(fix);
        }
        let _ = writeln!(out, "::{command} {}::{}", props.join(","), data(&message));
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "confiture lint: {} critical, {} warning(s), {} info, {} suppressed; {} (PostgreSQL {})",
        s.critical,
        s.warning,
        s.info,
        s.suppressed,
        if report.failed { "failed" } else { "passed" },
        report.postgres_version
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(data("50%\nnext"), "50%25%0Anext");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }
}
