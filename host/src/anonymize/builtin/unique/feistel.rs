//! A keyed Feistel permutation over `0..2^bits` (bits ≤ 128), with cycle-walking for domains
//! narrower than an even split. The round function is HMAC-SHA-256 under the strategy's key.

use crate::anonymize::KeyedHasher;
use crate::anonymize::keys::word;

/// Rounds per permutation (Luby–Rackoff needs 4 with a random round function; 8 for margin).
const ROUNDS: u8 = 8;

/// A keyed permutation of `0..2^bits` for any `bits` in `1..=128`; `tweak` picks an
/// independent permutation from the same key (used to separate signs and types).
pub(crate) struct Feistel<'k> {
    key: &'k KeyedHasher,
    tweak: u8,
    bits: u32,
}

impl<'k> Feistel<'k> {
    /// The permutation of `0..2^bits` selected by `tweak`.
    pub(crate) fn new(key: &'k KeyedHasher, tweak: u8, bits: u32) -> Self {
        assert!((1..=128).contains(&bits), "a Feistel domain of {bits} bits");
        Self { key, tweak, bits }
    }

    /// The image of `x` (which must be below `2^bits`).
    pub(crate) fn permute(&self, x: u128) -> u128 {
        let half = self.bits.div_ceil(2);
        let mut y = x;
        // Cycle-walking: the balanced network covers 2^(2*half) ≥ 2^bits values; re-apply
        // until the result falls back in the domain. Ends because each walk follows one cycle
        // of a permutation that contains `x`.
        loop {
            y = self.balanced(y, half);
            if 2 * half == self.bits || y >> self.bits == 0 {
                return y;
            }
        }
    }

    fn balanced(&self, x: u128, half: u32) -> u128 {
        let mask = u128::MAX >> (128 - half);
        let (mut left, mut right) = (x >> half & mask, x & mask);
        for round in 0..ROUNDS {
            let next = left ^ (self.round(round, right) & mask);
            left = right;
            right = next;
        }
        left << half | right
    }

    fn round(&self, round: u8, half: u128) -> u128 {
        let mut input = [0u8; 19];
        input[0] = self.tweak;
        input[1] = round;
        input[2] = self.bits as u8;
        input[3..].copy_from_slice(&half.to_le_bytes());
        // A half is at most 64 bits (the domain at most 128): one word of the digest covers it.
        u128::from(word(&self.key.hash(&input), 0))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn exhaustive_small_domains_are_permutations() {
        let key = KeyedHasher::new(b"feistel").unwrap();
        for bits in [1, 2, 3, 7, 10, 12] {
            let feistel = Feistel::new(&key, 0, bits);
            let image: HashSet<u128> = (0..1u128 << bits).map(|x| feistel.permute(x)).collect();
            assert_eq!(image.len(), 1 << bits, "{bits} bits");
            assert!(image.iter().all(|&y| y < 1 << bits));
        }
        let moved = (0..1024u128)
            .filter(|&x| Feistel::new(&key, 0, 10).permute(x) != x)
            .count();
        assert!(moved > 1000, "{moved}");
    }

    #[test]
    fn tweaks_and_keys_select_other_permutations() {
        let key = KeyedHasher::new(b"feistel").unwrap();
        let other = KeyedHasher::new(b"other").unwrap();
        let a: Vec<u128> = (0..64)
            .map(|x| Feistel::new(&key, 0, 64).permute(x))
            .collect();
        let b: Vec<u128> = (0..64)
            .map(|x| Feistel::new(&key, 1, 64).permute(x))
            .collect();
        let c: Vec<u128> = (0..64)
            .map(|x| Feistel::new(&other, 0, 64).permute(x))
            .collect();
        assert_ne!(a, b);
        assert_ne!(a, c);
    }
}
