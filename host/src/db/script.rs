//! SQL files checked before anything runs, then run one statement per protocol message, with a
//! failure located in its file.
//!
//! [`Script::check`] refuses what a server cannot run as written — psql meta-commands,
//! unterminated quotes, `COPY … TO STDOUT`, transaction control that would break the caller's
//! transaction (see [`crate::sql::transaction`]) — naming the file and line. [`execute`] sends
//! each statement alone through the extended protocol, which the server refuses for a text
//! holding two statements: the statements that run are exactly the ones that were checked.
//! `COPY … FROM STDIN` is fed the data lines that follow it in the file.

use std::fmt;

use bytes::Bytes;
use futures_util::SinkExt;
use serde::Serialize;
use tokio_postgres::error::ErrorPosition;
use tokio_postgres::{Client, GenericClient};

use crate::error::Failure;
use crate::sql::transaction::{Mode, TransactionPlan};
use crate::sql::{SqlStatement, split_with_comments};

/// SQLSTATE of `lock_not_available`, raised when `lock_timeout` expires.
pub const LOCK_NOT_AVAILABLE: &str = "55P03";

/// SQLSTATE of `active_sql_transaction`: "cannot run inside a transaction block".
pub const ACTIVE_SQL_TRANSACTION: &str = "25001";

/// The psql meta-commands a script may hold: pg_dump (15.14+, 17.6+) wraps its output in
/// `\restrict KEY` … `\unrestrict KEY`, which only limit what psql itself may do in between.
const HARMLESS_META_COMMANDS: &[&str] = &["\\restrict", "\\unrestrict"];

/// Bytes of `COPY` data sent per message.
const COPY_CHUNK: usize = 256 * 1024;

/// A SQL file that passed [`Script::check`]: its statements and how they must run.
#[derive(Debug, Clone)]
pub struct Script<'a> {
    /// The file, as shown to people (relative to the project root).
    pub file: String,
    /// Every statement of the file, in order.
    pub statements: Vec<SqlStatement<'a>>,
    /// In a transaction or outside one, and the outer `BEGIN … COMMIT` wrapper if any.
    pub plan: TransactionPlan,
}

