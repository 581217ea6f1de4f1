//! `credit_card`: keyed, Luhn-valid card numbers keeping the last four digits.

use anyhow::{Result, bail};

use crate::anonymize::charclass::decimal_digit;
use crate::anonymize::column::ColumnType;
use crate::anonymize::keys::{Stream, strategy_key};
use crate::anonymize::params::{ParamReader, Params};
use crate::anonymize::strategy::unsupported;
use crate::anonymize::writer::map_values;
use crate::anonymize::{KeyedHasher, Strategy, TextBatch};

/// Digits kept at the end.
const KEPT: usize = 4;

/// Replaces a card number's digits with keyed digits, keeping the last four and every
/// separator in place; the result passes the Luhn check (the digit just before the kept four
/// is chosen for it) and does not start with 0.
#[derive(Debug)]
pub struct CreditCard {
    key: KeyedHasher,
}

impl CreditCard {
    /// Takes no params. Needs the secret.
    pub fn from_params(params: &Params, hasher: Option<KeyedHasher>) -> Result<Self> {
        ParamReader::new("credit_card", params).finish()?;
        Ok(CreditCard {
            key: strategy_key("credit_card", hasher)?,
        })
    }
}

/// The Luhn sum of `digits`, leaving out position `skip`.
fn luhn_sum(digits: &[u8], skip: usize) -> u32 {
    digits
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != skip)
        .map(|(i, &d)| {
            let from_right = digits.len() - 1 - i;
            let d = u32::from(d);
            if from_right % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum()
}

impl Strategy for CreditCard {
    fn name(&self) -> &str {
        "credit_card"
    }

    fn anonymize(&self, column: &ColumnType, values: &TextBatch) -> Result<TextBatch> {
        if !column.is_textual() {
            return Err(unsupported(self.name(), column, "text-like columns"));
        }
        let mut digits: Vec<u8> = Vec::with_capacity(24);
        map_values(self.name(), values, |value, out| {
            digits.clear();
            // Digits of any script count (full-width, Arabic-Indic...), each written back in
            // its own script.
            digits.extend(
                value
                    .chars()
                    .filter_map(decimal_digit)
                    .map(|(_, value)| value as u8),
            );
            let n = digits.len();
            if n <= KEPT {
                bail!(
                    "has {n} digits; credit_card keeps the last {KEPT} and needs at least one more"
                );
            }
            let mut stream = Stream::new(&self.key.hash(&digits));
            // The check position sits right before the kept digits: from the right it is
            // position 4, never doubled, so any sum can be completed with one digit.
            let check = n - KEPT - 1;
            for (i, digit) in digits[..check].iter_mut().enumerate() {
                *digit = if i == 0 {
                    1 + stream.below(9) as u8
                } else {
                    stream.below(10) as u8
                };
            }
            digits[check] = ((10 - luhn_sum(&digits, check) % 10) % 10) as u8;
            let mut next = digits.iter();
            for c in value.chars() {
                match decimal_digit(c) {
                    Some((zero, _)) => {
                        let digit = u32::from(next.next().copied().unwrap_or(0));
                        out.push(char::from_u32(zero + digit).expect("a digit"));
                    }
                    None => out.push(c),
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anonymize::testing::{assert_keyed, build, run, run_err};

    fn luhn_valid(digits: &[u8]) -> bool {
        luhn_sum(digits, usize::MAX).is_multiple_of(10)
    }

    fn digits(value: &str) -> Vec<u8> {
        value
            .bytes()
            .filter(u8::is_ascii_digit)
            .map(|b| b - b'0')
            .collect()
    }

    #[test]
    fn luhn_reference_numbers() {
        assert!(luhn_valid(&digits("4111 1111 1111 1111")));
        assert!(luhn_valid(&digits("378282246310005")));
        assert!(!luhn_valid(&digits("4111 1111 1111 1112")));
    }

    #[test]
    fn luhn_valid_keeps_last_four_and_separators() {
        let values = [
            Some("4111-1111-1111-1111"),
            None,
            Some("3782 822463 10005"),
            Some("5555555555554444"),
        ];
        assert_keyed("credit_card", "{}", "character varying(19)", &values);
        let out = run(
            &*build("credit_card", "{}", "s"),
            "character varying(19)",
            &values,
        );
        for (before, after) in values.iter().zip(&out) {
            if let (Some(before), Some(after)) = (before, after) {
                assert!(luhn_valid(&digits(after)), "{after}");
                assert_eq!(&before[before.len() - 4..], &after[after.len() - 4..]);
                assert_eq!(before.len(), after.len());
                let seps = |v: &str| {
                    v.chars()
                        .filter(|c| !c.is_ascii_digit())
                        .collect::<String>()
                };
                assert_eq!(seps(before), seps(after));
                assert_ne!(before, after);
            }
        }
        let many: Vec<String> = (0..2000).map(|i| format!("4000{i:012}")).collect();
        let many: Vec<Option<&str>> = many.iter().map(|s| Some(s.as_str())).collect();
        let out = run(&*build("credit_card", "{}", "s"), "text", &many);
        assert!(
            out.iter()
                .flatten()
                .all(|v| luhn_valid(&digits(v)) && !v.starts_with('0'))
        );
        let error = run_err(&*build("credit_card", "{}", "s"), "text", &[Some("1234")]);
        assert!(
            error.contains("has 4 digits") && !error.contains("1234"),
            "{error}"
        );
    }

    /// Every digit but the last four is drawn anew, so a masked number agrees with the
    /// original at about one position in ten (a mutant that drew only the first few digits and
    /// kept the rest of the real number survived the other tests).
    #[test]
    fn only_the_last_four_digits_survive() {
        let numbers: Vec<String> = (0..500)
            .map(|i| {
                format!(
                    "4{:015}",
                    (i as u64 * 7_919_113_717) % 1_000_000_000_000_000
                )
            })
            .collect();
        let values: Vec<Option<&str>> = numbers.iter().map(|n| Some(n.as_str())).collect();
        let out = run(&*build("credit_card", "{}", "s"), "text", &values);
        let (mut same, mut compared) = (0, 0);
        for (before, after) in numbers.iter().zip(&out) {
            let (before, after) = (digits(before), digits(after.as_deref().unwrap()));
            // The first 11: all but the check digit and the kept four.
            for k in 0..before.len() - 5 {
                same += usize::from(before[k] == after[k]);
                compared += 1;
            }
        }
        let share = same as f64 / compared as f64;
        assert!(share < 0.2, "{same} of {compared} digits kept their value");
    }
}
