//! What statements do to the transaction they run in, and how a migration file must therefore
//! run: inside one transaction (the default, with an optional outer `BEGIN; … COMMIT;`
//! wrapper), or outside one (marked `-- confiture: no-transaction`, or made only of statements
//! PostgreSQL refuses inside a transaction block). The migration runner, risk and lint read it.
//!
//! Statements are classified by their leading keywords, which is exact for what a migration
//! can hold at the top level: `BEGIN` opens a transaction unless it is inside a function body
//! (the splitter keeps `BEGIN ATOMIC … END` inside its statement), and the runner sends one
//! statement per protocol message, so no statement can hide behind another.

use super::split::{SqlStatement, skip_block_comment};

/// The first-line marker that makes a migration run outside a transaction.
pub const NO_TRANSACTION_MARKER: &str = "-- confiture: no-transaction";

/// True when `sql`'s first line (after a byte order mark) is [`NO_TRANSACTION_MARKER`]
/// (case and surrounding blanks ignored).
pub fn has_no_transaction_marker(sql: &str) -> bool {
    let first = sql
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap_or("");
    first.trim().eq_ignore_ascii_case(NO_TRANSACTION_MARKER)
}

/// A transaction-control statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Control {
    /// `BEGIN`, `START TRANSACTION`.
    Begin,
    /// `COMMIT`, `END`.
    Commit,
    /// `ROLLBACK`, `ABORT`.
    Rollback,
    /// `SAVEPOINT`.
    Savepoint,
    /// `RELEASE [SAVEPOINT]`.
    Release,
    /// `ROLLBACK TO [SAVEPOINT]`.
    RollbackTo,
    /// `PREPARE TRANSACTION`.
    PrepareTransaction,
    /// `COMMIT PREPARED`.
    CommitPrepared,
    /// `ROLLBACK PREPARED`.
    RollbackPrepared,
}

impl Control {
    /// The statement as people know it, e.g. `COMMIT`.
    pub fn keyword(self) -> &'static str {
        match self {
            Control::Begin => "BEGIN",
            Control::Commit => "COMMIT",
            Control::Rollback => "ROLLBACK",
            Control::Savepoint => "SAVEPOINT",
            Control::Release => "RELEASE SAVEPOINT",
            Control::RollbackTo => "ROLLBACK TO SAVEPOINT",
            Control::PrepareTransaction => "PREPARE TRANSACTION",
            Control::CommitPrepared => "COMMIT PREPARED",
            Control::RollbackPrepared => "ROLLBACK PREPARED",
        }
    }
}

/// What a statement does to the transaction around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionRole {
    /// Runs inside a transaction like any statement.
    Ordinary,
    /// Starts, ends or partly undoes a transaction.
    Control(Control),
    /// The outer `BEGIN` or `COMMIT` of a file wrapped in one transaction: not run, the
    /// runner's own transaction takes its place.
    Wrapper(Control),
    /// PostgreSQL refuses it inside a transaction block (SQLSTATE 25001); names it, e.g.
    /// `CREATE INDEX CONCURRENTLY`.
    OutsideOnly(&'static str),
}

/// The role of one statement, from its leading keywords.
pub fn classify(text: &str) -> TransactionRole {
    let words = Words::of(text);
    let w = |i: usize| words.top(i);
    let any_top = |word: &str| words.top_level().any(|w| w == word);
    let control = match w(0) {
        "begin" => Some(Control::Begin),
        "start" if w(1) == "transaction" => Some(Control::Begin),
        "commit" if w(1) == "prepared" => Some(Control::CommitPrepared),
        "commit" | "end" => Some(Control::Commit),
        "rollback" if w(1) == "prepared" => Some(Control::RollbackPrepared),
        "rollback" | "abort" if any_top("to") => Some(Control::RollbackTo),
        "rollback" | "abort" => Some(Control::Rollback),
        "savepoint" => Some(Control::Savepoint),
        "release" => Some(Control::Release),
        "prepare" if w(1) == "transaction" => Some(Control::PrepareTransaction),
        _ => None,
    };
    if let Some(control) = control {
        return TransactionRole::Control(control);
    }
    outside_only(&words).map_or(TransactionRole::Ordinary, TransactionRole::OutsideOnly)
}