impl<'a> Script<'a> {
    /// Checks `sql`, the contents of `file` (as shown to people), before anything runs.
    /// `marked` says the file opted out of the transaction (`-- confiture: no-transaction`).
    ///
    /// Refuses (exit 5, naming file:line and what to do) an unterminated quote, comment,
    /// dollar quote, parenthesis or `COPY` data; a psql meta-command (`\i`, `\connect`,
    /// `\set`, …; pg_dump's `\restrict`/`\unrestrict` are skipped); `COPY … TO STDOUT`; and
    /// the transaction control [`TransactionPlan::of`] refuses.
    pub fn check(file: &str, sql: &'a str, marked: bool) -> Result<Script<'a>, Failure> {
        let split = split_with_comments(sql);
        let refuse = |line: usize, message: String, hint: &str| {
            Failure::config(format!("{file}:{line}: {message}; nothing was run")).hint(hint)
        };
        if let Some(problem) = split.problems.first() {
            return Err(refuse(
                problem.line,
                problem.to_string(),
                "close it: everything after that line would be read as part of it",
            ));
        }
        if let Some(meta) = split
            .meta_commands
            .iter()
            .find(|m| !HARMLESS_META_COMMANDS.contains(&m.name()))
        {
            let hint = match meta.name() {
                "\\i" | "\\ir" | "\\include" | "\\include_relative" => {
                    "paste the included file's SQL into this file (Confiture runs SQL, not psql \
                     scripts, and checksums exactly what it runs)"
                }
                "\\set" | "\\unset" | "\\pset" => {
                    "delete the line: Confiture always stops at the first error and has no psql \
                     variables"
                }
                "\\connect" | "\\c" => {
                    "split the work per database: one project environment per database"
                }
                "\\copy" => "use COPY … FROM STDIN followed by the data lines and `\\.`",
                _ => "replace it with the SQL it stands for, or delete it",
            };
            return Err(refuse(
                meta.line,
                format!(
                    "psql meta-command `{}` cannot run: the server does not know psql commands",
                    meta.text
                ),
                hint,
            ));
        }
        if let Some(copy) = split.statements.iter().find(|s| is_copy_to_stdout(s.text)) {
            return Err(refuse(
                copy.line,
                "COPY … TO STDOUT has nowhere to write in a script".to_string(),
                "delete it, or COPY into a table",
            ));
        }
        let plan = TransactionPlan::of(&split.statements, marked)
            .map_err(|r| refuse(r.line, r.message, &r.hint))?;
        Ok(Script {
            file: file.to_string(),
            statements: split.statements,
            plan,
        })
    }

    /// True when the statements run outside a transaction, each committed on its own.
    pub fn outside_transaction(&self) -> bool {
        self.plan.mode.is_outside()
    }

    /// Why it runs outside a transaction, for people; `None` in a transaction.
    pub fn why_outside(&self) -> Option<String> {
        match &self.plan.mode {
            Mode::Transaction => None,
            Mode::OutsideMarked => Some("marked `-- confiture: no-transaction`".to_string()),
            Mode::OutsideDetected(what) => {
                Some(format!("{what} cannot run inside a transaction block"))
            }
        }
    }

    /// The statements that run, in order: all of them but an outer wrapper's `BEGIN`/`COMMIT`.
    pub fn to_run(&self) -> impl Iterator<Item = (usize, &SqlStatement<'a>)> {
        let wrapper = self.plan.wrapper.as_ref();
        self.statements
            .iter()
            .enumerate()
            .filter(move |(i, _)| wrapper.is_none_or(|w| *i != w.begin && *i != w.commit))
    }
}

/// True for `COPY … TO STDOUT`.
fn is_copy_to_stdout(text: &str) -> bool {
    let mut words = text.split(|c: char| c.is_ascii_whitespace() || c == ')' || c == '(');
    if !words.next().is_some_and(|w| w.eq_ignore_ascii_case("copy")) {
        return false;
    }
    let mut previous_is_to = false;
    for word in words.filter(|w| !w.is_empty()) {
        if previous_is_to && word.eq_ignore_ascii_case("stdout") {
            return true;
        }
        previous_is_to = word.eq_ignore_ascii_case("to");
    }
    false
}

/// Runs one statement on `client`, alone in its protocol message: through the extended
/// protocol's unnamed statement (one round trip), or, for `COPY … FROM STDIN`, as a copy fed
/// its data lines. Returns the rows it affected.
pub async fn execute(
    client: &Client,
    statement: &SqlStatement<'_>,
) -> Result<u64, tokio_postgres::Error> {
    match statement.copy_data {
        None => client.execute_typed(statement.text, &[]).await,
        Some(data) => {
            let sink = client.copy_in::<_, Bytes>(statement.text).await?;
            futures_util::pin_mut!(sink);
            for chunk in data.text.as_bytes().chunks(COPY_CHUNK) {
                sink.send(Bytes::copy_from_slice(chunk)).await?;
            }
            sink.finish().await
        }
    }
}

/// Checks and runs every statement of `sql` (the contents of `file`, as shown to people) in
/// order, inside the transaction `client` is in (the schema build's). An outer `BEGIN … COMMIT`
/// wrapper is left out; other transaction control is refused before anything runs. Returns how
/// many statements ran; a failure is a [`ScriptError`] (or the refusal, a [`Failure`]).
pub async fn run_script(
    client: &impl GenericClient,
    file: &str,
    sql: &str,
) -> anyhow::Result<usize> {
    let script = Script::check(file, sql, false)?;
    let statements: Vec<&SqlStatement<'_>> = script.to_run().map(|(_, s)| s).collect();
    for (index, statement) in statements.iter().enumerate() {
        if let Err(err) = execute(client.client(), statement).await {
            let mut error = ScriptError::from_postgres(file, statement.text, statement.line, &err);
            error.ran = statements[..index].iter().map(|s| s.line).collect();
            error.not_run = statements[index + 1..].iter().map(|s| s.line).collect();
            return Err(error.into());
        }
    }
    Ok(statements.len())
}

/// A statement of a SQL file failed: where, PostgreSQL's diagnostics, and what ran before.
#[derive(Debug, Clone, Serialize)]
pub struct ScriptError {
    /// The file, as shown to people (relative to the project root).
    pub file: String,
    /// 1-based line of the error in the file (PostgreSQL's error position when it gave one,
    /// else the failing statement's first line).
    pub line: usize,
    /// 1-based line where the failing statement starts.
    pub statement_line: usize,
    /// PostgreSQL's SQLSTATE (`None` when the failure did not come from the server).
    pub sqlstate: Option<String>,
    /// The error message.
    pub message: String,
    /// PostgreSQL's DETAIL, if any.
    pub detail: Option<String>,
    /// PostgreSQL's HINT, if any.
    pub hint: Option<String>,
    /// The object PostgreSQL named (table, column, type, constraint), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// On a `lock_timeout` failure: the sessions seen holding the locks the statement waited
    /// for (pid, application, since when, statement without values).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocked_by: Vec<String>,
    /// Lines of the statements that completed before the failure.
    pub ran: Vec<usize>,
    /// Lines of the statements after the failing one, which did not run.
    pub not_run: Vec<usize>,
}

impl ScriptError {
    /// True when the statement failed because `lock_timeout` expired (SQLSTATE 55P03).
    pub fn is_lock_timeout(&self) -> bool {
        self.sqlstate.as_deref() == Some(LOCK_NOT_AVAILABLE)
    }

