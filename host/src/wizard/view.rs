//! Text both prompters show: the overview of pending migrations and the plain review listing.

use super::prompt::PendingView;
use crate::migrate::report::{level_style, level_tag};
use crate::output::{paint, style};
use crate::risk::Level;

/// The overview: one heading line per migration with its level, then its reasons and approvals.
pub fn overview_lines(pending: &[PendingView]) -> Vec<String> {
    let mut lines = vec![paint(
        style::BOLD,
        format!("{} pending migration(s):", pending.len()),
    )];
    for (index, m) in pending.iter().enumerate() {
        let no_tx = if m.no_transaction {
            paint(style::DIM, " (no transaction)")
        } else {
            String::new()
        };
        lines.push(format!(
            "  {}. {} {}{no_tx}",
            index + 1,
            m.slug,
            level_tag(m.level())
        ));
        if m.level() > Level::Low {
            for reason in m.risk.reasons() {
                lines.push(format!("       - {reason}"));
            }
        }
        if let Some(approvals) = &m.approvals {
            lines.push(format!("       approvals: {approvals}"));
        }
    }
    lines
}

/// The plain review: the file's lines numbered, each risky statement's first line marked with
/// `>>` and followed by its level and reason.
pub fn review_lines(m: &PendingView) -> Vec<String> {
    let marks = m.marks();
    let mut lines = vec![paint(
        style::BOLD,
        format!("--- {} {} ({})", m.slug, level_tag(m.level()), m.path),
    )];
    let width = m.sql.lines().count().max(1).to_string().len();
    for (index, text) in m.sql.lines().enumerate() {
        let number = index as u32 + 1;
        let marked: Vec<_> = marks
            .iter()
            .filter(|(line, _, _)| *line == number)
            .collect();
        let gutter = if marked.is_empty() { "  " } else { ">>" };
        lines.push(format!("{gutter} {number:>width$} | {text}"));
        for (_, level, reason) in marked {
            lines.push(format!(
                "   {:>width$} | {} {reason}",
                "",
                paint(level_style(*level), format!("^ {}:", level.label()))
            ));
        }
    }
    lines.push(paint(style::BOLD, format!("--- end of {}", m.slug)));
    lines
}