/// True when `text` (one statement, sent alone in its protocol message) cannot end or replace
/// the transaction block it runs in: its first keyword is one PostgreSQL never lets do that (a
/// `COMMIT` inside a `DO` block or a procedure fails in a transaction block), and it is not a
/// statement PostgreSQL refuses there. Such statements can travel one behind the other, and the
/// runner's transaction needs no check after them. The list holds what migrations are made of;
/// anything else is checked.
pub fn cannot_end_transaction(text: &str) -> bool {
    let keeps = matches!(
        Words::of(text).top(0),
        "create"
            | "alter"
            | "drop"
            | "comment"
            | "grant"
            | "revoke"
            | "truncate"
            | "do"
            | "call"
            | "refresh"
            | "reindex"
            | "cluster"
            | "analyze"
            | "analyse"
            | "lock"
            | "security"
            | "notify"
            | "set"
            | "reset"
            | "insert"
            | "update"
            | "delete"
            | "merge"
            | "select"
            | "with"
            | "values"
    );
    keeps && matches!(classify(text), TransactionRole::Ordinary)
}

/// The name of a statement PostgreSQL refuses inside a transaction block, if it is one.
fn outside_only(words: &Words<'_>) -> Option<&'static str> {
    let w = |i: usize| words.top(i);
    let after_unique = if w(1) == "unique" { 2 } else { 1 };
    match (w(0), w(1)) {
        ("create", _) if w(after_unique) == "index" && w(after_unique + 1) == "concurrently" => {
            Some("CREATE INDEX CONCURRENTLY")
        }
        ("drop", "index") if w(2) == "concurrently" => Some("DROP INDEX CONCURRENTLY"),
        ("reindex", _) if words.all().take(8).any(|w| w == "concurrently") => {
            Some("REINDEX CONCURRENTLY")
        }
        ("reindex", "schema") => Some("REINDEX SCHEMA"),
        ("reindex", "database") => Some("REINDEX DATABASE"),
        ("reindex", "system") => Some("REINDEX SYSTEM"),
        ("vacuum", _) => Some("VACUUM"),
        ("create", "database") => Some("CREATE DATABASE"),
        ("drop", "database") => Some("DROP DATABASE"),
        ("alter", "database") if w(3) == "set" && w(4) == "tablespace" => {
            Some("ALTER DATABASE … SET TABLESPACE")
        }
        ("create", "tablespace") => Some("CREATE TABLESPACE"),
        ("drop", "tablespace") => Some("DROP TABLESPACE"),
        ("alter", "system") => Some("ALTER SYSTEM"),
        ("cluster", "" | "verbose") if w(2).is_empty() => Some("CLUSTER (every table)"),
        ("discard", "all") => Some("DISCARD ALL"),
        ("alter", "table")
            if words.top_level().any(|w| w == "detach")
                && words.top_level().last() == Some("concurrently") =>
        {
            Some("ALTER TABLE … DETACH PARTITION … CONCURRENTLY")
        }
        _ => None,
    }
}

/// The leading words of a statement, lower-cased, with their parenthesis depth and where the
/// keywords end (comments, quoted text and punctuation skipped).
struct Words<'a> {
    words: Vec<(String, usize)>,
    text: &'a str,
    /// Byte offset after each word.
    ends: Vec<usize>,
}

/// Words read from the start of a statement: enough for every rule above.
const LEADING_WORDS: usize = 24;

