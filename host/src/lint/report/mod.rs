//! Reporters: the same [`LintReport`] as text, JSON, SARIF 2.1.0 or GitHub Actions annotations.

mod github;
mod sarif;
mod text;

use super::engine::LintReport;
use super::registry::Registry;
use crate::output::Format;

pub use text::rule_list;

/// Renders a report in `format`. `colour` asks for ANSI styles (text only; they are stripped
/// later when the destination is not a terminal).
pub fn render(report: &LintReport, format: Format, registry: &Registry, colour: bool) -> String {
    match format {
        Format::Text => {
            let text = text::render(report);
            if colour {
                text
            } else {
                anstream::adapter::strip_str(&text).to_string()
            }
        }
        Format::Json => crate::output::json_document(report),
        Format::Sarif => sarif::render(report, registry),
        Format::Github => github::render(report),
    }
}
