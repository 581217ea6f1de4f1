//! A keyed format-preserving permutation of text: every letter and digit, of any script, is
//! replaced by another of its class (see [`charclass`]: a digit by a digit of the same script,
//! a letter by a letter of the same Unicode page and case); every other character stays in
//! place, so the length in characters and the layout are kept.
//!
//! The letters and digits form a mixed-radix vector; an alternating Feistel network (as in
//! FF1) adds, digit by digit modulo each digit's radix, a keyed stream derived from the other
//! half. Each round is invertible, so for a fixed layout the network `P` is a bijection; the
//! layout (which class sits where, and every other character) is kept and also tweaks the key.
//! The map is `x ↦ P(P⁻¹(x) + 1)`: one cycle through the whole layout, so it is still a
//! bijection and never maps a value that has a letter or digit to itself.
//!
//! Case is not part of the tweak: a letter's case is kept, and the letters are permuted as if
//! lower case, so values equal but for case (`Alice`, `ALICE`) stay equal but for case — what a
//! `citext` column and a foreign key into it need.

use crate::anonymize::KeyedHasher;
use crate::anonymize::charclass::{self, Class, Member};
use crate::anonymize::keys::Stream;

/// Rounds of the alternating network.
const ROUNDS: u8 = 8;

/// Scratch buffers reused from value to value.
#[derive(Default)]
pub(crate) struct Scratch {
    members: Vec<Member>,
    digits: Vec<u32>,
    input: Vec<u8>,
}

/// Writes the permutation of `text` under `key` to `out`.
pub(crate) fn permute(key: &KeyedHasher, text: &str, out: &mut String, scratch: &mut Scratch) {
    let Scratch {
        members,
        digits,
        input,
    } = scratch;
    members.clear();
    // The layout: every character, with letters and digits replaced by their class (0xFE and
    // 0xFF never occur in UTF-8, so layouts are unambiguous).
    input.clear();
    input.push(0);
    for c in text.chars() {
        match charclass::member(c) {
            Some(member) => {
                let (marker, id) = match member.class {
                    Class::Digits(zero) => (0xFD, zero),
                    Class::Cased(page) => (0xFE, page),
                    Class::Caseless(page) => (0xFF, page),
                };
                input.push(marker);
                input.extend_from_slice(&id.to_le_bytes()[..3]);
                members.push(member);
            }
            None => {
                let mut utf8 = [0; 4];
                input.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
        }
    }
    input.push(0);
    let layout = input.len();
    if members.is_empty() {
        out.push_str(text);
        return;
    }
    digits.clear();
    digits.extend(members.iter().map(|m| m.index));
    let radices: Vec<u32> = members.iter().map(|m| m.radix).collect();
    let mut network = Network {
        key,
        input,
        layout,
        radices: &radices,
    };
    network.run(digits, false);
    increment(digits, &radices);
    network.run(digits, true);
    let mut next = members.iter().zip(digits.iter());
    for c in text.chars() {
        if charclass::member(c).is_none() {
            out.push(c);
            continue;
        }
        let (member, &digit) = next.next().expect("one digit per letter or digit");
        out.push(charclass::character(member.class, digit, member.upper));
    }
}

/// Adds one to a mixed-radix number (least significant digit last), wrapping around.
fn increment(digits: &mut [u32], radices: &[u32]) {
    for (digit, &radix) in digits.iter_mut().zip(radices).rev() {
        *digit += 1;
        if *digit < radix {
            return;
        }
        *digit = 0;
    }
}

/// The alternating network over one layout.
struct Network<'a> {
    key: &'a KeyedHasher,
    /// The layout, then room for a round's number and the other half's digits.
    input: &'a mut Vec<u8>,
    layout: usize,
    radices: &'a [u32],
}