impl<'a> Words<'a> {
    fn of(text: &'a str) -> Self {
        let bytes = text.as_bytes();
        let (mut words, mut ends) = (Vec::new(), Vec::new());
        let mut depth = 0usize;
        let mut i = 0;
        while i < bytes.len() && words.len() < LEADING_WORDS {
            let b = bytes[i];
            i = match b {
                // PostgreSQL ends a `--` comment at a carriage return too.
                b'-' if bytes.get(i + 1) == Some(&b'-') => {
                    memchr::memchr2(b'\n', b'\r', &bytes[i..]).map_or(bytes.len(), |n| i + n + 1)
                }
                // Nested, as PostgreSQL reads them: `/* a /* b */ CREATE */ COMMIT` is a COMMIT.
                b'/' if bytes.get(i + 1) == Some(&b'*') => {
                    skip_block_comment(bytes, i).unwrap_or(bytes.len())
                }
                b'\'' | b'"' => {
                    memchr::memchr(b, &bytes[i + 1..]).map_or(bytes.len(), |n| i + n + 2)
                }
                b'(' => {
                    depth += 1;
                    i + 1
                }
                b')' => {
                    depth = depth.saturating_sub(1);
                    i + 1
                }
                _ if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 => {
                    let start = i;
                    let mut end = i + 1;
                    while end < bytes.len()
                        && (bytes[end].is_ascii_alphanumeric()
                            || matches!(bytes[end], b'_' | b'$')
                            || bytes[end] >= 0x80)
                    {
                        end += 1;
                    }
                    words.push((text[start..end].to_ascii_lowercase(), depth));
                    ends.push(end);
                    end
                }
                _ => i + 1,
            };
        }
        Words { words, text, ends }
    }

    /// The `i`-th word outside parentheses, or `""`.
    fn top(&self, i: usize) -> &str {
        self.top_level().nth(i).unwrap_or("")
    }

    /// The words outside parentheses.
    fn top_level(&self) -> impl Iterator<Item = &str> {
        self.words
            .iter()
            .filter(|(_, depth)| *depth == 0)
            .map(|(w, _)| w.as_str())
    }

    /// Every word.
    fn all(&self) -> impl Iterator<Item = &str> {
        self.words.iter().map(|(w, _)| w.as_str())
    }

    /// The text after the first `n` words (e.g. a `BEGIN`'s transaction modes).
    fn rest_after(&self, n: usize) -> &'a str {
        let start = n
            .checked_sub(1)
            .and_then(|i| self.ends.get(i))
            .copied()
            .unwrap_or(0);
        self.text[start..].trim()
    }
}

/// How a migration file runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// In one transaction with its tracking row.
    Transaction,
    /// Statement by statement, each committed on its own, because the file says so
    /// ([`NO_TRANSACTION_MARKER`]).
    OutsideMarked,
    /// Statement by statement, because every statement is one PostgreSQL refuses inside a
    /// transaction block (named here, e.g. `CREATE INDEX CONCURRENTLY`).
    OutsideDetected(&'static str),
}

impl Mode {
    /// True when the file runs outside a transaction.
    pub fn is_outside(&self) -> bool {
        !matches!(self, Mode::Transaction)
    }
}

/// The outer `BEGIN; … COMMIT;` of a transactional file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wrapper {
    /// Index of the `BEGIN` statement.
    pub begin: usize,
    /// Index of the `COMMIT` statement.
    pub commit: usize,
    /// The `BEGIN`'s transaction modes, e.g. `ISOLATION LEVEL SERIALIZABLE` (may be empty).
    pub modes: String,
}

/// How a file's statements must run, decided before any of them runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionPlan {
    /// In a transaction or outside one.
    pub mode: Mode,
    /// The outer wrapper, when the file has one (its two statements are not run).
    pub wrapper: Option<Wrapper>,
}

/// Why a file cannot run as written: where and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 1-based line of the offending statement.
    pub line: usize,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

const SPLIT_OR_MARK: &str = "split the file into two migrations at that line, or put \
     `-- confiture: no-transaction` on its first line to run its statements one by one outside \
     a transaction (the explicit transactions are then yours)";