    /// The error for a failure of the statement `text` that starts at `line` of `file`.
    pub fn from_postgres(file: &str, text: &str, line: usize, err: &tokio_postgres::Error) -> Self {
        let mut error = ScriptError {
            file: file.to_string(),
            line,
            statement_line: line,
            sqlstate: None,
            message: crate::error::describe(err),
            detail: None,
            hint: None,
            object: None,
            blocked_by: Vec::new(),
            ran: Vec::new(),
            not_run: Vec::new(),
        };
        if let Some(db) = err.as_db_error() {
            error.line = line + lines_into(text, db);
            error.sqlstate = Some(db.code().code().to_string());
            error.message = db.message().to_string();
            error.detail = db.detail().map(str::to_string);
            error.hint = db.hint().map(str::to_string);
            error.object = crate::error::object_of(db);
        }
        error
    }
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ERROR", self.file, self.line)?;
        if let Some(code) = &self.sqlstate {
            write!(f, " {code}")?;
        }
        write!(f, " {}", self.message)?;
        if let Some(detail) = &self.detail {
            write!(f, "\n  DETAIL: {detail}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  HINT: {hint}")?;
        }
        if let Some(object) = &self.object {
            write!(f, "\n  OBJECT: {object}")?;
        }
        for blocker in &self.blocked_by {
            write!(f, "\n  BLOCKED BY: {blocker}")?;
        }

