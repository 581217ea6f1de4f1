//! YAML errors made readable: a serde error turned into `file:line:column: key: what`, with a
//! "did you mean" for an unknown key or value; and the line of a key, for errors found after
//! parsing.

use crate::error::Failure;
use crate::strings::did_you_mean;

/// Turns a serde/YAML error into one naming file, line, key, and a "did you mean". A value
/// outside an enum's words (serde's "unknown variant") is named with the valid ones.
pub(super) fn yaml_failure(
    shown: &str,
    err: serde_path_to_error::Error<serde_yaml_ng::Error>,
) -> Failure {
    let path = err.path().to_string();
    let inner = err.into_inner();
    let location = inner
        .location()
        .map(|l| format!(":{}:{}", l.line(), l.column()))
        .unwrap_or_default();
    let message = inner.to_string();
    // serde_yaml appends " at line L column C"; we print the location ourselves.
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_string();
    if let Some((unknown, expected)) = parse_unknown(&message, "unknown field `") {
        // The path may or may not already end with the unknown key itself.
        let qualified = if path == "." || path.is_empty() {
            unknown.clone()
        } else if path == unknown || path.ends_with(&format!(".{unknown}")) {
            path.clone()
        } else {
            format!("{path}.{unknown}")
        };
        let mut failure = Failure::config(format!("{shown}{location}: unknown key `{qualified}`"));
        failure = match did_you_mean(&unknown, &expected) {
            Some(best) => failure.hint(format!("did you mean `{best}`?")),
            None => failure.hint(format!("known keys here: {}", expected.join(", "))),
        };
        return failure;
    }
    let key = if path == "." {
        String::new()
    } else {
        format!(" {path}:")
    };
    if let Some((value, expected)) = parse_unknown(&message, "unknown variant `") {
        let failure = Failure::config(format!(
            "{shown}{location}:{key} `{value}` is not one of {}",
            expected
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        return match did_you_mean(&value, &expected) {
            Some(best) => failure.hint(format!("did you mean `{best}`?")),
            None => {
                failure.hint("see docs/reference/configuration.md for every key and its values")
            }
        };
    }
    let message = message
        .strip_prefix(&format!("{path}: "))
        .unwrap_or(&message)
        .to_string();
    Failure::config(format!("{shown}{location}:{key} {message}"))
        .hint("see docs/reference/configuration.md for every key and its type")
}

/// Extracts `X` and the expected list from serde's "unknown field `X`, expected ..." (or
/// "unknown variant `X`, ...") message; `marker` is the text up to `X`.
fn parse_unknown(message: &str, marker: &str) -> Option<(String, Vec<String>)> {
    // serde_yaml prefixes nested errors with their YAML path (`database: unknown field ...`).
    let rest = &message[message.find(marker)? + marker.len()..];
    let (name, rest) = rest.split_once('`')?;
    let expected = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    Some((name.to_string(), expected))
}

/// `shown` (the file as messages name it) with `:line` when the line is known.
pub(super) fn at_line(shown: &str, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{shown}:{line}"),
        None => shown.to_string(),
    }
}

/// The 1-based line where `key:` first appears, for errors found after parsing.
pub(super) fn line_of_key(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let line = line.trim_start().trim_start_matches("- ");
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map(|i| i + 1)
}

/// The 1-based line of `key:` at or below line `from` (the first line when `None`), else
/// `from`: a key inside the entry that starts at `from`.
pub(super) fn line_below(text: &str, from: Option<usize>, key: &str) -> Option<usize> {
    let after = from.unwrap_or(1) - 1;
    let rest = text.lines().skip(after).collect::<Vec<_>>().join("\n");
    line_of_key(&rest, key).map(|l| l + after).or(from)
}

/// The 1-based line of `key:` at the top level (column 0).
pub(super) fn top_level_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map(|i| i + 1)
}

/// The 1-based line of `key:` inside the top-level block `block:` (before the next
/// top-level key).
pub(super) fn line_in_block(text: &str, block: &str, key: &str) -> Option<usize> {
    let start = top_level_line(text, block)?;
    text.lines()
        .enumerate()
        .skip(start)
        .take_while(|(_, line)| {
            line.is_empty() || line.starts_with([' ', '\t', '#']) || line.starts_with("- ")
        })
        .find(|(_, line)| {
            line.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map(|(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use crate::project::settings::testing::failure;

    #[test]
    fn unknown_key_names_file_line_and_suggestion() {
        let f = failure("name: local\ndatabse_url: postgresql://x/y\n");
        assert!(f.message.contains("local.yaml:2:1"), "{}", f.message);
        assert!(f.message.contains("`databse_url`"), "{}", f.message);
        assert_eq!(f.hint.as_deref(), Some("did you mean `database_url`?"));
    }

    #[test]
    fn unknown_nested_key_is_qualified() {
        let f = failure("database:\n  hostname: x\n  database: app\n");
        assert!(f.message.contains(":2:3"), "{}", f.message);
        assert!(f.message.contains("`database.hostname`"), "{}", f.message);
        assert_eq!(f.hint.as_deref(), Some("did you mean `host`?"));
    }

    #[test]
    fn wrong_type_names_key_and_line() {
        let f = failure("name: local\nprotected: maybe\n");
        assert!(f.message.contains("local.yaml:2:"), "{}", f.message);
        assert!(f.message.contains("protected"), "{}", f.message);
        let f = failure("database:\n  database: app\n  port: [5432]\n");
        assert!(
            f.message
                .contains("local.yaml:3:9: database.port: invalid type"),
            "{}",
            f.message
        );
        let f = failure("lock_timeout: 5 parsecs\n");
        assert!(f.message.contains("unknown duration unit"), "{}", f.message);
    }
}
