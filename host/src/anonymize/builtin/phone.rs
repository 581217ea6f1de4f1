//! `phone`: keyed digits in the number's own format.

use anyhow::Result;

use crate::anonymize::column::ColumnType;
use crate::anonymize::keys::{Stream, strategy_key};
use crate::anonymize::params::{ParamReader, Params};
use crate::anonymize::strategy::unsupported;
use crate::anonymize::writer::map_values;
use crate::anonymize::{KeyedHasher, Strategy, TextBatch};

/// Replaces every digit with a keyed digit and keeps everything else (`+`, spaces,
/// parentheses, hyphens) in place; the last `keep_last` digits stay. The digits are keyed on
/// the number's digits alone, so `+1 555 123 4567` and `15551234567` get the same digits.
#[derive(Debug)]
pub struct Phone {
    key: KeyedHasher,
    keep_last: usize,
}

impl Phone {
    /// Param `keep_last` (digits kept at the end, default 0). Needs the secret.
    pub fn from_params(params: &Params, hasher: Option<KeyedHasher>) -> Result<Self> {
        let mut reader = ParamReader::new("phone", params);
        let keep_last = reader.integer("keep_last", 0, 100)?.unwrap_or(0) as usize;
        reader.finish()?;
        Ok(Phone {
            key: strategy_key("phone", hasher)?,
            keep_last,
        })
    }
}

impl Strategy for Phone {
    fn name(&self) -> &str {
        "phone"
    }

    fn anonymize(&self, column: &ColumnType, values: &TextBatch) -> Result<TextBatch> {
        if !column.is_textual() {
            return Err(unsupported(self.name(), column, "text-like columns"));
        }
        let mut digits = Vec::with_capacity(32);
        map_values(self.name(), values, |value, out| {
            digits.clear();
            digits.extend(value.bytes().filter(u8::is_ascii_digit));
            let mut stream = Stream::new(&self.key.hash(&digits));
            let replaced = digits.len().saturating_sub(self.keep_last);
            let mut seen = 0;
            for c in value.chars() {
                if c.is_ascii_digit() {
                    if seen < replaced {
                        out.push(char::from(b'0' + stream.below(10) as u8));
                    } else {
                        out.push(c);
                    }
                    seen += 1;
                } else {
                    out.push(c);
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::anonymize::testing::{assert_keyed, build, run};

    fn shape(value: &str) -> String {
        value
            .chars()
            .map(|c| if c.is_ascii_digit() { '9' } else { c })
            .collect()
    }

    #[test]
    fn keeps_the_format_and_the_last_digits() {
        let values = [
            Some("+1 (555) 123-4567"),
            None,
            Some("020 7946 0958"),
            Some("15551234567"),
        ];
        assert_keyed("phone", "{}", "text", &values);
        let out = run(
            &*build("phone", "{keep_last: 2}", "s"),
            "character varying(20)",
            &values,
        );
        for (before, after) in values.iter().zip(&out) {
            if let (Some(before), Some(after)) = (before, after) {
                assert_eq!(shape(before), shape(after));
                assert_eq!(&before[before.len() - 2..], &after[after.len() - 2..]);
                assert_ne!(before, after);
            }
        }
        let digits = |v: &str| v.chars().filter(char::is_ascii_digit).collect::<String>();
        assert_eq!(
            digits(out[0].as_ref().unwrap()),
            digits(out[3].as_ref().unwrap())
        );
    }
}