impl TransactionPlan {
    /// Decides how `statements` (a whole file, `marked` when it carries the no-transaction
    /// marker) must run, or refuses it.
    ///
    /// In a transactional file, an outer `BEGIN; … COMMIT;` wrapper is accepted (its body runs
    /// in the runner's transaction, as upstream Confiture does), and any other transaction
    /// control is refused: it would end the runner's transaction half-way. A file made only of
    /// statements that cannot run in a transaction runs outside one; one mixing them with other
    /// statements is refused. In a marked file, explicit transactions are the author's: they
    /// must be balanced, must not hold a statement that cannot run in a transaction, and
    /// `PREPARE TRANSACTION` is refused (it would outlive the run).
    pub fn of(statements: &[SqlStatement<'_>], marked: bool) -> Result<Self, Refusal> {
        let roles: Vec<TransactionRole> = statements.iter().map(|s| classify(s.text)).collect();
        let line = |i: usize| statements[i].line;
        if marked {
            check_authors_transactions(&roles, &line)?;
            return Ok(TransactionPlan {
                mode: Mode::OutsideMarked,
                wrapper: None,
            });
        }
        let wrapper = wrapper_of(statements, &roles);
        let body = |i: &usize| {
            wrapper
                .as_ref()
                .is_none_or(|w| *i != w.begin && *i != w.commit)
        };
        if let Some(i) = (0..roles.len())
            .filter(body)
            .find(|&i| matches!(roles[i], TransactionRole::Control(_)))
        {
            let TransactionRole::Control(control) = roles[i] else {
                unreachable!("found by its role")
            };
            return Err(Refusal {
                line: line(i),
                message: format!(
                    "{} at line {} in a migration that runs in one transaction: it would {} \
                     Confiture's transaction half-way, leaving the statements before it {} \
                     without their tracking row",
                    control.keyword(),
                    line(i),
                    if control == Control::Begin {
                        "nest inside"
                    } else {
                        "end or undo part of"
                    },
                    if control == Control::Begin {
                        "and after it"
                    } else {
                        "committed or undone"
                    },
                ),
                hint: SPLIT_OR_MARK.to_string(),
            });
        }
        let outside: Vec<(usize, &'static str)> = (0..roles.len())
            .filter(body)
            .filter_map(|i| match roles[i] {
                TransactionRole::OutsideOnly(what) => Some((i, what)),
                _ => None,
            })
            .collect();
        let body_count = (0..roles.len()).filter(body).count();
        match outside.first() {
            None => Ok(TransactionPlan {
                mode: Mode::Transaction,
                wrapper,
            }),
            Some(&(_, what)) if outside.len() == body_count && wrapper.is_none() => {
                Ok(TransactionPlan {
                    mode: Mode::OutsideDetected(what),
                    wrapper: None,
                })
            }
            Some(&(i, what)) => {
                let other = (0..roles.len())
                    .filter(body)
                    .find(|&j| !matches!(roles[j], TransactionRole::OutsideOnly(_)));
                let with = match (&wrapper, other) {
                    (Some(w), _) => format!("inside the BEGIN at line {}", line(w.begin)),
                    (None, Some(j)) => format!("with other statements (line {})", line(j)),
                    (None, None) => "in a transaction".to_string(),
                };
                Err(Refusal {
                    line: line(i),
                    message: format!(
                        "{what} at line {} cannot run inside a transaction block, and this \
                         migration has it {with}, which Confiture runs in one transaction",
                        line(i)
                    ),
                    hint: "move it into a migration of its own (Confiture then runs it outside \
                           a transaction by itself), or put `-- confiture: no-transaction` on \
                           the first line to run every statement of this file on its own"
                        .to_string(),
                })
            }
        }
    }

    /// The role of each statement in the file, wrapper statements marked [`TransactionRole::Wrapper`].
    pub fn roles(&self, statements: &[SqlStatement<'_>]) -> Vec<TransactionRole> {
        statements
            .iter()
            .enumerate()
            .map(|(i, s)| match (&self.wrapper, classify(s.text)) {
                (Some(w), TransactionRole::Control(c)) if i == w.begin || i == w.commit => {
                    TransactionRole::Wrapper(c)
                }
                (_, role) => role,
            })
            .collect()
    }
}

/// The outer wrapper: a first statement `BEGIN`/`START TRANSACTION` and a last one plain
/// `COMMIT`/`END` (not `AND CHAIN`), with at least those two statements.
fn wrapper_of(statements: &[SqlStatement<'_>], roles: &[TransactionRole]) -> Option<Wrapper> {
    let last = roles.len().checked_sub(1)?;
    if last == 0
        || roles[0] != TransactionRole::Control(Control::Begin)
        || roles[last] != TransactionRole::Control(Control::Commit)
    {
        return None;
    }
    let end = Words::of(statements[last].text);
    if end.all().any(|w| w == "chain") && !end.all().any(|w| w == "no") {
        return None;
    }
    let begin = Words::of(statements[0].text);
    let keywords = match (begin.top(0), begin.top(1)) {
        ("start", _) => 2,
        ("begin", "work" | "transaction") => 2,
        _ => 1,
    };
    Some(Wrapper {
        begin: 0,
        commit: last,
        modes: begin.rest_after(keywords).to_string(),
    })
}

/// How a migration run outside a transaction commits: in steps, each committed on its own — an
/// explicit transaction (its `BEGIN` to its `COMMIT`/`ROLLBACK`), or one statement outside any.
/// Statements that leave nothing behind (`SET`, `RESET`, `SHOW`, `ANALYZE`, ...) are no step.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommitSteps {
    /// Index of each step's first statement, in order.
    pub starts: Vec<usize>,
    /// Index of the first `BEGIN` of an explicit transaction, if the file has one.
    pub first_explicit: Option<usize>,
}

impl CommitSteps {
    /// The steps of a file run outside a transaction, from each statement's text and role.
    pub fn of<'a>(statements: impl IntoIterator<Item = (&'a str, TransactionRole)>) -> Self {
        let mut steps = CommitSteps::default();
        let mut open = false;
        for (i, (text, role)) in statements.into_iter().enumerate() {
            match role {
                TransactionRole::Control(Control::Begin) if !open => {
                    open = true;
                    steps.starts.push(i);
                    steps.first_explicit.get_or_insert(i);
                }
                TransactionRole::Control(
                    Control::Commit | Control::Rollback | Control::PrepareTransaction,
                ) => open = false,
                TransactionRole::Control(_) => {}
                _ if open || leaves_nothing(text) => {}
                _ => steps.starts.push(i),
            }
        }
        steps
    }

    /// True when a failure part-way can leave some steps committed and others not run.
    pub fn is_atomic(&self) -> bool {
        self.starts.len() < 2
    }
}

/// True for a statement that changes only the session or statistics, so a failure after it
/// leaves nothing of it to undo.
fn leaves_nothing(text: &str) -> bool {
    matches!(
        Words::of(text).top(0),
        "set" | "reset" | "show" | "analyze" | "analyse" | "checkpoint" | "discard"
    )
}

/// In a marked file: every `BEGIN` closed before the next and before the end, no statement
/// that cannot run in a transaction inside one, no `PREPARE TRANSACTION`.
fn check_authors_transactions(
    roles: &[TransactionRole],
    line: &dyn Fn(usize) -> usize,
) -> Result<(), Refusal> {
    let mut open: Option<usize> = None;
    for (i, role) in roles.iter().enumerate() {
        match (role, open) {
            (TransactionRole::Control(Control::PrepareTransaction), _) => {
                return Err(Refusal {
                    line: line(i),
                    message: format!(
                        "PREPARE TRANSACTION at line {}: a prepared transaction would outlive \
                         the migration, holding its locks until someone commits it",
                        line(i)
                    ),
                    hint: "commit the transaction in the file instead, or run two-phase \
                           commits outside Confiture"
                        .to_string(),
                });
            }
            (TransactionRole::Control(Control::Begin), Some(opened)) => {
                return Err(Refusal {
                    line: line(i),
                    message: format!(
                        "BEGIN at line {} while the transaction opened at line {} is still \
                         open",
                        line(i),
                        line(opened)
                    ),
                    hint: "COMMIT (or ROLLBACK) the first transaction before the second BEGIN"
                        .to_string(),
                });
            }
            (TransactionRole::Control(Control::Begin), None) => open = Some(i),
            (TransactionRole::Control(Control::Commit | Control::Rollback), _) => open = None,
            (TransactionRole::OutsideOnly(what), Some(opened)) => {
                return Err(Refusal {
                    line: line(i),
                    message: format!(
                        "{what} at line {} is inside the transaction opened at line {}, and \
                         cannot run inside a transaction block",
                        line(i),
                        line(opened)
                    ),
                    hint: "move it after the transaction's COMMIT".to_string(),
                });
            }
            _ => {}
        }
    }
    match open {
        Some(opened) => Err(Refusal {
            line: line(opened),
            message: format!(
                "the transaction opened at line {} is never committed: it would be left open \
                 when the migration ends",
                line(opened)
            ),
            hint: "end it with COMMIT (or ROLLBACK) in the file".to_string(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
