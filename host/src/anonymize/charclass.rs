//! The class of a character for format-preserving masking, for every script.
//!
//! - A **decimal digit** (Unicode category Nd) belongs to its script's run of ten digits:
//!   `0-9`, Arabic-Indic `٠-٩`, full-width `０-９`, Devanagari `०-९`... Masking keeps the script.
//! - A **letter** belongs to its 128-code-point Unicode page (Latin a-z, Latin-1, Latin
//!   Extended-A, Greek, Cyrillic, Arabic, Hebrew, a stretch of CJK ideographs...), and within it
//!   to one alphabet: the *cased* letters (a lower-case letter whose upper-case form maps back
//!   to it, and that upper-case form), whose case is kept apart; or the other letters of the
//!   page (caseless scripts, letters without a one-to-one case pair). `ą` becomes another
//!   lower-case Latin Extended-A letter, `Ж` another upper-case Cyrillic letter, `中` another CJK
//!   ideograph of its page.
//! - Anything else — spaces, punctuation, symbols, emoji, combining marks, and the letters of a
//!   class of one — is kept as it is.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use unicode_general_category::{GeneralCategory, get_general_category};

/// Which alphabet a character is masked within.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Class {
    /// The decimal digits whose zero is this code point.
    Digits(u32),
    /// The cased letters of a page (keyed by their lower-case form).
    Cased(u32),
    /// The other letters of a page.
    Caseless(u32),
}

/// A character's place in its class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Member {
    /// Its class.
    pub(crate) class: Class,
    /// Its position in the class's alphabet.
    pub(crate) index: u32,
    /// Size of the alphabet (at least 2).
    pub(crate) radix: u32,
    /// True for the upper-case form of a cased letter.
    pub(crate) upper: bool,
}

/// The character at `index` of `class` (upper-cased when `upper`).
pub(crate) fn character(class: Class, index: u32, upper: bool) -> char {
    match class {
        Class::Digits(zero) => char::from_u32(zero + index).expect("a digit"),
        Class::Cased(page) => {
            let lower = with_page(page, |p| p.cased[index as usize]);
            if upper {
                upper_of(lower).expect("a cased letter")
            } else {
                lower
            }
        }
        Class::Caseless(page) => with_page(page, |p| p.caseless[index as usize]),
    }
}

/// The class of `c`, or `None` for a character kept as it is.
pub(crate) fn member(c: char) -> Option<Member> {
    match c {
        'a'..='z' => return Some(ascii(Class::Cased(0), c as u32 - 'a' as u32, 26, false)),
        'A'..='Z' => return Some(ascii(Class::Cased(0), c as u32 - 'A' as u32, 26, true)),
        '0'..='9' => {
            return Some(ascii(
                Class::Digits('0' as u32),
                c as u32 - '0' as u32,
                10,
                false,
            ));
        }
        _ if c.is_ascii() => return None,
        _ => {}
    }
    if let Some((zero, value)) = decimal_digit(c) {
        return Some(ascii(Class::Digits(zero), value, 10, false));
    }
    if !is_letter(c) {
        return None;
    }
    let (lower, upper) = match (cased_lower(c), upper_of(c)) {
        (Some(lower), _) => (lower, true),
        (None, Some(_)) if get_general_category(c) == GeneralCategory::LowercaseLetter => {
            (c, false)
        }
        _ => {
            let page = c as u32 >> 7;
            return with_page(page, |p| {
                let index = p.caseless.binary_search(&c).ok()? as u32;
                let radix = p.caseless.len() as u32;
                (radix >= 2).then_some(Member {
                    class: Class::Caseless(page),
                    index,
                    radix,
                    upper: false,
                })
            });
        }
    };
    let page = lower as u32 >> 7;
    with_page(page, |p| {
        let index = p.cased.binary_search(&lower).ok()? as u32;
        let radix = p.cased.len() as u32;
        (radix >= 2).then_some(Member {
            class: Class::Cased(page),
            index,
            radix,
            upper,
        })
    })
}

fn ascii(class: Class, index: u32, radix: u32, upper: bool) -> Member {
    Member {
        class,
        index,
        radix,
        upper,
    }
}

/// The zero of `c`'s run of decimal digits and `c`'s value, for a decimal digit (Nd). Nd
/// characters come in runs of ten from zero to nine (the Unicode standard guarantees it), so a
/// digit's value is its distance from the start of its run, modulo ten.
pub(crate) fn decimal_digit(c: char) -> Option<(u32, u32)> {
    if c.is_ascii_digit() {
        return Some(('0' as u32, c as u32 - '0' as u32));
    }
    let is_digit = |code: u32| {
        char::from_u32(code)
            .is_some_and(|c| get_general_category(c) == GeneralCategory::DecimalNumber)
    };
    let code = c as u32;
    if !is_digit(code) {
        return None;
    }
    let mut start = code;
    while start > 0 && is_digit(start - 1) {
        start -= 1;
    }
    let value = (code - start) % 10;
    Some((code - value, value))
}

