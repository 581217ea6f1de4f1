//! Small text helpers every layer may use: typo suggestions, paths in messages, plugin names,
//! durations as settings write them, and URL percent-encoding.

use std::path::Path;

/// The closest candidate to `input`, when one is close enough to be a likely typo.
pub fn did_you_mean<'a>(input: &str, candidates: &'a [String]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(input, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.as_str())
}

/// `path` relative to `root` (the project root) when it is inside it, for messages.
pub fn display_relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// A plugin name: lower-case letters, digits and `-`, starting with a letter.
pub fn is_plugin_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The longest duration a setting may hold: PostgreSQL's limit for `lock_timeout` and
/// `statement_timeout` (2147483647 ms, about 24.8 days), applied to every duration so that none
/// can wrap around or be refused only when the server sees it.
pub const MAX_DURATION_MS: u64 = i32::MAX as u64;

/// Parses `500ms`, `5s`, `2min`, `1h` or a bare number of milliseconds, at most
/// [`MAX_DURATION_MS`].
pub fn parse_duration_ms(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = match number.parse() {
        Ok(number) => number,
        // Only digits, too many of them for any counter.
        Err(_) if !number.is_empty() => return within_range(text, None),
        Err(_) => {
            return Err(format!(
                "`{text}` is not a duration (try \"500ms\", \"5s\", \"2min\")"
            ));
        }
    };
    let factor = match unit.trim() {
        "" | "ms" => 1,
        "s" => 1_000,
        "min" => 60_000,
        "h" => 3_600_000,
        other => {
            return Err(format!(
                "unknown duration unit `{other}` (use ms, s, min or h)"
            ));
        }
    };
    within_range(text, number.checked_mul(factor))
}

/// `ms` (`None` when it overflowed) when it is at most [`MAX_DURATION_MS`]; `text` is the
/// duration as written, for the error.
fn within_range(text: &str, ms: Option<u64>) -> Result<u64, String> {
    ms.filter(|ms| *ms <= MAX_DURATION_MS).ok_or_else(|| {
        format!(
            "`{text}` is out of range: durations are at most {MAX_DURATION_MS} ms (about 24 \
             days, PostgreSQL's limit for lock_timeout and statement_timeout)"
        )
    })
}

/// Percent-encodes every byte but RFC 3986's unreserved characters.
pub fn percent_encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_and_stay_within_postgres_limit() {
        assert_eq!(parse_duration_ms("250ms"), Ok(250));
        assert_eq!(parse_duration_ms("3s"), Ok(3000));
        assert_eq!(parse_duration_ms("0"), Ok(0));
        assert_eq!(parse_duration_ms("596h"), Ok(596 * 3_600_000));
        for too_long in ["3000000h", "597h", "2147483648", "99999999999999999999h"] {
            let error = parse_duration_ms(too_long).expect_err(too_long);
            assert!(error.contains("out of range"), "{too_long}: {error}");
        }
        // u64::MAX / 3_600_000 + 1 hours would wrap around without the check.
        assert!(parse_duration_ms("5124095576031h").is_err());
        assert!(parse_duration_ms("s").is_err());
    }
}
