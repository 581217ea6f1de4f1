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
    use crate::anonymize::testing::{hasher, params};

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
        }
        assert!(build("nope", &Params::new(), hasher("s")).is_none());
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
}