impl Network<'_> {
    /// Runs the rounds forward (`P`), or backward undoing them (`P⁻¹`).
    fn run(&mut self, digits: &mut [u32], forward: bool) {
        let split = digits.len() / 2;
        for step in 0..ROUNDS {
            let round = if forward { step } else { ROUNDS - 1 - step };
            // Even rounds change the left half from the right one, odd rounds the reverse.
            let (target, source) = if round % 2 == 0 {
                (0..split, split..digits.len())
            } else {
                (split..digits.len(), 0..split)
            };
            if target.is_empty() {
                continue;
            }
            self.input.truncate(self.layout);
            self.input[0] = round;
            for &d in &digits[source] {
                self.input.extend_from_slice(&d.to_le_bytes()[..3]);
            }
            let mut stream = Stream::new(&self.key.hash(self.input));
            for i in target {
                let radix = self.radices[i];
                let add = stream.below(radix as usize) as u32;
                digits[i] = if forward {
                    (digits[i] + add) % radix
                } else {
                    (digits[i] + radix - add) % radix
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn image(key: &KeyedHasher, text: &str) -> String {
        let mut out = String::new();
        permute(key, text, &mut out, &mut Scratch::default());
        out
    }

    #[test]
    fn exhaustive_small_domains_are_permutations() {
        let key = KeyedHasher::new(b"fpe").unwrap();
        let alphabet: Vec<char> = ('a'..='z').chain('A'..='Z').chain('0'..='9').collect();
        // Every string of two characters from all three classes (62^2), plus every three-letter
        // lowercase word and every four-digit string with a separator.
        let mut inputs: Vec<String> = Vec::new();
        for a in &alphabet {
            inputs.push(a.to_string());
            for b in &alphabet {
                inputs.push(format!("{a}{b}"));
            }
        }
        for a in 'a'..='z' {
            for b in 'a'..='z' {
                for c in 'a'..='z' {
                    inputs.push(format!("{a}{b}{c}"));
                }
            }
        }
        inputs.extend((0..10_000).map(|n| format!("{:02}-{:02}", n / 100, n % 100)));

        let outputs: HashSet<String> = inputs.iter().map(|i| image(&key, i)).collect();
        assert_eq!(outputs.len(), inputs.len());
        let inputs_set: HashSet<&str> = inputs.iter().map(String::as_str).collect();
        assert!(
            outputs.iter().all(|o| inputs_set.contains(o.as_str())),
            "the image stays in the domain"
        );
    }

    #[test]
    fn keeps_layout_and_changes_content() {
        let key = KeyedHasher::new(b"fpe").unwrap();
        let out = image(&key, "Hello, Wörld-42!");
        assert_eq!(out.chars().count(), 16);
        assert_eq!(&out[5..7], ", ");
        assert!(out.as_bytes()[0].is_ascii_uppercase() && out.as_bytes()[1].is_ascii_lowercase());
        assert_ne!(
            out.chars().nth(8),
            Some('ö'),
            "accented letters are permuted too"
        );
        assert!(!out.chars().nth(8).unwrap().is_ascii());
        assert_ne!(out, "Hello, Wörld-42!");
        assert_eq!(image(&key, "---"), "---");
        assert_eq!(image(&key, ""), "");
    }

    #[test]
    fn exhaustive_greek_and_arabic_indic_domain_is_a_permutation() {
        let key = KeyedHasher::new(b"fpe").unwrap();
        let greek = charclass::member('α').unwrap();
        let letters: Vec<char> = (0..greek.radix)
            .map(|i| charclass::character(greek.class, i, false))
            .collect();
        let digits: Vec<char> = ('٠'..='٩').collect();
        let mut inputs = Vec::new();
        for a in &letters {
            for b in &letters {
                for d in &digits {
                    inputs.push(format!("{a}-{b}{d}"));
                }
            }
        }
        let domain: HashSet<&str> = inputs.iter().map(String::as_str).collect();
        let outputs: HashSet<String> = inputs.iter().map(|i| image(&key, i)).collect();
        assert_eq!(outputs.len(), inputs.len());
        assert!(outputs.iter().all(|o| domain.contains(o.as_str())));
    }

    #[test]
    fn case_is_kept_apart_from_the_permutation() {
        let key = KeyedHasher::new(b"fpe").unwrap();
        for text in ["Alice", "Ωμέγα Ζ", "Łódź", "Жанна"] {
            let lower = image(&key, &text.to_lowercase());
            let upper = image(&key, &text.to_uppercase());
            assert_eq!(image(&key, text).to_lowercase(), lower, "{text}");
            assert_eq!(upper.to_lowercase(), lower, "{text}");
            assert_eq!(upper, upper.to_uppercase(), "{text}");
        }
    }

    #[test]
    fn a_single_character_is_never_a_fixed_point() {
        let key = KeyedHasher::new(b"fpe").unwrap();
        for c in ('a'..='z')
            .chain('0'..='9')
            .chain(['ą', 'ω', 'Ж', '٣', '５'])
        {
            let text = c.to_string();
            assert_ne!(image(&key, &text), text);
        }
    }
}
