//! The native strategies and the table that names them. Each strategy lives in its own file
//! under `builtin/` and is built from its anonymization.yaml params by `from_params`.

mod credit_card;
mod date_shift;
mod email;
mod hash;
mod ip;
mod name_lists;
mod names;
mod null;
mod numeric_noise;
mod partial_mask;
mod phone;
mod preserve;
mod redact;
mod text;
mod unique;
mod uuid;

use std::sync::Arc;

use anyhow::Result;

use super::params::Params;
use super::{KeyedHasher, Strategy};

pub use credit_card::CreditCard;
pub use date_shift::DateShift;
pub use email::Email;
pub use hash::Hash;
pub use ip::{IpAddress, IpFamily};
pub use names::{NamePart, Names};
pub use null::Null;
pub use numeric_noise::NumericNoise;
pub use partial_mask::PartialMask;
pub use phone::Phone;
pub use preserve::Preserve;
pub use redact::Redact;
pub use text::SameLengthText;
pub use unique::UniquePreserving;
pub use uuid::Uuid;

type Factory = fn(&Params, Option<KeyedHasher>) -> Result<Arc<dyn Strategy>>;

fn shared<S: Strategy + 'static>(strategy: Result<S>) -> Result<Arc<dyn Strategy>> {
    strategy.map(|s| Arc::new(s) as Arc<dyn Strategy>)
}

/// Every built-in by its anonymization.yaml name.
const BUILTINS: &[(&str, Factory)] = &[
    ("credit_card", |p, h| shared(CreditCard::from_params(p, h))),
    ("date_shift", |p, h| shared(DateShift::from_params(p, h))),
    ("email", |p, h| shared(Email::from_params(p, h))),
    ("first_name", |p, h| {
        shared(Names::from_params(NamePart::First, p, h))
    }),
    ("full_name", |p, h| {
        shared(Names::from_params(NamePart::Full, p, h))
    }),
    ("hash", |p, h| shared(Hash::from_params(p, h))),
    ("ip", |p, h| shared(IpAddress::from_params(None, p, h))),
    ("ipv4", |p, h| {
        shared(IpAddress::from_params(Some(IpFamily::V4), p, h))
    }),
    ("ipv6", |p, h| {
        shared(IpAddress::from_params(Some(IpFamily::V6), p, h))
    }),
    ("last_name", |p, h| {
        shared(Names::from_params(NamePart::Last, p, h))
    }),
    ("null", |p, h| shared(Null::from_params(p, h))),
    ("numeric_noise", |p, h| {
        shared(NumericNoise::from_params(p, h))
    }),
    ("partial_mask", |p, h| {
        shared(PartialMask::from_params(p, h))
    }),
    ("phone", |p, h| shared(Phone::from_params(p, h))),
    ("preserve", |p, h| shared(Preserve::from_params(p, h))),
    ("redact", |p, h| shared(Redact::from_params(p, h))),
    ("same_length_text", |p, h| {
        shared(SameLengthText::from_params("same_length_text", p, h))
    }),
    ("text", |p, h| {
        shared(SameLengthText::from_params("text", p, h))
    }),
    ("unique_preserving", |p, h| {
        shared(UniquePreserving::from_params(p, h))
    }),
    ("uuid", |p, h| shared(Uuid::from_params(p, h))),
];

/// The names of every built-in strategy, sorted.
pub fn names() -> impl Iterator<Item = &'static str> {
    BUILTINS.iter().map(|(name, _)| *name)
}

/// Builds built-in `name` from its params; `None` when no built-in has that name.
pub fn build(
    name: &str,
    params: &Params,
    hasher: Option<KeyedHasher>,
) -> Option<Result<Arc<dyn Strategy>>> {
    BUILTINS
        .iter()
        .find(|(builtin, _)| *builtin == name)
        .map(|(_, factory)| factory(params, hasher))
}

