//! `unique_preserving`: keyed bijections for key columns, so values that were distinct stay
//! distinct (unique constraints and primary keys survive the masking).

mod feistel;
mod fpe;

use std::fmt::Write as _;

use anyhow::{Result, anyhow};

use self::feistel::Feistel;
use super::uuid::push_uuid;
use crate::anonymize::column::{ColumnType, Kind};
use crate::anonymize::keys::strategy_key;
use crate::anonymize::params::{ParamReader, Params};
use crate::anonymize::strategy::unsupported;
use crate::anonymize::writer::map_values;
use crate::anonymize::{KeyedHasher, Strategy, TextBatch};

/// Tweaks selecting independent permutations from the one key.
const NON_NEGATIVE: u8 = 1;
const NEGATIVE: u8 = 2;
const UUID: u8 = 3;

/// A keyed bijection chosen by column type:
/// - `smallint`/`integer`/`bigint`: a Feistel permutation of the type's non-negative values
///   (cycle-walking keeps results in range); negative values are permuted among negatives;
/// - `uuid`: a Feistel permutation of all 128 bits (the result is any UUID, not a version 4);
/// - text-like: letters and digits permuted within their class, other characters and the
///   length kept (see `fpe`); with `email`, only the part before the last `@` is permuted.
#[derive(Debug)]
pub struct UniquePreserving {
    key: KeyedHasher,
    email: bool,
}

impl UniquePreserving {
    /// Param `email` (true: keep the domain of `local@domain` values; default false). Needs
    /// the secret.
    pub fn from_params(params: &Params, hasher: Option<KeyedHasher>) -> Result<Self> {
        let mut reader = ParamReader::new("unique_preserving", params);
        let email = reader.bool("email")?.unwrap_or(false);
        reader.finish()?;
        Self::new(hasher, email)
    }

    /// The bijection `unique: true` selects, for emails (`email`) or not.
    pub fn new(hasher: Option<KeyedHasher>, email: bool) -> Result<Self> {
        Ok(UniquePreserving {
            key: strategy_key("unique_preserving", hasher)?,
            email,
        })
    }

    fn integer(&self, value: &str, bits: u32) -> Result<i128> {
        let x: i128 = value
            .trim()
            .parse()
            .map_err(|_| anyhow!("not an integer"))?;
        let domain = bits - 1;
        let limit = 1i128 << domain;
        if x >= limit || x < -limit {
            return Err(anyhow!("out of range for a {bits}-bit integer"));
        }
        Ok(if x >= 0 {
            Feistel::new(&self.key, NON_NEGATIVE, domain).permute(x as u128) as i128
        } else {
            // -1 - x maps the negatives onto the non-negatives and back.
            -1 - Feistel::new(&self.key, NEGATIVE, domain).permute((-1 - x) as u128) as i128
        })
    }
}

fn parse_uuid(value: &str) -> Option<u128> {
    let mut n: u128 = 0;
    let mut digits = 0;
    for c in value
        .trim()
        .chars()
        .filter(|c| !matches!(c, '-' | '{' | '}'))
    {
        n = n << 4 | u128::from(c.to_digit(16)?);
        digits += 1;
    }
    (digits == 32).then_some(n)
}

impl Strategy for UniquePreserving {
    fn name(&self) -> &str {
        "unique_preserving"
    }

