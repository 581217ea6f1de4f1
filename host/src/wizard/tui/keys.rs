//! What each key means to each kind of question, as pure functions of the key event.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::wizard::prompt::Answer;

/// A plain character: no Ctrl or Alt (Shift is part of the character).
fn plain_char(key: &KeyEvent) -> Option<char> {
    match key.code {
        KeyCode::Char(c)
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            Some(c)
        }
        _ => None,
    }
}

/// Ctrl-C: in raw mode it is a key, not a signal.
fn is_interrupt(key: &KeyEvent) -> bool {
    key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL)
}

/// A yes/no question's answer to `key`: y → yes; n, q, Esc, Ctrl-C → no; Enter → the
/// default; `None` for any other key (ignored).
pub fn answer_for(key: KeyEvent, default_yes: bool) -> Option<Answer> {
    if is_interrupt(&key) {
        return Some(Answer::No);
    }
    match key.code {
        KeyCode::Enter => Some(if default_yes { Answer::Yes } else { Answer::No }),
        KeyCode::Esc => Some(Answer::No),
        _ => match plain_char(&key)? {
            'y' | 'Y' => Some(Answer::Yes),
            'n' | 'N' | 'q' => Some(Answer::No),
            _ => None,
        },
    }
}

/// A key while typing a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKey {
    /// Append this character.
    Insert(char),
    /// Delete the last character.
    Backspace,
    /// Enter: the line is done.
    Submit,
    /// Esc or Ctrl-C: give up.
    Cancel,
}

/// What `key` does to a typed line; `None` for keys it ignores.
pub fn line_key(key: KeyEvent) -> Option<LineKey> {
    if is_interrupt(&key) {
        return Some(LineKey::Cancel);
    }
    match key.code {
        KeyCode::Enter => Some(LineKey::Submit),
        KeyCode::Esc => Some(LineKey::Cancel),
        KeyCode::Backspace => Some(LineKey::Backspace),
        _ => plain_char(&key).map(LineKey::Insert),
    }
}

/// A key in the review screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewKey {
    /// One row up.
    Up,
    /// One row down.
    Down,
    /// One screen up.
    PageUp,
    /// One screen down.
    PageDown,
    /// To the first row.
    Top,
    /// To the last screen.
    Bottom,
    /// Close the review with this answer.
    Done(Answer),
}

/// What `key` does in the review screen: ↑/k, ↓/j, PgUp/PgDn (Space too), g/Home, G/End,
/// Enter/a → done, q/Esc/Ctrl-C → quit; `None` for other keys.
pub fn review_key(key: KeyEvent) -> Option<ReviewKey> {
    if is_interrupt(&key) {
        return Some(ReviewKey::Done(Answer::No));
    }
    match key.code {
        KeyCode::Up => Some(ReviewKey::Up),
        KeyCode::Down => Some(ReviewKey::Down),
        KeyCode::PageUp => Some(ReviewKey::PageUp),
        KeyCode::PageDown => Some(ReviewKey::PageDown),
        KeyCode::Home => Some(ReviewKey::Top),
        KeyCode::End => Some(ReviewKey::Bottom),
        KeyCode::Enter => Some(ReviewKey::Done(Answer::Yes)),
        KeyCode::Esc => Some(ReviewKey::Done(Answer::No)),
        _ => match plain_char(&key)? {
            'k' => Some(ReviewKey::Up),
            'j' => Some(ReviewKey::Down),
            ' ' => Some(ReviewKey::PageDown),
            'g' => Some(ReviewKey::Top),
            'G' => Some(ReviewKey::Bottom),
            'a' => Some(ReviewKey::Done(Answer::Yes)),
            'q' => Some(ReviewKey::Done(Answer::No)),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    #[test]
    fn confirm_keys() {
        for default_yes in [true, false] {
            let ch = |c| answer_for(key(KeyCode::Char(c)), default_yes);
            assert_eq!(ch('y'), Some(Answer::Yes));
            assert_eq!(
                answer_for(
                    KeyEvent::new(KeyCode::Char('Y'), KeyModifiers::SHIFT),
                    default_yes
                ),
                Some(Answer::Yes)
            );
            assert_eq!(ch('n'), Some(Answer::No));
            assert_eq!(ch('N'), Some(Answer::No));
            assert_eq!(ch('q'), Some(Answer::No));
            assert_eq!(answer_for(key(KeyCode::Esc), default_yes), Some(Answer::No));
            assert_eq!(answer_for(ctrl('c'), default_yes), Some(Answer::No));
            // Ignored: other letters, Ctrl-Y (not a plain y), arrows.
            assert_eq!(ch('x'), None);
            assert_eq!(answer_for(ctrl('y'), default_yes), None);
            assert_eq!(answer_for(key(KeyCode::Up), default_yes), None);
        }
        assert_eq!(answer_for(key(KeyCode::Enter), true), Some(Answer::Yes));
        assert_eq!(answer_for(key(KeyCode::Enter), false), Some(Answer::No));
    }

    #[test]
    fn typed_line_keys() {
        assert_eq!(
            line_key(key(KeyCode::Char('q'))),
            Some(LineKey::Insert('q'))
        );
        assert_eq!(
            line_key(KeyEvent::new(KeyCode::Char('D'), KeyModifiers::SHIFT)),
            Some(LineKey::Insert('D'))
        );
        assert_eq!(line_key(key(KeyCode::Backspace)), Some(LineKey::Backspace));
        assert_eq!(line_key(key(KeyCode::Enter)), Some(LineKey::Submit));
        assert_eq!(line_key(key(KeyCode::Esc)), Some(LineKey::Cancel));
        assert_eq!(line_key(ctrl('c')), Some(LineKey::Cancel));
        assert_eq!(line_key(ctrl('a')), None);
        assert_eq!(line_key(key(KeyCode::Left)), None);
    }

    #[test]
    fn review_keys() {
        assert_eq!(review_key(key(KeyCode::Char('j'))), Some(ReviewKey::Down));
        assert_eq!(review_key(key(KeyCode::Up)), Some(ReviewKey::Up));
        assert_eq!(
            review_key(key(KeyCode::PageDown)),
            Some(ReviewKey::PageDown)
        );
        assert_eq!(
            review_key(KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(ReviewKey::Bottom)
        );
        assert_eq!(review_key(key(KeyCode::Char('g'))), Some(ReviewKey::Top));
        assert_eq!(
            review_key(key(KeyCode::Enter)),
            Some(ReviewKey::Done(Answer::Yes))
        );
        assert_eq!(
            review_key(key(KeyCode::Char('a'))),
            Some(ReviewKey::Done(Answer::Yes))
        );
        assert_eq!(
            review_key(key(KeyCode::Char('q'))),
            Some(ReviewKey::Done(Answer::No))
        );
        assert_eq!(review_key(ctrl('c')), Some(ReviewKey::Done(Answer::No)));
        // `y` does not close a review: only Enter or `a` does.
        assert_eq!(review_key(key(KeyCode::Char('y'))), None);
    }
}