        if self.sqlstate.as_deref() == Some(ACTIVE_SQL_TRANSACTION) {
            write!(
                f,
                "\n  (put this statement in a migration of its own, or mark the file \
                 `-- confiture: no-transaction`)"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ScriptError {}

/// How many lines into the statement `text` the server's error `db` is: at its position in
/// the statement; or, inside a `DO` block's body, at the body line PL/pgSQL names in its
/// context (`PL/pgSQL function inline_code_block line N`), plus the position inside that
/// line's statement when the error is in it; else 0 (the statement's first line).
fn lines_into(text: &str, db: &tokio_postgres::error::DbError) -> usize {
    match db.position() {
        Some(ErrorPosition::Original(position)) => {
            return lines_before_char(text, *position as usize);
        }
        Some(ErrorPosition::Internal { .. }) | None => {}
    }
    let Some(context) = db.where_() else { return 0 };
    // Frames run innermost first; the outermost is the block's own. A function it calls has
    // its own line numbers, which say nothing about this file: the block's line that called
    // it is named. (Context lines that are not frames quote SQL.)
    let frames: Vec<&str> = context
        .lines()
        .filter(|l| l.starts_with("PL/pgSQL function "))
        .collect();
    let Some(body_line) = frames.last().and_then(|frame| block_line(frame)) else {
        return 0;
    };
    let Some(body_start) = body_start_line(text) else {
        return 0;
    };
    let inner = match db.position() {
        Some(ErrorPosition::Internal { position, query }) if frames.len() == 1 => {
            lines_before_char(query, *position as usize)
        }
        _ => 0,
    };
    body_start + body_line.saturating_sub(1) + inner
}

/// `N` in `PL/pgSQL function inline_code_block line N at ...` (a `DO` block's frame).
fn block_line(frame: &str) -> Option<usize> {
    let rest = frame.strip_prefix("PL/pgSQL function inline_code_block line ")?;
    rest.split_whitespace().next()?.parse().ok()
}

/// The 0-based line of `text` where a `DO` block's body starts: the line of its opening
/// dollar quote or quote (PL/pgSQL counts that line as the body's line 1). Comment lines
/// before `DO` are skipped.
fn body_start_line(text: &str) -> Option<usize> {
    let (skipped, first) = text
        .lines()
        .enumerate()
        .find(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with("--"))?;
    let first_word = first.split_whitespace().next()?;
    if !first_word.eq_ignore_ascii_case("do") {
        return None;
    }
    let rest: Vec<char> = text
        .lines()
        .skip(skipped)
        .collect::<Vec<_>>()
        .join("\n")
        .chars()
        .collect();
    let opens = rest.iter().enumerate().position(|(i, &c)| {
        c == '\''
            || (c == '$'
                && rest[i + 1..]
                    .iter()
                    .find(|d| !(d.is_alphanumeric() || **d == '_'))
                    == Some(&'$')
                && !rest.get(i + 1).is_some_and(char::is_ascii_digit))
    })?;
    Some(skipped + rest[..opens].iter().filter(|&&c| c == '\n').count())
}

/// Newlines in `text` before its 1-based character `position` (PostgreSQL counts characters).
fn lines_before_char(text: &str, position: usize) -> usize {
    text.chars()
        .take(position.saturating_sub(1))
        .filter(|&c| c == '\n')
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(sql: &str) -> Failure {
        Script::check("db/migrations/1_x.up.sql", sql, false).expect_err("refused")
    }

    #[test]
    fn position_counts_characters_not_bytes() {
        let text = "SELECT 'é'\n  FROM nope";
        let position = text.chars().position(|c| c == 'n').unwrap() + 1;
        assert_eq!(lines_before_char(text, position), 1);
        assert_eq!(lines_before_char(text, 1), 0);
    }

    #[test]
    fn a_do_blocks_body_starts_on_the_line_of_its_quote() {
        assert_eq!(body_start_line("DO $$\nBEGIN\nEND $$"), Some(0));
        assert_eq!(
            body_start_line("DO\n  LANGUAGE plpgsql\n  $body$ BEGIN END $body$"),
            Some(2)
        );
        assert_eq!(body_start_line("do\n'BEGIN END'"), Some(1));
        assert_eq!(
            body_start_line("-- it's a note\nDO $$ BEGIN END $$"),
            Some(1)
        );
        assert_eq!(body_start_line("SELECT $$x$$"), None);
        assert_eq!(
            block_line("PL/pgSQL function inline_code_block line 6 at SQL statement"),
            Some(6)
        );
        assert_eq!(block_line("PL/pgSQL function f() line 6 at RAISE"), None);
    }

    #[test]
    fn display_reads_like_a_compiler_error() {
        let error = ScriptError {
            file: "db/migrations/002_x.up.sql".into(),
            line: 7,
            statement_line: 6,
            sqlstate: Some("42P01".into()),
            message: "relation \"nope\" does not exist".into(),
            detail: Some("d".into()),
            hint: Some("h".into()),
            object: None,
            blocked_by: Vec::new(),
            ran: vec![1],
            not_run: vec![],
        };
        assert_eq!(
            error.to_string(),
            "db/migrations/002_x.up.sql:7: ERROR 42P01 relation \"nope\" does not exist\n  DETAIL: d\n  HINT: h"
        );
        assert!(!error.is_lock_timeout());
    }

    #[test]
    fn refusals_name_the_file_and_line() {
        let f = refusal("SELECT 1;\n\\i other.sql\n");
        assert_eq!(f.code, crate::error::ExitCode::Config);
        assert!(
            f.message
                .starts_with("db/migrations/1_x.up.sql:2: psql meta-command `\\i other.sql`"),
            "{}",
            f.message
        );
        assert!(f.hint.unwrap().contains("paste"));
        let f = refusal("SELECT 1;\nSELECT 'open\n");
        assert!(
            f.message.contains(":2: unterminated quoted string"),
            "{}",
            f.message
        );
        let f = refusal("COPY t TO STDOUT;");
        assert!(f.message.contains(":1: COPY … TO STDOUT"), "{}", f.message);
        let f = refusal("SELECT 1;\nCOMMIT;\nSELECT 2;");
        assert!(f.message.contains(":2: COMMIT at line 2"), "{}", f.message);
        for name in [
            "\\set ON_ERROR_STOP on",
            "\\connect db",
            "\\copy t from 'x'",
            "\\gexec",
        ] {
            let f = refusal(&format!("{name}\nSELECT 1;"));
            assert!(f.message.contains(":1: psql meta-command"), "{}", f.message);
        }
    }

    #[test]
    fn pg_dump_restrict_lines_are_skipped_and_wrappers_left_out() {
        let sql = "\\restrict k\nBEGIN;\nSET x = 1;\nCOPY t FROM stdin;\n1\n\\.\nCOMMIT;\n\\unrestrict k\n";
        let script = Script::check("f.sql", sql, false).unwrap();
        assert!(!script.outside_transaction());
        let run: Vec<_> = script.to_run().map(|(_, s)| s.line).collect();
        assert_eq!(run, vec![3, 4]);
        let marked =
            Script::check("f.sql", "-- confiture: no-transaction\nVACUUM t;", true).unwrap();
        assert_eq!(
            marked.why_outside().unwrap(),
            "marked `-- confiture: no-transaction`"
        );
        let detected = Script::check("f.sql", "VACUUM t;", false).unwrap();
        assert!(
            detected
                .why_outside()
                .unwrap()
                .starts_with("VACUUM cannot run")
        );
    }
}
