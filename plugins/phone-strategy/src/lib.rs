//! Strategy `phone_mask_rust`: the worked example of every authoring guide (the same transform
//! as `phone_mask` in Python, `phone_mask_js` and `phone_mask_c`, with the same output).
//!
//! A value's ASCII digits are hashed with the keyed hash; every digit but the last two is
//! replaced by `digest[j % 32] % 10`, and everything else (`+`, spaces, dashes, brackets, other
//! characters) stays in place. A value with two digits or fewer is kept; NULL stays NULL. All
//! digests of a batch come from one `keyed_hash_batch` call.

use confiture_sdk::{
    Batch, Plugin, Result, Strategy, StrategyInfo, TextBatch, TextBatchBuilder, keyed_hash_batch,
};

/// The plugin.
#[derive(Default)]
pub struct PhoneStrategy;

impl Plugin for PhoneStrategy {
    const NAME: &'static str = "phone-strategy";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Masks phone numbers, keeping their last two digits (Rust)";
}

/// Trailing digits kept as they are.
const KEEP: usize = 2;

impl Strategy for PhoneStrategy {
    const STRATEGIES: &'static [StrategyInfo] = &[StrategyInfo {
        name: "phone_mask_rust",
        description: "Replaces all but the last 2 digits, deterministically",
        context_columns: &[],
        accepted_types: &["text", "character varying"],
        deterministic: true,
    }];

    fn anonymize(&self, batch: &Batch<'_>) -> Result<TextBatch> {
        let values = &batch.values;
        // Every value's ASCII digits in one buffer: value i's are digits[ends[i]..ends[i + 1]].
        let mut digits = Vec::with_capacity(values.len() * 12);
        let mut ends = Vec::with_capacity(values.len() + 1);
        ends.push(0);
        for value in values.iter() {
            digits.extend(value.unwrap_or("").bytes().filter(u8::is_ascii_digit));
            ends.push(digits.len());
        }
        let each = ends.windows(2).map(|pair| &digits[pair[0]..pair[1]]);
        let digests = keyed_hash_batch(each.clone().filter(|d| d.len() > KEEP))?;
        let mut digests = digests.iter();
        let mut out = TextBatchBuilder::with_capacity(values.len(), values.len() * 16);
        for (value, digits) in values.iter().zip(each) {
            match value {
                None => out.push_null(),
                Some(phone) if digits.len() <= KEEP => out.push_str(phone),
                Some(phone) => {
                    let digest = digests.next().expect("one digest per masked value");
                    let replaced = digits.len() - KEEP;
                    let mut seen = 0;
                    out.push_ascii_mapped(phone, |byte| {
                        let digit = byte.is_ascii_digit();
                        let masked = if digit && seen < replaced {
                            b'0' + digest[seen % 32] % 10
                        } else {
                            byte
                        };
                        seen += usize::from(digit);
                        masked
                    });
                }
            }
        }
        Ok(out.finish())
    }
}

confiture_sdk::export_plugin!(PhoneStrategy: strategy);

#[cfg(test)]
mod tests {
    use super::*;
    use confiture_sdk::keyed_hash;
    use confiture_sdk::testing::{self, run_strategy};

    fn mask(values: &[Option<&str>]) -> Vec<Option<String>> {
        run_strategy::<PhoneStrategy>("phone_mask_rust", values).unwrap()
    }

    #[test]
    fn replaces_all_but_the_last_two_digits_from_the_keyed_hash() {
        testing::set_secret(b"test secret");
        let digest = keyed_hash(b"33612345678").unwrap();
        let expected: String = "+33 6 12 34 56 78"
            .chars()
            .scan(0, |seen, c| {
                let out = if c.is_ascii_digit() && *seen < 9 {
                    char::from(b'0' + digest[*seen] % 10)
                } else {
                    c
                };
                *seen += usize::from(c.is_ascii_digit());
                Some(out)
            })
            .collect();
        assert_eq!(mask(&[Some("+33 6 12 34 56 78")]), [Some(expected)]);
    }

    #[test]
    fn keeps_short_values_null_and_non_ascii_characters() {
        testing::set_secret(b"test secret");
        let out = mask(&[None, Some("12"), Some(""), Some("☎ (555) 010-99 ９")]);
        assert_eq!(out[0], None);
        assert_eq!(out[1].as_deref(), Some("12"));
        assert_eq!(out[2].as_deref(), Some(""));
        let masked = out[3].as_deref().unwrap();
        assert!(
            masked.starts_with("☎ (") && masked.ends_with("-99 ９"),
            "{masked}"
        );
    }

    #[test]
    fn is_deterministic_and_fails_without_a_secret() {
        testing::set_secret(b"one");
        let first = mask(&[Some("555 0100"), Some("555-0100")]);
        assert_eq!(first[0].as_deref().map(|s| s.replace(' ', "-")), first[1]);
        testing::reset();
        assert!(run_strategy::<PhoneStrategy>("phone_mask_rust", &[Some("555 0100")]).is_err());
    }
}
