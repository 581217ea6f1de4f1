//! The `keyed-hash` import: HMAC-SHA-256 under the deployment secret. The secret stays in the
//! host; plugins only ever see digests.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The environment variable holding the deployment secret.
pub const SECRET_VAR: &str = "ANONYMIZATION_SECRET";

/// HMAC-SHA-256 keyed with the deployment secret, ready to hash many inputs.
#[derive(Clone)]
pub struct KeyedHasher {
    mac: Hmac<Sha256>,
}

impl fmt::Debug for KeyedHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyedHasher(<secret>)")
    }
}

impl KeyedHasher {
    /// A hasher keyed with `secret`; `None` for an empty secret.
    pub fn new(secret: &[u8]) -> Option<Self> {
        if secret.is_empty() {
            return None;
        }
        Hmac::<Sha256>::new_from_slice(secret)
            .ok()
            .map(|mac| KeyedHasher { mac })
    }

    /// A hasher keyed with `ANONYMIZATION_SECRET`, or `None` when it is unset or empty.
    pub fn from_env() -> Option<Self> {
        std::env::var_os(SECRET_VAR).and_then(|s| Self::new(s.as_encoded_bytes()))
    }

    /// The 32-byte HMAC-SHA-256 of `data`.
    pub fn hash(&self, data: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(data);
        mac.finalize().into_bytes().into()
    }
}

/// The batch form of a keyed hash (`keyed-hash-batch`): `hash` of each input
/// `data[offsets[i]..offsets[i + 1]]`, the 32-byte digests one after the other. The same
/// per-value function serves both imports, so a batch gives exactly the digests of the calls
/// one by one. An error names the problem when the offsets do not start at 0, decrease or run
/// past the data, or what `hash` returned.
pub fn hash_batch(
    data: &[u8],
    offsets: &[u32],
    mut hash: impl FnMut(&[u8]) -> Result<[u8; 32], String>,
) -> Result<Vec<u8>, String> {
    match offsets.first() {
        None => return Err("keyed-hash-batch: the offsets are empty (they start with 0)".into()),
        Some(&first) if first != 0 => {
            return Err(format!(
                "keyed-hash-batch: the first offset is {first}, not 0"
            ));
        }
        Some(_) => {}
    }
    let mut digests = Vec::with_capacity((offsets.len() - 1) * 32);
    for (i, pair) in offsets.windows(2).enumerate() {
        let (start, end) = (pair[0] as usize, pair[1] as usize);
        if start > end || end > data.len() {
            return Err(format!(
                "keyed-hash-batch: input {i} spans {start}..{end}, outside the {} bytes of data",
                data.len()
            ));
        }
        digests.extend_from_slice(&hash(&data[start..end])?);
    }
    Ok(digests)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_rfc_4231_test_case_2() {
        let hasher = KeyedHasher::new(b"Jefe").unwrap();
        let digest = hasher.hash(b"what do ya want for nothing?");
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn deterministic_and_secret_dependent() {
        let a = KeyedHasher::new(b"one").unwrap();
        let b = KeyedHasher::new(b"two").unwrap();
        assert_eq!(a.hash(b"x@example.org"), a.hash(b"x@example.org"));
        assert_ne!(a.hash(b"x@example.org"), b.hash(b"x@example.org"));
        assert!(KeyedHasher::new(b"").is_none());
        assert!(!format!("{a:?}").contains("one"));
    }

    #[test]
    fn batches_give_the_digests_one_by_one_and_refuse_bad_offsets() {
        let hasher = KeyedHasher::new(b"one").unwrap();
        let one = |data: &[u8]| Ok(hasher.hash(data));
        let digests = hash_batch("abcé".as_bytes(), &[0, 1, 1, 5], one).unwrap();
        assert_eq!(digests.len(), 96);
        assert_eq!(digests[..32], hasher.hash(b"a"));
        assert_eq!(digests[32..64], hasher.hash(b""));
        assert_eq!(digests[64..], hasher.hash("bcé".as_bytes()));
        assert_eq!(hash_batch(b"", &[0], one).unwrap(), Vec::<u8>::new());
        assert!(hash_batch(b"ab", &[], one).unwrap_err().contains("empty"));
        assert!(
            hash_batch(b"ab", &[1, 2], one)
                .unwrap_err()
                .contains("not 0")
        );
        assert!(
            hash_batch(b"ab", &[0, 2, 1], one)
                .unwrap_err()
                .contains("input 1")
        );
        assert!(
            hash_batch(b"ab", &[0, 3], one)
                .unwrap_err()
                .contains("outside")
        );
        let failing = |_: &[u8]| Err("no secret".to_string());
        assert_eq!(
            hash_batch(b"ab", &[0, 2], failing).unwrap_err(),
            "no secret"
        );
    }
}