    fn anonymize(&self, column: &ColumnType, values: &TextBatch) -> Result<TextBatch> {
        if let Some(bits) = column.integer_bits() {
            return map_values(self.name(), values, |value, out| {
                write!(out, "{}", self.integer(value, bits)?)?;
                Ok(())
            });
        }
        if *column.kind() == Kind::Uuid && !column.is_array() {
            let feistel = Feistel::new(&self.key, UUID, 128);
            return map_values(self.name(), values, |value, out| {
                let x = parse_uuid(value).ok_or_else(|| anyhow!("not a UUID"))?;
                push_uuid(out.buffer(), &feistel.permute(x).to_be_bytes());
                Ok(())
            });
        }
        if !column.is_textual() {
            return Err(unsupported(
                self.name(),
                column,
                "integer, uuid and text-like columns",
            ));
        }
        let mut scratch = fpe::Scratch::default();
        map_values(self.name(), values, |value, out| {
            match value.rsplit_once('@').filter(|_| self.email) {
                Some((local, domain)) => {
                    fpe::permute(&self.key, local, out.buffer(), &mut scratch);
                    out.push('@');
                    out.push_str(domain);
                }
                None => fpe::permute(&self.key, value, out.buffer(), &mut scratch),
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use sha2::Digest as _;

    use super::*;
    use crate::anonymize::builtin::email::tests::is_email;
    use crate::anonymize::keys::Stream;
    use crate::anonymize::testing::{as_values, assert_keyed, build, run, run_err};

    fn distinct(out: &[Option<String>]) -> usize {
        out.iter().collect::<HashSet<_>>().len()
    }

    /// 100k distinct random values from `make`, drawn from at most a million tries (a generator
    /// that repeats itself fails the test instead of hanging it).
    fn random_distinct(mut make: impl FnMut(&mut Stream) -> String) -> Vec<String> {
        let mut stream = Stream::new(&[42; 32]);
        let mut seen = HashSet::new();
        for _ in 0..1_000_000 {
            if seen.len() == 100_000 {
                break;
            }
            seen.insert(make(&mut stream));
        }
        assert_eq!(seen.len(), 100_000, "the generator repeats itself");
        seen.into_iter().collect()
    }

    #[test]
    fn smallint_exhaustively_bijective_and_sign_keeping() {
        let all: Vec<String> = (i16::MIN..=i16::MAX).map(|n| n.to_string()).collect();
        let out = run(
            &*build("unique_preserving", "{}", "s"),
            "smallint",
            &as_values(&all),
        );
        assert_eq!(distinct(&out), 65_536);
        for (before, after) in all.iter().zip(&out) {
            let (a, b): (i32, i32) = (
                before.parse().unwrap(),
                after.as_ref().unwrap().parse().unwrap(),
            );
            assert_eq!(a < 0, b < 0, "{a} -> {b}");
        }
        let moved = all
            .iter()
            .zip(&out)
            .filter(|(a, b)| Some(*a) != b.as_ref())
            .count();
        assert!(moved > 65_000, "{moved}");
    }

    #[test]
    fn integers_random_distinct() {
        for (type_name, bits) in [("integer", 32), ("bigint", 64)] {
            let inputs = random_distinct(|s| {
                let x = s.next_u64() as i64;
                (if bits == 32 { i64::from(x as i32) } else { x }).to_string()
            });
            let out = run(
                &*build("unique_preserving", "{}", "s"),
                type_name,
                &as_values(&inputs),
            );
            assert_eq!(distinct(&out), inputs.len(), "{type_name}");
            for (a, b) in inputs.iter().zip(&out) {
                assert_eq!(a.starts_with('-'), b.as_ref().unwrap().starts_with('-'));
            }
        }
        assert_keyed(
            "unique_preserving",
            "{}",
            "bigint",
            &[Some("1"), None, Some("-5"), Some("9223372036854775807")],
        );
        let out = run(
            &*build("unique_preserving", "{}", "s"),
            "integer",
            &[Some("2147483647"), Some("-2147483648"), Some("0")],
        );
        assert!(out.iter().flatten().all(|v| v.parse::<i32>().is_ok()));
        let error = run_err(
            &*build("unique_preserving", "{}", "s"),
            "integer",
            &[Some("x")],
        );
        assert!(error.contains("value 0"), "{error}");
    }

    /// SHA-256 of the outputs, one per line.
    fn digest_of(out: &[Option<String>]) -> String {
        let lines: Vec<&str> = out.iter().map(|v| v.as_deref().unwrap()).collect();
        let digest = sha2::Sha256::digest(lines.join("\n").as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The mapping is part of what a release promises: the same secret maps a key to the same
    /// value in every version, so tables synced separately still join. These outputs pin it;
    /// change them only with a breaking release.
    #[test]
    fn the_mapping_is_pinned_across_versions() {
        let strategy = build("unique_preserving", "{}", "s");
        let email = build("unique_preserving", "{email: true}", "s");
        let integers: Vec<String> = (-500..500).map(|n| (n * 7_919).to_string()).collect();
        let uuids: Vec<String> = (0..1_000u128)
            .map(|n| {
                let mut out = String::new();
                push_uuid(&mut out, &(n * 0x9e37_79b9_7f4a_7c15).to_be_bytes());
                out
            })
            .collect();
        let texts: Vec<String> = (0..1_000)
            .map(|n| format!("Zz-{n:03}-ω{}", ["az", "ZZ", "99", "é"][n % 4]))
            .collect();
        let got = [
            digest_of(&run(&*strategy, "integer", &as_values(&integers))),
            digest_of(&run(&*strategy, "bigint", &as_values(&integers))),
            digest_of(&run(&*strategy, "uuid", &as_values(&uuids))),
            digest_of(&run(&*strategy, "text", &as_values(&texts))),
        ];
        assert_eq!(
            got,
            [
                "8cb23aff9f3442d68a525bb910e5dcf9606ddf90db60e9fe5bc8f2cd70e36309",
                "23776ae375043159ea656f4c1c2e50e8d0e406daf528286046740287ea30a013",
                "689326bff86156d1b7025d5b6cc022dd7e5ec3aed9ec150e740dfffe679241f5",
                "c626a8e74699e9acab5e3625a9c160899dfe05c2eb862229cf81d0c2ed659028",
            ]
        );
        let one = |strategy: &dyn Strategy, type_name: &str, value: &str| {
            run(strategy, type_name, &[Some(value)])[0].clone().unwrap()
        };
        assert_eq!(one(&*strategy, "integer", "42"), "436763249");
        assert_eq!(
            one(&*strategy, "uuid", "123e4567-e89b-12d3-a456-426614174000"),
            "306dd9c3-acf5-a6ca-42bb-a6054dbe6690"
        );
        assert_eq!(
            one(&*strategy, "text", "Hello, Wörld-42"),
            "Xihlu, Tætpf-03"
        );
        assert_eq!(
            one(&*email, "text", "ada.lovelace@example.com"),
            "eet.pxccdkcn@example.com"
        );
    }

    #[test]
    fn a_value_past_its_types_range_is_refused_not_folded_into_it() {
        let strategy = build("unique_preserving", "{}", "s");
        for (type_name, edges) in [
            ("smallint", ["32767", "-32768", "32768", "-32769"]),
            (
                "integer",
                ["2147483647", "-2147483648", "2147483648", "-2147483649"],
            ),
        ] {
            run(&*strategy, type_name, &[Some(edges[0]), Some(edges[1])]);
            for outside in &edges[2..] {
                let error = run_err(&*strategy, type_name, &[Some(outside)]);
                assert!(
                    error.contains("out of range"),
                    "{type_name} {outside}: {error}"
                );
            }
        }
    }

    #[test]
    fn text_random_distinct_same_shape() {
        let inputs = random_distinct(|s| {
            let len = 1 + s.below(12);
            (0..len)
                .map(|_| b"abcXYZ019 -._"[s.below(13)] as char)
                .collect()
        });
        let out = run(
            &*build("unique_preserving", "{}", "s"),
            "character varying(12)",
            &as_values(&inputs),
        );
        assert_eq!(distinct(&out), inputs.len());
        for (a, b) in inputs.iter().zip(&out) {
            assert_eq!(a.len(), b.as_ref().unwrap().len());
        }
        assert_keyed(
            "unique_preserving",
            "{}",
            "text",
            &[Some("ABC-123"), None, Some("hello")],
        );
    }

    #[test]
    fn emails_random_distinct_keep_domain() {
        let inputs = random_distinct(|s| {
            let local: String = (0..1 + s.below(10))
                .map(|_| b"abcdefxyz0189._"[s.below(15)] as char)
                .collect();
            let domain = ["example.com", "corp.test", "mail.example.org"][s.below(3)];
            format!("a{local}@{domain}")
        });
        let strategy = build("unique_preserving", "{email: true}", "s");
        let out = run(&*strategy, "text", &as_values(&inputs));
        assert_eq!(distinct(&out), inputs.len());
        for (a, b) in inputs.iter().zip(&out) {
            let b = b.as_ref().unwrap();
            assert!(is_email(b), "{b}");
            assert_eq!(a.rsplit_once('@').unwrap().1, b.rsplit_once('@').unwrap().1);
        }
    }

    #[test]
    fn uuids_random_distinct() {
        let inputs = random_distinct(|s| {
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&s.next_u64().to_le_bytes());
            bytes[8..].copy_from_slice(&s.next_u64().to_le_bytes());
            let mut out = String::new();
            push_uuid(&mut out, &bytes);
            out
        });
        let out = run(
            &*build("unique_preserving", "{}", "s"),
            "uuid",
            &as_values(&inputs),
        );
        assert_eq!(distinct(&out), inputs.len());
        assert_keyed(
            "unique_preserving",
            "{}",
            "uuid",
            &[Some("123e4567-e89b-12d3-a456-426614174000"), None],
        );
        let error = run_err(
            &*build("unique_preserving", "{}", "s"),
            "numeric(10,2)",
            &[Some("1.00")],
        );
        assert!(error.contains("cannot fill"), "{error}");
    }
}
