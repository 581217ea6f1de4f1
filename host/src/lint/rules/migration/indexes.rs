//! Index builds and drops that block a table, and CONCURRENTLY where it cannot run.

use super::{Advice, Advise, Safety, advice};
use crate::lint::rule::Severity;
use crate::risk::{Effect, Reason};
use crate::sql::Statement;

pub(super) const SAFETY: &[Safety] = &[
    Safety {
        id: "require-concurrent-index",
        check: None,
        effects: &[(Effect::IndexBuildBlocksWrites, Severity::Critical)],
        description: "CREATE INDEX without CONCURRENTLY on an existing table blocks every \
                      write to it for the whole build.",
        advise: Advise::Builds(concurrent_index),
    },
    Safety {
        id: "concurrent-index-in-transaction",
        check: None,
        effects: &[(Effect::ConcurrentlyInTransaction, Severity::Critical)],
        description: "CREATE/DROP INDEX, REINDEX and DETACH PARTITION CONCURRENTLY (and \
                      VACUUM, ALTER SYSTEM, CREATE DATABASE, ...) cannot run inside a \
                      transaction block: Confiture runs a migration made only of such \
                      statements outside one by itself, and refuses one that mixes them with \
                      other statements unless its first line is `-- confiture: no-transaction` \
                      (an explicit BEGIN in such a file opens a transaction again).",
        advise: Advise::Says(
            "move the statement into a migration of its own (Confiture runs it outside a \
                     transaction by itself), or make `-- confiture: no-transaction` the \
                     migration's first line and run it outside any BEGIN ... COMMIT",
        ),
    },
    Safety {
        id: "require-concurrent-index-drop",
        check: None,
        effects: &[(Effect::IndexDropBlocksTable, Severity::Warning)],
        description: "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the \
                      table, blocking reads and writes while it waits for running queries.",
        advise: Advise::Builds(|s, _| {
            advice("drop it CONCURRENTLY, in a `-- confiture: no-transaction` migration").fix(
                format!(
                    "{};",
                    replace_first_keyword(&s.text, "index", "INDEX CONCURRENTLY")
                ),
            )
        }),
    },
    Safety {
        id: "require-concurrent-reindex",
        check: None,
        effects: &[(Effect::ReindexBlocksTable, Severity::Warning)],
        description: "REINDEX without CONCURRENTLY blocks writes to the table (and reads that \
                      use the index) until the index is rebuilt.",
        advise: Advise::Says(
            "REINDEX ... CONCURRENTLY (PostgreSQL 12+), in a `-- confiture: \
                     no-transaction` migration",
        ),
    },
    Safety {
        id: "require-concurrent-partition-detach",
        check: None,
        effects: &[(Effect::DetachPartitionBlocksTable, Severity::Warning)],
        description: "DETACH PARTITION without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on \
                      the partitioned table.",
        advise: Advise::Says(
            "DETACH PARTITION ... CONCURRENTLY (PostgreSQL 14+), in a `-- confiture: \
                     no-transaction` migration",
        ),
    },
];

fn concurrent_index(s: &Statement, _: &Reason) -> Advice {
    advice(
        "create it CONCURRENTLY, in a migration whose first line is \
         `-- confiture: no-transaction`",
    )
    .fix(format!(
        "{};",
        replace_first_keyword(&s.text, "index", "INDEX CONCURRENTLY")
    ))
}

/// `text` with the first keyword `word` (case-insensitive) replaced by `with`.
fn replace_first_keyword(text: &str, word: &str, with: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = lower[from..].find(word) {
        let start = from + pos;
        let end = start + word.len();
        let boundary = |i: Option<u8>| i.is_none_or(|b| !(b.is_ascii_alphanumeric() || b == b'_'));
        if boundary(start.checked_sub(1).map(|i| lower.as_bytes()[i]))
            && boundary(lower.as_bytes().get(end).copied())
        {
            return format!("{}{with}{}", &text[..start], &text[end..]);
        }
        from = end;
    }
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::inspect::has_keyword;

    #[test]
    fn keyword_and_replacement_helpers() {
        assert!(has_keyword("drop index concurrently x", "CONCURRENTLY"));
        assert!(!has_keyword("drop index \"concurrently\"", "concurrently"));
        assert_eq!(
            replace_first_keyword(
                "create unique index i on t (a)",
                "index",
                "INDEX CONCURRENTLY"
            ),
            "create unique INDEX CONCURRENTLY i on t (a)"
        );
    }
}
