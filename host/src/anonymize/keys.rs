//! Keys and keyed randomness: every keyed strategy gets its own HMAC key derived from the
//! deployment secret (and the column's `seed`), and draws its choices from one digest per value.

use anyhow::{Result, anyhow};

use super::KeyedHasher;
use crate::plugins::keyed_hash::{Domain, SECRET_VAR};

/// What a keyed strategy says when no secret was given.
const SECRET_HINT: &str =
    "set ANONYMIZATION_SECRET (the deployment secret that keeps anonymization deterministic)";

/// The hasher a keyed strategy `strategy` uses: the deployment hasher re-keyed for that strategy
/// alone, so two strategies never reveal each other's outputs. Errors without a secret.
pub(crate) fn strategy_key(strategy: &str, hasher: Option<KeyedHasher>) -> Result<KeyedHasher> {
    let hasher = hasher.ok_or_else(|| anyhow!("strategy `{strategy}` is keyed: {SECRET_HINT}"))?;
    Ok(hasher.derive(Domain::Strategy, strategy))
}

/// The fewest bytes a deployment secret may have: a short one could be guessed, and with it
/// every masked value checked against a candidate.
pub const MIN_SECRET_BYTES: usize = 16;

/// The deployment hasher from `ANONYMIZATION_SECRET` (see [`hasher_from_secret`]).
pub fn deployment_hasher() -> Result<Option<KeyedHasher>> {
    hasher_from_secret(std::env::var_os(SECRET_VAR).as_deref())
}

/// The deployment hasher for `secret`: `None` when it is unset or empty, a configuration error
/// (exit 5) when it is shorter than [`MIN_SECRET_BYTES`].
fn hasher_from_secret(secret: Option<&std::ffi::OsStr>) -> Result<Option<KeyedHasher>> {
    let Some(secret) = secret.filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let bytes = secret.as_encoded_bytes();
    if bytes.len() < MIN_SECRET_BYTES {
        return Err(crate::error::Failure::config(format!(
            "{SECRET_VAR} is {} bytes long; it must have at least {MIN_SECRET_BYTES}",
            bytes.len()
        ))
        .hint("generate one, e.g. `openssl rand -base64 32`, and keep it in a secret store")
        .into());
    }
    Ok(KeyedHasher::new(bytes))
}

/// A digest that changes with the deployment secret and reveals nothing of it (a keyed hash
/// of a fixed label, in a domain of its own): recorded in sync checkpoints.
pub fn secret_fingerprint(hasher: &KeyedHasher) -> String {
    let digest = hasher.derive(Domain::Fingerprint, "").hash(b"secret");
    let mut out = String::with_capacity(32);
    push_hex(&mut out, &digest, 32);
    out
}

