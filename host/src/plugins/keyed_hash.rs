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
}
