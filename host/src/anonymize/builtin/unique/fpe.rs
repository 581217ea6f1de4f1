//! A keyed format-preserving permutation of text: ASCII lowercase letters, uppercase letters
//! and digits are permuted within their class, every other character stays in place.
//!
//! The letters and digits form a mixed-radix vector; an alternating Feistel network (as in
//! FF1) adds, digit by digit modulo each digit's radix, a keyed stream derived from the other
//! half. Each round is invertible, so for a fixed layout the map is a bijection; the layout
//! (which class sits where, and every other character) is kept and also tweaks the key, so
//! distinct inputs always give distinct outputs of the same length.

use crate::anonymize::KeyedHasher;
use crate::anonymize::keys::Stream;

/// Rounds of the alternating network.
const ROUNDS: u8 = 8;

/// Scratch buffers reused from value to value.
#[derive(Default)]
pub(crate) struct Scratch {
    digits: Vec<u8>,
    radices: Vec<u8>,
    input: Vec<u8>,
}

/// Writes the permutation of `text` under `key` to `out`.
pub(crate) fn permute(key: &KeyedHasher, text: &str, out: &mut String, scratch: &mut Scratch) {
    let Scratch {
        digits,
        radices,
        input,
    } = scratch;
    digits.clear();
    radices.clear();
    // The layout: every character, with letters and digits replaced by a class marker
    // (0xFD-0xFF never occur in UTF-8, so layouts are unambiguous).
    input.clear();
    input.push(0);
    for c in text.chars() {
        let (base, radix, marker) = match c {
            'a'..='z' => (b'a', 26, 0xFF),
            'A'..='Z' => (b'A', 26, 0xFE),
            '0'..='9' => (b'0', 10, 0xFD),
            _ => {
                let mut utf8 = [0; 4];
                input.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                continue;
            }
        };
        digits.push(c as u8 - base);
        radices.push(radix);
        input.push(marker);
    }
    input.push(0);
    let layout = input.len();
    let split = digits.len() / 2;
    for round in 0..ROUNDS {
        // Even rounds change the left half from the right one, odd rounds the reverse.
        let (target, source) = if round % 2 == 0 {
            (0..split, split..digits.len())
        } else {
            (split..digits.len(), 0..split)
        };
        if target.is_empty() {
            continue;
        }
        input.truncate(layout);
        input[0] = round;
        input.extend_from_slice(&digits[source]);
        let mut stream = Stream::new(&key.hash(input));
        for i in target {
            let radix = radices[i];
            digits[i] = ((u16::from(digits[i]) + stream.below(usize::from(radix)) as u16)
                % u16::from(radix)) as u8;
        }
    }
    let mut next = digits.iter().zip(radices.iter());
    for c in text.chars() {
        let base = match c {
            'a'..='z' => b'a',
            'A'..='Z' => b'A',
            '0'..='9' => b'0',
            other => {
                out.push(other);
                continue;
            }
        };
        let (digit, _) = next.next().expect("one digit per letter or digit");
        out.push(char::from(base + digit));
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
        assert_eq!(out.chars().nth(8), Some('ö'));
        assert_eq!(&out[5..7], ", ");
        assert!(out.as_bytes()[0].is_ascii_uppercase() && out.as_bytes()[1].is_ascii_lowercase());
        assert_ne!(out, "Hello, Wörld-42!");
        assert_eq!(image(&key, "---"), "---");
        assert_eq!(image(&key, ""), "");
    }
}