/// The strategy `unique: true` puts on a column configured with built-in `name`: a keyed
/// bijection, so distinct values stay distinct. `email` keeps the domain and permutes the
/// local part; `null` and `preserve` already keep uniqueness and stay as they are; any other
/// built-in becomes `unique_preserving` (chosen by column type). `None` for a non-built-in.
pub fn unique(
    name: &str,
    params: &Params,
    hasher: Option<KeyedHasher>,
) -> Option<Result<Arc<dyn Strategy>>> {
    match name {
        "null" | "preserve" => build(name, params, hasher),
        "email" => Some(shared(UniquePreserving::new(hasher, true))),
        _ if BUILTINS.iter().any(|(builtin, _)| *builtin == name) => {
            Some(shared(UniquePreserving::new(hasher, false)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anonymize::testing::{as_values, hasher, params};

    #[test]
    fn every_builtin_builds_under_its_own_name() {
        let mut previous = "";
        for name in names() {
            assert!(
                previous < name,
                "BUILTINS must stay sorted: {previous} then {name}"
            );
            previous = name;
            let strategy = build(name, &Params::new(), hasher("s")).unwrap().unwrap();
            assert_eq!(strategy.name(), name);
            // Built-ins are correct by construction: sync skips the per-value output check
            // for them (it costs a plugin's batch a pass over every value).
            assert!(!strategy.needs_output_check(), "{name}");
            assert!(strategy.context_columns().is_empty(), "{name}");
        }
        assert!(build("nope", &Params::new(), hasher("s")).is_none());
    }

    /// A column a built-in cannot fill is refused before any row is read: the default
    /// `check_column` runs the strategy on an empty batch, which checks the column's type and
    /// width as a real batch would.
    #[test]
    fn check_column_refuses_what_a_builtin_cannot_fill_before_any_row() {
        use crate::anonymize::column::ColumnType;

        let check = |name: &str, params_yaml: &str, column: &str| {
            build(name, &params(params_yaml), hasher("s"))
                .unwrap()
                .unwrap()
                .check_column(&ColumnType::parse(column))
        };
        let error = check("date_shift", "{}", "integer")
            .unwrap_err()
            .to_string();
        assert!(error.contains("cannot fill"), "{error}");
        let error = check("email", "{domain: example.com}", "varchar(8)")
            .unwrap_err()
            .to_string();
        assert!(error.contains("too short"), "{error}");
        check("date_shift", "{}", "date").unwrap();
        check("email", "{}", "text").unwrap();
    }

    #[test]
    fn unknown_params_are_rejected_by_every_builtin() {
        for name in names() {
            let error = build(name, &params("{bogus_param: 1}"), hasher("s"))
                .unwrap()
                .err()
                .unwrap_or_else(|| panic!("{name} accepted an unknown param"));
            assert!(
                error.to_string().contains("`bogus_param`"),
                "{name}: {error}"
            );
        }
    }

    /// A small deterministic generator (xorshift64*) for the property test.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u32) -> u32 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32 % n
        }

        /// A character from a mix of scripts, digits, symbols and anything at all.
        fn character(&mut self) -> char {
            const RANGES: &[(u32, u32)] = &[
                (0x20, 0x7e),       // ASCII
                (0xc0, 0x17f),      // Latin-1, Latin Extended-A (Polish, French, German...)
                (0x391, 0x3c9),     // Greek
                (0x400, 0x45f),     // Cyrillic
                (0x621, 0x64a),     // Arabic letters
                (0x660, 0x669),     // Arabic-Indic digits
                (0xff10, 0xff19),   // full-width digits
                (0x4e00, 0x9fff),   // CJK ideographs
                (0x1f600, 0x1f64f), // emoji
                (0, 0x10ffff),      // any scalar value
            ];
            loop {
                let (lo, hi) = RANGES[self.below(RANGES.len() as u32) as usize];
                if let Some(c) = char::from_u32(lo + self.below(hi - lo + 1))
                    .filter(|c| *c != '\0' && !c.is_control())
                {
                    return c;
                }
            }
        }

        fn text(&mut self) -> String {
            let len = 1 + self.below(12);
            (0..len).map(|_| self.character()).collect()
        }
    }

    #[test]
    fn random_unicode_is_always_masked_and_unique_mode_stays_bijective() {
        use std::collections::HashMap;

        use crate::anonymize::charclass;
        use crate::anonymize::testing::run;

        let mut rng = Rng(0x5eed_1234_abcd_ef01);
        let inputs: Vec<String> = (0..5_000).map(|_| rng.text()).collect();
        let values = as_values(&inputs);
        let has_digit = |v: &str| v.chars().any(|c| charclass::decimal_digit(c).is_some());
        let has_class = |v: &str| v.chars().any(|c| charclass::member(c).is_some());
        let has_alphanumeric = |v: &str| has_digit(v) || v.chars().any(char::is_alphabetic);
        let masked = |v: &str, name: &str| match name {
            "phone" => has_digit(v),
            "same_length_text" => has_alphanumeric(v),
            "unique_preserving" => has_class(v),
            _ => true,
        };
        for name in [
            "email",
            "first_name",
            "last_name",
            "full_name",
            "hash",
            "phone",
            "redact",
            "same_length_text",
            "unique_preserving",
        ] {
            let strategy = build(name, &Params::new(), hasher("a property-test secret"))
                .unwrap()
                .unwrap();
            let out = run(&*strategy, "text", &values);
            for (before, after) in inputs.iter().zip(&out) {
                let after = after.as_deref().unwrap();
                if masked(before, name) {
                    assert_ne!(before, after, "{name} left {before:?} as it was");
                } else {
                    assert_eq!(before, after, "{name}: nothing to mask in {before:?}");
                }
            }
            if name == "unique_preserving" {
                let mut seen: HashMap<&str, &str> = HashMap::new();
                for (before, after) in inputs.iter().zip(&out) {
                    let after = after.as_deref().unwrap();
                    assert_eq!(before.chars().count(), after.chars().count());
                    if let Some(other) = seen.insert(after, before) {
                        assert_eq!(other, before, "{other:?} and {before:?} → {after:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn unique_picks_a_bijection() {
        let p = Params::new();
        assert_eq!(
            unique("email", &p, hasher("s")).unwrap().unwrap().name(),
            "unique_preserving"
        );
        assert_eq!(
            unique("phone", &p, hasher("s")).unwrap().unwrap().name(),
            "unique_preserving"
        );
        assert_eq!(
            unique("preserve", &p, None).unwrap().unwrap().name(),
            "preserve"
        );
        assert!(unique("wasm_thing", &p, hasher("s")).is_none());
        assert!(unique("email", &p, None).unwrap().is_err());
    }

    /// `unique: true` on an `email` column keeps each value's domain (the other built-ins'
    /// bijection would permute it too); a mutant dropping the `email` arm survived without it.
    #[test]
    fn unique_email_keeps_the_domain_and_distinct_values_distinct() {
        use crate::anonymize::testing::run;

        let emails = [
            "ann@example.com",
            "bob@example.com",
            "ann@other.org",
            "zoë@ex.fr",
        ];
        let values: Vec<Option<&str>> = emails.iter().copied().map(Some).collect();
        let strategy = unique("email", &Params::new(), hasher("s"))
            .unwrap()
            .unwrap();
        let out = run(&*strategy, "text", &values);
        for (before, after) in emails.iter().zip(&out) {
            let after = after.as_deref().unwrap();
            let (local, domain) = before.split_once('@').unwrap();
            let (masked_local, masked_domain) = after.split_once('@').unwrap();
            assert_eq!(domain, masked_domain, "{before} → {after}");
            assert_ne!(local, masked_local, "{before} → {after}");
        }
        let distinct: std::collections::HashSet<_> = out.iter().collect();
        assert_eq!(distinct.len(), emails.len());
    }
}
