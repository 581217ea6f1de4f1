//! How commands talk to people and to machines: text with colour (respecting `NO_COLOR` and
//! non-terminals, through `anstream`) or one JSON document per command.

use std::fmt::Display;
use std::io::Write;

use anstyle::{AnsiColor, Style};
use serde::Serialize;

use crate::error::{ExitCode, exit_code_of, failure_of};
use crate::text::neutralise;

/// Output format chosen with `--format` (its help is in `cli/values.rs`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Readable text, coloured on a terminal (`table` on the command line too, upstream's name).
    #[default]
    Text,
    /// One JSON document on stdout (errors too, as `{"error": {...}}`).
    Json,
    /// SARIF 2.1.0 (`confiture lint` only; other commands refuse it).
    Sarif,
    /// GitHub Actions annotations (`confiture lint` only; other commands refuse it).
    Github,
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [Format; 4] = [Format::Text, Format::Json, Format::Sarif, Format::Github];

    /// True for the formats only `confiture lint` produces.
    pub fn is_lint_only(self) -> bool {
        matches!(self, Format::Sarif | Format::Github)
    }
}

/// Styles shared by every text renderer.
pub mod style {
    use super::*;
    /// Success.
    pub const OK: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));
    /// Warnings and pending work.
    pub const WARN: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)));
    /// Errors.
    pub const ERR: Style = Style::new()
        .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)))
        .bold();
    /// Secondary information.
    pub const DIM: Style = Style::new().dimmed();
    /// Headings and names.
    pub const BOLD: Style = Style::new().bold();
}

/// Wraps `text` in `style` (the escape codes are stripped later when colour is off).
pub fn paint(style: Style, text: impl Display) -> String {
    format!("{style}{text}{style:#}")
}

/// A command's result that can be shown as text or serialised as JSON.
pub trait Report: Serialize {
    /// Writes the readable form.
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()>;
}

/// Where a command writes: the chosen format and the streams.
#[derive(Debug, Clone, Copy, Default)]
pub struct Output {
    /// The format chosen on the command line.
    pub format: Format,
}

impl Output {
    /// Output in the given format.
    pub fn new(format: Format) -> Self {
        Output { format }
    }

    /// True when the command must print one JSON document and nothing else on stdout.
    pub fn is_json(&self) -> bool {
        self.format == Format::Json
    }

    /// A progress line for people on stdout; silent in JSON mode.
    pub fn line(&self, text: impl Display) {
        if !self.is_json() {
            let mut stdout = anstream::stdout();
            let _ = writeln!(stdout, "{text}");
            let _ = stdout.flush();
        }
    }

    /// A warning on stderr, in every format (stderr never carries JSON), neutralised
    /// ([`shown`]): warnings quote plugin names, files and settings.
    pub fn warn(&self, text: impl Display) {
        let _ = writeln!(
            anstream::stderr(),
            "{} {}",
            paint(style::WARN, "warning:"),
            shown(&text.to_string())
        );
    }

    /// Prints a command's result in the chosen format.
    pub fn report<R: Report>(&self, report: &R) {
        let mut stdout = anstream::stdout();
        match self.format {
            Format::Json => {
                let _ = write!(stdout, "{}", json_document(report));
            }
            Format::Text | Format::Sarif | Format::Github => {
                let _ = report.render_text(&mut stdout);
            }
        }
        let _ = stdout.flush();
    }

    /// Prints an error: text on stderr, every part neutralised ([`shown`]) because errors quote
    /// plugin files, plugin errors and user SQL; or a JSON object on stdout (JSON-escaped).
    /// Returns its exit code.
    pub fn error(&self, err: &anyhow::Error) -> ExitCode {
        let code = exit_code_of(err);
        let hint = failure_of(err).and_then(|f| f.hint.clone());
        let mut causes = crate::error::messages(err);
        let message = causes.remove(0);
        match self.format {
            Format::Json => {
                let value = serde_json::json!({
                    "error": {
                        "exit_code": code.code(),
                        "kind": code,
                        "message": message,
                        "causes": causes,
                        "hint": hint,
                    }
                });
                let _ = write!(anstream::stdout(), "{}", json_document(&value));
            }
            Format::Text | Format::Sarif | Format::Github => {
                let mut stderr = anstream::stderr();
                let _ = writeln!(
                    stderr,
                    "{} {}",
                    paint(style::ERR, "error:"),
                    shown(&message)
                );
                for cause in causes {
                    let _ = writeln!(
                        stderr,
                        "  {} {}",
                        paint(style::DIM, "caused by:"),
                        shown(&cause)
                    );
                }
                if let Some(hint) = hint {
                    let _ = writeln!(stderr, "  {} {}", paint(style::BOLD, "hint:"), shown(&hint));
                }
            }
        }
        code
    }
}

/// `value` as one pretty-printed JSON document ending in a newline, with no character that
/// could act on a terminal: serde_json escapes C0 controls; DEL, C1 controls and bidirectional
/// controls (which can only occur inside strings) are written as `\uXXXX` too, so a document
/// shown with `cat` cannot carry an escape sequence or reorder what is displayed.
pub fn json_document(value: &impl Serialize) -> String {
    let text = serde_json::to_string_pretty(value).expect("documents serialise");
    let mut out = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        if c > '\x7e' && crate::text::needs_escape(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out.push('\n');
    out
}

/// `text` as it may reach a terminal or a CI log: each line [`neutralise`]d, so a message keeps
/// its line breaks but no line can carry an escape sequence or begin a workflow command.
fn shown(text: &str) -> String {
    text.split('\n')
        .map(neutralise)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::{json_document, shown};

    #[test]
    fn json_documents_carry_no_raw_terminal_controls_and_stay_json() {
        let value = serde_json::json!({"m": "a\x1b[2K\r\u{9b}31m\u{7f}\u{202e}b\n::add-mask::x"});
        let text = json_document(&value);
        assert!(
            !text
                .chars()
                .any(|c| (c.is_control() && c != '\n') || c == '\u{202e}'),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn every_line_of_an_error_is_neutralised_and_line_breaks_stay() {
        assert_eq!(shown("plain\ntwo lines"), "plain\ntwo lines");
        let hostile = "loading ext/x\n::add-mask::secret.wasm\n\x1b]52;c;cGFzcw==\x07\r\u{202e}ok";
        let out = shown(hostile);
        for line in out.lines() {
            assert!(!line.trim_start().starts_with("::"), "{out:?}");
        }
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
        assert!(!out.contains('\u{202e}'), "{out:?}");
        assert_eq!(out.lines().count(), 3, "{out:?}");
    }
}