fn is_letter(c: char) -> bool {
    matches!(
        get_general_category(c),
        GeneralCategory::UppercaseLetter
            | GeneralCategory::LowercaseLetter
            | GeneralCategory::TitlecaseLetter
            | GeneralCategory::ModifierLetter
            | GeneralCategory::OtherLetter
    )
}

/// The single upper-case form of a lower-case letter that maps back to it.
fn upper_of(c: char) -> Option<char> {
    let mut upper = c.to_uppercase();
    let u = upper.next()?;
    if upper.next().is_some()
        || u == c
        || get_general_category(c) != GeneralCategory::LowercaseLetter
    {
        return None;
    }
    let mut back = u.to_lowercase();
    (back.next() == Some(c) && back.next().is_none()).then_some(u)
}

/// For the upper-case form of a cased letter, its lower-case form.
fn cased_lower(c: char) -> Option<char> {
    if get_general_category(c) != GeneralCategory::UppercaseLetter {
        return None;
    }
    let mut lower = c.to_lowercase();
    let l = lower.next()?;
    (lower.next().is_none() && upper_of(l) == Some(c)).then_some(l)
}

/// The alphabets of one 128-code-point page, in code point order.
struct Page {
    cased: Vec<char>,
    caseless: Vec<char>,
}

impl Page {
    fn new(page: u32) -> Page {
        let mut cased = Vec::new();
        let mut caseless = Vec::new();
        for code in page << 7..(page + 1) << 7 {
            let Some(c) = char::from_u32(code).filter(|&c| is_letter(c)) else {
                continue;
            };
            if upper_of(c).is_some() {
                cased.push(c);
            } else if cased_lower(c).is_none() {
                caseless.push(c);
            }
        }
        Page { cased, caseless }
    }
}

thread_local! {
    /// Pages seen by this thread (a worker masks the same few scripts batch after batch).
    static PAGES: RefCell<HashMap<u32, Rc<Page>>> = RefCell::new(HashMap::new());
}

fn with_page<T>(page: u32, read: impl FnOnce(&Page) -> T) -> T {
    let page = PAGES.with(|pages| {
        pages
            .borrow_mut()
            .entry(page)
            .or_insert_with(|| Rc::new(Page::new(page)))
            .clone()
    });
    read(&page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_of_every_script_keep_their_script() {
        for (c, zero, value) in [
            ('7', '0', 7),
            ('٣', '٠', 3),
            ('۹', '۰', 9),
            ('５', '０', 5),
            ('७', '०', 7),
            ('𝟗', '𝟎', 9),
            ('𝟬', '𝟬', 0),
        ] {
            let m = member(c).unwrap_or_else(|| panic!("{c}"));
            assert_eq!(m.class, Class::Digits(zero as u32), "{c}");
            assert_eq!((m.index, m.radix), (value, 10), "{c}");
            assert_eq!(character(m.class, m.index, false), c);
        }
        assert_eq!(decimal_digit('½'), None);
        assert_eq!(decimal_digit('x'), None);
    }

    #[test]
    fn letters_keep_their_page_and_case() {
        for c in [
            'ą', 'Ł', 'ż', 'é', 'Ö', 'α', 'Ω', 'ж', 'Я', 'ا', 'ש', '中', 'ア', 'ß', 'a', 'Z',
        ] {
            let m = member(c).unwrap_or_else(|| panic!("{c} has a class"));
            assert!(m.radix >= 2, "{c}");
            assert_eq!(character(m.class, m.index, m.upper), c, "{c} round-trips");
            for other in 0..m.radix {
                let image = character(m.class, other, m.upper);
                let back = member(image).unwrap();
                assert_eq!(
                    (back.class, back.index, back.upper),
                    (m.class, other, m.upper)
                );
                assert_eq!(image.is_uppercase(), m.upper, "{c} → {image}");
            }
        }
        assert_eq!(member('Ω').unwrap().class, member('ω').unwrap().class);
        assert_ne!(member('ą').unwrap().class, member('a').unwrap().class);
        for kept in [' ', '-', '@', '🦀', '\u{301}', '€'] {
            assert_eq!(member(kept), None, "{kept:?}");
        }
    }
}
