//! Keys derived from the deployment secret, and the `keyed-hash` import built on them.
//!
//! The secret itself never hashes anything a caller can choose: every key the host uses is
//! `HMAC-SHA-256(secret, domain ‖ label)` for a [`Domain`] and a label (a strategy name, a seed,
//! a plugin name). Domains are fixed byte strings ending in NUL, none a prefix of another, so
//! two different (domain, label) pairs never feed HMAC the same input and no derived key can be
//! computed from another.
//!
//! A plugin's `keyed-hash(data)` is `HMAC-SHA-256(plugin key, data)` with the plugin key in
//! [`Domain::Plugin`] under the plugin's name: whatever bytes it passes, it only ever computes
//! with its own key, never with the secret, so it cannot reproduce a built-in strategy's key or
//! output, nor another plugin's.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The environment variable holding the deployment secret.
pub const SECRET_VAR: &str = "ANONYMIZATION_SECRET";

/// What a derived key is for. Each domain is a distinct prefix of the HMAC input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// A built-in anonymization strategy's key, labelled with the strategy's name.
    Strategy,
    /// A column's `seed` from anonymization.yaml, re-keying the strategies under it.
    Seed,
    /// A plugin's `keyed-hash` key, labelled with the plugin's name.
    Plugin,
    /// The fingerprint of the secret that sync checkpoints record (no label).
    Fingerprint,
}

impl Domain {
    /// Every domain, for checks that they stay distinct.
    pub const ALL: [Domain; 4] = [
        Domain::Strategy,
        Domain::Seed,
        Domain::Plugin,
        Domain::Fingerprint,
    ];

    /// The bytes that start the HMAC input of every key in this domain.
    pub fn prefix(self) -> &'static [u8] {
        match self {
            Domain::Strategy => b"confiture.anonymize.strategy\0",
            Domain::Seed => b"confiture.anonymize.seed\0",
            Domain::Plugin => b"confiture.plugin.keyed-hash\0",
            Domain::Fingerprint => b"confiture.sync.fingerprint\0",
        }
    }
}

/// HMAC-SHA-256 under one key, ready to hash many inputs.
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

    /// The key for `label` in `domain`: a hasher keyed with `HMAC(self, domain ‖ label)`.
    pub fn derive(&self, domain: Domain, label: &str) -> KeyedHasher {
        let mut mac = self.mac.clone();
        mac.update(domain.prefix());
        mac.update(label.as_bytes());
        let key: [u8; 32] = mac.finalize().into_bytes().into();
        KeyedHasher::new(&key).expect("a 32-byte digest is a non-empty key")
    }

    /// The key of plugin `name`: what its `keyed-hash` import computes with.
    pub fn for_plugin(&self, name: &str) -> KeyedHasher {
        self.derive(Domain::Plugin, name)
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
    fn domains_are_prefix_free() {
        for a in Domain::ALL {
            assert_eq!(a.prefix().last(), Some(&0), "{a:?} ends in NUL");
            assert_eq!(a.prefix().iter().filter(|b| **b == 0).count(), 1);
            for b in Domain::ALL {
                if a != b {
                    assert!(!a.prefix().starts_with(b.prefix()), "{a:?} / {b:?}");
                }
            }
        }
    }

    /// The derivation is the documented one (docs/plugins/security.md): HMAC(secret, prefix ‖
    /// label) as the key.
    #[test]
    fn derivation_is_hmac_of_prefix_and_label() {
        let secret = KeyedHasher::new(b"s").unwrap();
        let key = secret.hash(b"confiture.plugin.keyed-hash\0email-strategy");
        let expected = KeyedHasher::new(&key).unwrap().hash(b"x");
        assert_eq!(secret.for_plugin("email-strategy").hash(b"x"), expected);
    }

    /// Whatever a plugin feeds its `keyed-hash`, it computes with its own key: asking for the
    /// bytes of a built-in strategy's key derivation, or of another plugin's, gives something
    /// else than that key, and its own key is neither of theirs.
    #[test]
    fn a_plugin_cannot_compute_another_key() {
        let secret = KeyedHasher::new(b"deployment secret").unwrap();
        let plugin = secret.for_plugin("hostile");
        let mut input = Domain::Strategy.prefix().to_vec();
        input.extend_from_slice(b"hash");
        let builtin_key = secret.hash(&input);
        assert_ne!(plugin.hash(&input), builtin_key);
        assert_ne!(
            plugin.hash(b"alice"),
            secret.derive(Domain::Strategy, "hash").hash(b"alice")
        );
        let mut other = Domain::Plugin.prefix().to_vec();
        other.extend_from_slice(b"email-strategy");
        assert_ne!(plugin.hash(&other), secret.hash(&other));
        assert_ne!(
            plugin.hash(b"alice"),
            secret.for_plugin("email-strategy").hash(b"alice")
        );
        assert_ne!(plugin.hash(b"alice"), secret.hash(b"alice"));
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
