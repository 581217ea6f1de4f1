//! Untrusted text made safe to print: what a plugin says (log lines, errors, lint messages,
//! descriptions) and what user SQL names (identifiers in findings) reaches terminals and CI
//! logs. [`neutralise`] is the one function every such text goes through, so that no escape
//! sequence reaches a terminal (titles, erased lines, clipboard writes), no line a plugin
//! writes can begin a GitHub workflow command (`::error`, `::add-mask::`,
//! `::stop-commands::`), and no bidirectional override reorders what is shown.

use std::borrow::Cow;
use std::fmt::Write;

/// `text` with every control character (C0, DEL, C1 — newlines and escapes included) and
/// bidirectional control written as a visible escape (`\n`, `\t`, `\x1b`, `\u{202e}`), and a
/// leading `::` written as `\x3a:`. Text with none of them is returned as is.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    let starts_command = text.trim_start().starts_with("::");
    if !starts_command && !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut leading = starts_command;
    for c in text.chars() {
        match c {
            ':' if leading => {
                out.push_str("\\x3a");
                leading = false;
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) && (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => {
                if !c.is_whitespace() {
                    leading = false;
                }
                out.push(c);
            }
        }
    }
    Cow::Owned(out)
}

/// Control characters and the bidirectional embeddings, overrides and isolates.
pub(crate) fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn plain_text_is_untouched() {
        for text in ["users.email is NULL", "café ünïcode 表", "a: b :: c", ""] {
            assert!(matches!(
                neutralise(text),
                std::borrow::Cow::Borrowed(t) if t == text
            ));
        }
    }

    #[test]
    fn no_escape_sequence_or_workflow_command_survives() {
        let hostile = [
            "\x1b]0;pwned\x07title",
            "\x1b[2K\rhook ok",
            "\x1b]52;c;cGFzc3dvcmQ=\x07",
            "ok\n::error file=x::fake",
            "::add-mask::secret",
            "  ::stop-commands::token",
            "\u{9b}31m",
            "\u{202e}txt.exe",
        ];
        for text in hostile {
            let shown = neutralise(text);
            assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
            assert!(!shown.contains('\u{202e}'), "{shown:?}");
            for line in shown.lines() {
                assert!(!line.trim_start().starts_with("::"), "{shown:?}");
            }
        }
        assert_eq!(neutralise("a\x1b[31mb"), "a\\x1b[31mb");
        assert_eq!(neutralise("x\ny"), "x\\ny");
        assert_eq!(neutralise("::error::boom"), "\\x3a:error::boom");
        assert_eq!(neutralise("\u{202e}abc"), "\\u{202e}abc");
    }
}