/// `hasher` re-keyed with a column's `seed` from anonymization.yaml: the same strategy under
/// two seeds gives unrelated outputs.
pub fn seeded(hasher: &KeyedHasher, seed: &str) -> KeyedHasher {
    hasher.derive(Domain::Seed, seed)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends the first `chars` lowercase hex digits of `bytes` (at most `2 * bytes.len()`).
pub(crate) fn push_hex(out: &mut String, bytes: &[u8], chars: usize) {
    for (i, byte) in bytes.iter().enumerate().take(chars.div_ceil(2)) {
        out.push(HEX[usize::from(byte >> 4)] as char);
        if 2 * i + 1 < chars {
            out.push(HEX[usize::from(byte & 0x0f)] as char);
        }
    }
}

/// The little-endian `u64` at bytes `8 * index..8 * index + 8` of a digest (`index` < 4).
pub(crate) fn word(digest: &[u8; 32], index: usize) -> u64 {
    let mut bytes = [0; 8];
    bytes.copy_from_slice(&digest[8 * index..8 * index + 8]);
    u64::from_le_bytes(bytes)
}

/// A uniform pick in `0..n` from a 64-bit word (multiply-shift; bias below 2^-32 for n < 2^32).
pub(crate) fn pick(word: u64, n: usize) -> usize {
    ((u128::from(word) * n as u128) >> 64) as usize
}

/// xoshiro256** seeded from a digest: a fixed, portable stream for choices beyond one digest.
/// Its seed is the keyed digest, so the stream carries no more than the digest does.
pub(crate) struct Stream([u64; 4]);

impl Stream {
    /// The stream seeded with `digest`.
    pub(crate) fn new(digest: &[u8; 32]) -> Self {
        let mut state = [0; 4];
        for (i, slot) in state.iter_mut().enumerate() {
            *slot = word(digest, i);
        }
        if state == [0; 4] {
            state[0] = 1;
        }
        Stream(state)
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform pick in `0..n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        pick(self.next_u64(), n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategy_keys_differ_per_strategy_and_need_a_secret() {
        let base = KeyedHasher::new(b"s").unwrap();
        let email = strategy_key("email", Some(base.clone())).unwrap();
        let phone = strategy_key("phone", Some(base.clone())).unwrap();
        assert_ne!(email.hash(b"x"), phone.hash(b"x"));
        assert_ne!(email.hash(b"x"), base.hash(b"x"));
        assert_ne!(seeded(&email, "1").hash(b"x"), email.hash(b"x"));
        let error = strategy_key("email", None).unwrap_err().to_string();
        assert!(error.contains("set ANONYMIZATION_SECRET"), "{error}");
    }

    #[test]
    fn the_secret_fingerprint_is_keyed_and_separated() {
        let a = KeyedHasher::new(b"0123456789abcdef").unwrap();
        let b = KeyedHasher::new(b"0123456789abcdeF").unwrap();
        assert_eq!(secret_fingerprint(&a), secret_fingerprint(&a.clone()));
        assert_ne!(secret_fingerprint(&a), secret_fingerprint(&b));
        assert_eq!(secret_fingerprint(&a).len(), 32);
        let mut direct = String::new();
        push_hex(&mut direct, &a.hash(b"secret"), 32);
        assert_ne!(secret_fingerprint(&a), direct, "a domain of its own");
    }

    #[test]
    fn a_secret_makes_the_hasher_only_from_its_minimum_length() {
        use std::ffi::OsStr;
        assert!(hasher_from_secret(None).unwrap().is_none());
        assert!(hasher_from_secret(Some(OsStr::new(""))).unwrap().is_none());
        let short = "é".repeat(7) + "x"; // 15 bytes, 8 characters: bytes count
        let error = hasher_from_secret(Some(OsStr::new(&short))).unwrap_err();
        let failure = error
            .downcast_ref::<crate::error::Failure>()
            .expect("a Failure");
        assert_eq!(failure.code, crate::error::ExitCode::Config);
        assert!(
            error
                .to_string()
                .contains("is 15 bytes long; it must have at least 16"),
            "{error}"
        );
        assert!(
            !error.to_string().contains(&short),
            "the secret is never shown: {error}"
        );
        let exact = "0123456789abcdef";
        let hasher = hasher_from_secret(Some(OsStr::new(exact)))
            .unwrap()
            .unwrap();
        assert_eq!(
            hasher.hash(b"x"),
            KeyedHasher::new(exact.as_bytes()).unwrap().hash(b"x"),
            "keyed by the secret itself"
        );
        let longer = hasher_from_secret(Some(OsStr::new("0123456789abcdefg"))).unwrap();
        assert_ne!(longer.unwrap().hash(b"x"), hasher.hash(b"x"));
    }

    /// The stream is xoshiro256** exactly: outputs of deterministic strategies that draw from
    /// it must not change between versions. Known answers of the reference implementation
    /// (Blackman and Vigna) for the state `[1, 2, 3, 4]`.
    #[test]
    fn the_stream_is_xoshiro256_starstar() {
        let mut stream = Stream([1, 2, 3, 4]);
        let first: Vec<u64> = (0..6).map(|_| stream.next_u64()).collect();
        assert_eq!(
            first,
            [
                11520,
                0,
                1509978240,
                1215971899390074240,
                1216172134540287360,
                607988272756665600
            ]
        );
    }

    #[test]
    fn hex_takes_the_requested_number_of_digits() {
        let mut out = String::new();
        push_hex(&mut out, &[0xab, 0xcd, 0xef], 5);
        assert_eq!(out, "abcde");
        out.clear();
        push_hex(&mut out, &[0x01, 0x23], 4);
        assert_eq!(out, "0123");
    }

    #[test]
    fn picks_stay_in_range_and_spread() {
        let mut stream = Stream::new(&[7; 32]);
        let mut seen = [0usize; 10];
        for _ in 0..10_000 {
            seen[stream.below(10)] += 1;
        }
        assert!(seen.iter().all(|&n| n > 800), "{seen:?}");
        assert_eq!(pick(u64::MAX, 26), 25);
        assert_eq!(pick(0, 26), 0);
    }
}
