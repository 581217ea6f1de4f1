//! What a failure left, in words, told from [`Left`] as verified with the server: the
//! sentence a report prints under a failed migration, and the applier's error when the audit
//! trail refuses that failure's row.

use super::{EndedAs, InvalidIndex, Left};
use crate::plugins::hooks::Direction;

/// What `left` means for the migration `slug`, in words: the sentence after a failure.
pub fn in_words(slug: &str, direction: Direction, left: &Left, dry_run: bool) -> String {
    match left {
        Left::Nothing if dry_run => {
            "rolled back: this was a dry run, nothing was changed (the server confirmed the \
             rollback)"
                .to_string()
        }
        Left::Nothing => format!(
            "rolled back (the server confirmed it): the database and the tracking table are as \
             they were before {slug}"
        ),
        Left::Partial {
            ran,
            failed,
            not_run,
            invalid_indexes,
        } => {
            let before = match ran.as_slice() {
                [] => "no statement ran before".to_string(),
                [line] => format!("the statement at line {line} ran before"),
                many => format!("the statements at lines {} ran before", lines(many)),
            };
            let after = match not_run.as_slice() {
                [] => "it was the last statement".to_string(),
                [line] => format!("the statement at line {line} did not run"),
                many => format!("the statements at lines {} did not run", lines(many)),
            };
            let mut text = format!(
                "{slug} ran outside a transaction: {before} the one at line {failed}, which \
                 failed; {after}; the database may be partly changed and {slug} is not recorded \
                 as applied"
            );
            if !invalid_indexes.is_empty() {
                text.push_str(&format!(
                    "; it left INVALID index(es) {} (maintained on every write, used by no \
                     query, enforcing nothing) — drop them before running it again: {}",
                    names(invalid_indexes),
                    invalid_indexes
                        .iter()
                        .map(|i| i.cleanup.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                ));
            }
            text
        }
        Left::Unrecorded => format!(
            "{slug} ran outside a transaction: all its statements ran and stay, but it is not \
             recorded as applied"
        ),
        Left::Committed if direction == Direction::Down => format!(
            "{slug} was rolled back (committed); the hook stopped the run before any later \
             rollback"
        ),
        Left::Committed => format!(
            "{slug} is applied and recorded (committed); the hook stopped the run before any \
             later migration"
        ),
        Left::Lost { by, ended } => {
            let what = if dry_run { "the dry run's" } else { "its" };
            let end = match ended {
                EndedAs::Committed => format!(
                    "the server reports it COMMITTED: what ran before that point is in the \
                     database and {slug} is not recorded as applied — check the database by hand"
                ),
                EndedAs::RolledBack => {
                    "the server reports it rolled back: nothing of it is left".to_string()
                }
                EndedAs::Unknown => {
                    "the server could not say how it ended: check the database by hand".to_string()
                }
            };
            format!("{what} transaction was ended by {by}, not by Confiture; {end}")
        }
        Left::Unknown => format!(
            "the outcome of {slug} could not be verified (the connection failed): check the \
             database and the tracking table by hand"
        ),
        Left::Disconnected { confirmed, .. } => {
            let how = if *confirmed {
                "PostgreSQL rolled its transaction back (the server confirmed it on another \
                 connection)"
            } else {
                "its COMMIT was never sent, and PostgreSQL rolls back the open transaction of a \
                 connection that ends (the server could not be asked to confirm it)"
            };
            format!(
                "the connection to the server was lost while {slug} was running: {how}; the \
                 database and the tracking table are as they were before {slug}, and the \
                 migrations listed as applied before it are committed"
            )
        }
        Left::NotStarted => format!(
            "{slug} did not start: nothing of it ran, and no later migration ran; the ones \
             listed as applied before it are committed"
        ),
    }
}

/// `a, b` for invalid indexes.
fn names(indexes: &[InvalidIndex]) -> String {
    indexes
        .iter()
        .map(|i| i.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `1, 2, 3` for statement lines.
fn lines(lines: &[usize]) -> String {
    lines
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partial(ran: &[usize], failed: usize, not_run: &[usize]) -> String {
        let left = Left::Partial {
            ran: ran.to_vec(),
            failed,
            not_run: not_run.to_vec(),
            invalid_indexes: Vec::new(),
        };
        in_words("003_idx", Direction::Up, &left, false)
    }

    #[test]
    fn partial_runs_read_as_sentences_at_either_end() {
        assert!(
            partial(&[], 2, &[3, 4]).contains(
                "no statement ran before the one at line 2, which failed; the statements at \
                 lines 3, 4 did not run;"
            ),
            "{}",
            partial(&[], 2, &[3, 4])
        );
        assert!(
            partial(&[2], 3, &[]).contains(
                "the statement at line 2 ran before the one at line 3, which failed; it was the \
                 last statement;"
            ),
            "{}",
            partial(&[2], 3, &[])
        );
        for text in [partial(&[], 1, &[]), partial(&[1, 2], 3, &[4])] {
            assert!(
                !text.contains("none") && !text.contains("line(s)"),
                "{text}"
            );
        }
    }
}
