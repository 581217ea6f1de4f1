//! `same_length_text` (alias `text`): keyed random text of the same shape.

use anyhow::Result;

use crate::anonymize::charclass::decimal_digit;
use crate::anonymize::column::ColumnType;
use crate::anonymize::keys::{Stream, strategy_key};
use crate::anonymize::params::{ParamReader, Params};
use crate::anonymize::strategy::unsupported;
use crate::anonymize::writer::map_values;
use crate::anonymize::{KeyedHasher, Strategy, TextBatch};

const LOWER: &[u8; 26] = b"abcdefghijklmnopqrstuvwxyz";
const UPPER: &[u8; 26] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Replaces each letter (of any script) with a keyed random ASCII letter of the same case and
/// each digit with a random digit of the same script; spaces, punctuation and other characters
/// stay where they are, so the length in characters and the shape are kept.
#[derive(Debug)]
pub struct SameLengthText {
    key: KeyedHasher,
    name: &'static str,
}

impl SameLengthText {
    /// Built under `name` (`same_length_text` or its alias `text`); takes no params. Needs the
    /// secret.
    pub fn from_params(
        name: &'static str,
        params: &Params,
        hasher: Option<KeyedHasher>,
    ) -> Result<Self> {
        ParamReader::new(name, params).finish()?;
        Ok(SameLengthText {
            // Both names share one key: the alias gives the same output.
            key: strategy_key("same_length_text", hasher)?,
            name,
        })
    }
}

impl Strategy for SameLengthText {
    fn name(&self) -> &str {
        self.name
    }

    fn anonymize(&self, column: &ColumnType, values: &TextBatch) -> Result<TextBatch> {
        if !column.is_textual() {
            return Err(unsupported(self.name(), column, "text-like columns"));
        }
        map_values(self.name(), values, |value, out| {
            let mut stream = Stream::new(&self.key.hash(value.as_bytes()));
            for c in value.chars() {
                let replacement = if let Some((zero, _)) = decimal_digit(c) {
                    let digit = stream.below(10) as u32;
                    out.push(char::from_u32(zero + digit).expect("a digit"));
                    continue;
                } else if c.is_uppercase() {
                    UPPER[stream.below(26)]
                } else if c.is_alphabetic() {
                    LOWER[stream.below(26)]
                } else {
                    out.push(c);
                    continue;
                };
                out.push(char::from(replacement));
            }
            if out.written() == value {
                // Every replaced character came out as it was: move the last one.
                out.replace(&moved_last(value));
            }
            Ok(())
        })
    }
}

/// `value` with its last letter or digit moved one place in its class (`a`→`b`, `Z`→`A`,
/// `٩`→`٠`).
fn moved_last(value: &str) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    if let Some(c) = chars
        .iter_mut()
        .rev()
        .find(|c| decimal_digit(**c).is_some() || c.is_alphabetic())
    {
        *c = match (decimal_digit(*c), *c) {
            (Some((zero, digit)), _) => char::from_u32(zero + (digit + 1) % 10).expect("a digit"),
            (None, 'z') => 'a',
            (None, 'Z') => 'A',
            (None, other) => char::from(other as u8 + 1),
        };
    }
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use crate::anonymize::testing::{assert_keyed, build, run};

    /// The fix-up for a keyed output that came out as the original: the last letter or digit
    /// moves one place in its class, wrapping, in its own script (its mutants survived: the
    /// strategy's tests meet that case too rarely to pin it).
    #[test]
    fn moved_last_moves_the_last_letter_or_digit_one_place() {
        use super::moved_last;
        assert_eq!(moved_last("ab9"), "ab0");
        assert_eq!(moved_last("a7-"), "a8-");
        assert_eq!(moved_last("a9b!"), "a9c!");
        assert_eq!(moved_last("xyz"), "xya");
        assert_eq!(moved_last("AZ"), "AA");
        assert_eq!(moved_last("x٣"), "x٤");
        assert_eq!(moved_last("٩"), "٠");
        assert_eq!(moved_last("--"), "--");
        assert_eq!(moved_last(""), "");
    }

    fn class(c: char) -> char {
        if c.is_ascii_digit() {
            '9'
        } else if c.is_uppercase() {
            'A'
        } else if c.is_alphabetic() {
            'a'
        } else {
            c
        }
    }

    #[test]
    fn keeps_shape_and_length() {
        let values = [Some("Hello, World 42!"), None, Some("Ünïcödé ok"), Some("")];
        assert_keyed("same_length_text", "{}", "text", &values);
        for name in ["same_length_text", "text"] {
            let out = run(&*build(name, "{}", "s"), "character varying(16)", &values);
            for (before, after) in values.iter().zip(&out) {
                if let (Some(before), Some(after)) = (before, after) {
                    let a: String = before.chars().map(class).collect();
                    let b: String = after.chars().map(class).collect();
                    assert_eq!(a, b);
                    assert!(before.is_empty() || before != after);
                }
            }
        }
        let a = run(&*build("text", "{}", "s"), "text", &values);
        let b = run(&*build("same_length_text", "{}", "s"), "text", &values);
        assert_eq!(a, b, "the alias gives the same output");
        let out = run(&*build("text", "{}", "s"), "character(3)", &[Some("ab ")]);
        assert_eq!(out[0].as_ref().unwrap().chars().count(), 3);
    }
}
