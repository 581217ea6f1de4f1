//! Splits SQL text into statements where PostgreSQL's own client, psql, would: at semicolons
//! outside quotes, comments, dollar quotes, parentheses and `BEGIN ATOMIC … END` bodies.
//!
//! The split also reports what a runner must not miss: psql meta-commands (a backslash outside
//! quotes), the inline data of `COPY … FROM STDIN`, and quotes, comments, dollar quotes,
//! parentheses and function bodies that are never closed (each with the line where it opens).

use std::fmt;

/// One statement of a SQL text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlStatement<'a> {
    /// The statement's text, without the terminating `;`, trimmed.
    pub text: &'a str,
    /// 1-based line in the source where the statement's first token is.
    pub line: usize,
    /// Byte offset of `text` in the source.
    pub offset: usize,
    /// For `COPY … FROM STDIN`: the data lines that follow it in the text.
    pub copy_data: Option<CopyData<'a>>,
}

/// The inline data of a `COPY … FROM STDIN` (pg_dump's data format): every line after the
/// statement's line up to the `\.` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyData<'a> {
    /// The data lines with their line ends, without the `\.` line.
    pub text: &'a str,
    /// 1-based line of the first data line.
    pub line: usize,
}

/// A psql meta-command: a backslash outside quotes and comments, up to the end of its line
/// (`\i other.sql`, `\connect db`, pg_dump's `\restrict KEY`). The server cannot run these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaCommand<'a> {
    /// From the backslash to the end of the line, trailing whitespace trimmed.
    pub text: &'a str,
    /// 1-based line.
    pub line: usize,
}

impl<'a> MetaCommand<'a> {
    /// The command without its arguments, backslash included: `\i`, `\connect`, `\restrict`.
    pub fn name(&self) -> &'a str {
        self.text
            .split(|c: char| c.is_whitespace())
            .next()
            .unwrap_or(self.text)
    }
}

/// Something opened in the text and never closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unterminated {
    /// A `'…'` string (plain, `E''`, `U&''`, `B''`, `X''`).
    String,
    /// A `"…"` quoted identifier.
    QuotedIdentifier,
    /// A `$$…$$` or `$tag$…$tag$` dollar quote.
    DollarQuote,
    /// A `/* … */` comment.
    BlockComment,
    /// A `(` without its `)`.
    Parenthesis,
    /// A `BEGIN ATOMIC` function body without its `END`.
    AtomicBody,
    /// `COPY … FROM STDIN` data without its `\.` line.
    CopyData,
}

impl Unterminated {
    /// What it is, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Unterminated::String => "quoted string",
            Unterminated::QuotedIdentifier => "quoted identifier",
            Unterminated::DollarQuote => "dollar-quoted string",
            Unterminated::BlockComment => "/* comment",
            Unterminated::Parenthesis => "parenthesis",
            Unterminated::AtomicBody => "BEGIN ATOMIC body",
            Unterminated::CopyData => "COPY … FROM STDIN data (no `\\.` line)",
        }
    }
}

/// A construct that is never closed: the rest of the text after `line` belongs to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitProblem {
    /// What is left open.
    pub what: Unterminated,
    /// 1-based line where it opens.
    pub line: usize,
}

impl fmt::Display for SplitProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unterminated {} starting at line {}",
            self.what.describe(),
            self.line
        )
    }
}

/// One `--` comment of a SQL text (comments inside strings, dollar quotes, block comments
/// and `COPY` data are not comments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineComment<'a> {
    /// The comment from its `--` to the end of its line, trailing whitespace trimmed.
    pub text: &'a str,
    /// 1-based line of the comment.
    pub line: usize,
    /// True when only whitespace precedes the comment on its line.
    pub own_line: bool,
}

/// A SQL text cut into statements, with its `--` comments, meta-commands and problems.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split<'a> {
    /// The statements, in order.
    pub statements: Vec<SqlStatement<'a>>,
    /// Every `--` comment, in order.
    pub comments: Vec<LineComment<'a>>,
    /// Every psql meta-command, in order.
    pub meta_commands: Vec<MetaCommand<'a>>,
    /// Constructs left open at the end of the text (at most one per statement).
    pub problems: Vec<SplitProblem>,
}

/// Splits `sql` on statement-ending semicolons; statements that are only comments are dropped.
///
/// A semicolon ends a statement only outside single-quoted strings (`''` doubled, backslash
/// escapes in `E''`), quoted identifiers, dollar quotes (`$$`, `$tag$`), `--` and nested
/// `/* */` comments, parentheses (so a multi-action `CREATE RULE … DO ( …; … )` stays whole)
/// and the `BEGIN ATOMIC … END` body of a `CREATE [OR REPLACE] FUNCTION|PROCEDURE` — the rules
/// psql follows. A leading byte order mark is skipped; `\r\n` line ends are read like `\n`.
///
/// A statement's text, line and offset start at its first token that is not whitespace or a
/// comment; comments inside it are kept. After `COPY … FROM STDIN;` the lines up to `\.` are
/// its [`CopyData`], not statements.
pub fn split_statements(sql: &str) -> Vec<SqlStatement<'_>> {
    split_with_comments(sql).statements
}

/// [`split_statements`], also returning the comments, meta-commands and unclosed constructs.
pub fn split_with_comments(sql: &str) -> Split<'_> {
    Scanner::new(sql).run()
}

/// How far the start of the current statement matches `CREATE [OR REPLACE] FUNCTION|PROCEDURE`
/// (whose `BEGIN … END` body holds semicolons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Header {
    /// No word seen yet.
    Start,
    /// `CREATE`.
    Create,
    /// `CREATE OR`.
    CreateOr,
    /// `CREATE OR REPLACE`.
    CreateOrReplace,
    /// A function or procedure: `BEGIN`, `CASE` and `END` nest.
    Routine,
    /// Anything else.
    Other,
}

impl Header {
    fn next(self, word: &str) -> Header {
        let is = |w: &str| word.eq_ignore_ascii_case(w);
        let routine = is("function") || is("procedure");
        match self {
            Header::Start if is("create") => Header::Create,
            Header::Create if is("or") => Header::CreateOr,
            Header::CreateOr if is("replace") => Header::CreateOrReplace,
            Header::Create | Header::CreateOrReplace if routine => Header::Routine,
            Header::Routine => Header::Routine,
            _ => Header::Other,
        }
    }
}

/// The statement being read.
#[derive(Debug, Clone, Copy)]
struct Current {
    /// Offset and line of its first token.
    first_token: Option<(usize, usize)>,
    /// Open parentheses, and the line of the outermost one.
    parens: usize,
    paren_line: usize,
    /// Open `BEGIN`/`CASE` of a routine body, and the line of the outermost `BEGIN`.
    body_depth: usize,
    body_line: usize,
    header: Header,
    /// A construct left open inside it.
    problem: Option<SplitProblem>,
    /// How many comments were read before its first token (see [`Scanner::reread_unclosed`]).
    comments_before: usize,
}

impl Current {
    fn new() -> Self {
        Current {
            first_token: None,
            parens: 0,
            paren_line: 0,
            body_depth: 0,
            body_line: 0,
            header: Header::Start,
            problem: None,
            comments_before: 0,
        }
    }
}

struct Scanner<'a> {
    sql: &'a str,
    bytes: &'a [u8],
    lines: LineCounter,
    out: Split<'a>,
    current: Current,
    /// False once a parenthesis was found never closed: from there on, semicolons end
    /// statements inside parentheses too.
    parens_hold_semicolons: bool,
}

impl<'a> Scanner<'a> {
    fn new(sql: &'a str) -> Self {
        Scanner {
            sql,
            bytes: sql.as_bytes(),
            lines: LineCounter::default(),
            out: Split::default(),
            current: Current::new(),
            parens_hold_semicolons: true,
        }
    }

    fn line_of(&mut self, offset: usize) -> usize {
        self.lines.line_of(self.bytes, offset)
    }

    fn run(mut self) -> Split<'a> {
        let bytes = self.bytes;
        let mut i = if self.sql.starts_with('\u{feff}') {
            3
        } else {
            0
        };
        loop {
            while i < bytes.len() {
                let b = bytes[i];
                i = match b {
                    b'-' if bytes.get(i + 1) == Some(&b'-') => self.line_comment(i),
                    b'/' if bytes.get(i + 1) == Some(&b'*') => {
                        self.closed(i, skip_block_comment(bytes, i), Unterminated::BlockComment)
                    }
                    b';' if (self.current.parens == 0 || !self.parens_hold_semicolons)
                        && self.current.body_depth == 0 =>
                    {
                        self.end_statement(i)
                    }
                    b'\\' => self.meta_command(i),
                    _ if b.is_ascii_whitespace() => i + 1,
                    _ => self.token(i),
                };
            }
            match self.reread_unclosed() {
                Some(start) => i = start,
                None => break,
            }
        }
        self.finish_statement(bytes.len());
        self.out
    }

    /// At the end of the text, when the last statement has a parenthesis never closed (which
    /// swallowed every later semicolon): records that problem and returns where to read that
    /// statement again, this time ending statements at every semicolon outside quotes — psql
    /// would send the rest of the file as one broken statement, and a reader such as lint
    /// still wants the statements after the typo.
    fn reread_unclosed(&mut self) -> Option<usize> {
        let c = self.current;
        let (start, _) = c.first_token?;
        if !self.parens_hold_semicolons || c.parens == 0 || c.problem.is_some() {
            return None;
        }
        self.out.problems.push(SplitProblem {
            what: Unterminated::Parenthesis,
            line: c.paren_line,
        });
        self.out.comments.truncate(c.comments_before);
        self.current = Current::new();
        self.lines = LineCounter::default();
        self.parens_hold_semicolons = false;
        Some(start)
    }

    /// Reads the token starting at `i` (part of the current statement); returns where it ends.
    fn token(&mut self, i: usize) -> usize {
        let bytes = self.bytes;
        if self.current.first_token.is_none() {
            let line = self.line_of(i);
            self.current.first_token = Some((i, line));
            self.current.comments_before = self.out.comments.len();
        }
        match bytes[i] {
            b'\'' => {
                let escapes = i > 0
                    && matches!(bytes[i - 1], b'e' | b'E')
                    && (i < 2 || !is_ident_continue(bytes[i - 2]));
                self.closed(
                    i,
                    skip_single_quoted(bytes, i, escapes),
                    Unterminated::String,
                )
            }
            b'"' => self.closed(
                i,
                skip_until_quote(bytes, i, b'"'),
                Unterminated::QuotedIdentifier,
            ),
            b'$' => match skip_dollar(bytes, i) {
                Dollar::Quote(end) => end,
                Dollar::Unterminated => self.closed(i, None, Unterminated::DollarQuote),
                Dollar::NotAQuote(end) => end,
            },
            b'(' => {
                if self.current.parens == 0 {
                    self.current.paren_line = self.line_of(i);
                }
                self.current.parens += 1;
                i + 1
            }
            b')' => {
                self.current.parens = self.current.parens.saturating_sub(1);
                i + 1
            }
            b if is_ident_start(b) => {
                let mut end = i + 1;
                while end < bytes.len() && is_ident_continue(bytes[end]) {
                    end += 1;
                }
                let sql = self.sql;
                self.word(i, &sql[i..end]);
                end
            }
            _ => i + 1,
        }
    }

    /// Follows the words of a `CREATE FUNCTION|PROCEDURE` to know when its body ends.
    fn word(&mut self, at: usize, word: &str) {
        let c = &mut self.current;
        c.header = c.header.next(word);
        if c.header != Header::Routine || c.parens > 0 {
            return;
        }
        if word.eq_ignore_ascii_case("begin") {
            if c.body_depth == 0 {
                c.body_line = self.lines.line_of(self.bytes, at);
            }
            c.body_depth += 1;
        } else if word.eq_ignore_ascii_case("case") && c.body_depth > 0 {
            c.body_depth += 1;
        } else if word.eq_ignore_ascii_case("end") && c.body_depth > 0 {
            c.body_depth -= 1;
        }
    }

    /// `end` when a quote or comment opened at `start` was closed; else records it as left
    /// open and returns the end of the text.
    fn closed(&mut self, start: usize, end: Option<usize>, what: Unterminated) -> usize {
        match end {
            Some(end) => end,
            None => {
                let line = self.line_of(start);
                self.current
                    .problem
                    .get_or_insert(SplitProblem { what, line });
                self.bytes.len()
            }
        }
    }

    fn line_comment(&mut self, i: usize) -> usize {
        // PostgreSQL ends a `--` comment at a carriage return as at a newline.
        let end =
            memchr::memchr2(b'\n', b'\r', &self.bytes[i..]).map_or(self.bytes.len(), |n| i + n + 1);
        let line = self.line_of(i);
        self.out.comments.push(LineComment {
            text: self.sql[i..end].trim_end(),
            line,
            own_line: self.bytes[line_start(self.bytes, i)..i]
                .iter()
                .all(u8::is_ascii_whitespace),
        });
        end
    }

    /// A meta-command ends the statement before it (as psql sends its buffer at `\g`).
    fn meta_command(&mut self, i: usize) -> usize {
        if self.current.first_token.is_some() {
            self.finish_statement(i);
        }
        let end = line_end(self.bytes, i);
        let line = self.line_of(i);
        self.out.meta_commands.push(MetaCommand {
            text: self.sql[i..end].trim_end(),
            line,
        });
        end
    }

    /// At a statement-ending `;` at `i`: pushes the statement, reads a `COPY … FROM STDIN`'s
    /// data; returns where scanning goes on.
    fn end_statement(&mut self, i: usize) -> usize {
        let Some(index) = self.finish_statement(i) else {
            return i + 1;
        };
        if !is_copy_from_stdin(self.out.statements[index].text) {
            return i + 1;
        }
        let start = line_end(self.bytes, i);
        let line = self.line_of(start);
        let (data_end, resume) = match find_copy_end(self.bytes, start) {
            Some(found) => found,
            None => {
                let line = self.out.statements[index].line;
                self.out.problems.push(SplitProblem {
                    what: Unterminated::CopyData,
                    line,
                });
                (self.bytes.len(), self.bytes.len())
            }
        };
        self.out.statements[index].copy_data = Some(CopyData {
            text: &self.sql[start..data_end],
            line,
        });
        resume
    }

    /// Pushes the current statement ending before `end`, if it has a token; returns its index.
    fn finish_statement(&mut self, end: usize) -> Option<usize> {
        let current = std::mem::replace(&mut self.current, Current::new());
        let problem = if current.problem.is_some() {
            current.problem
        } else if current.parens > 0 && self.parens_hold_semicolons {
            Some(SplitProblem {
                what: Unterminated::Parenthesis,
                line: current.paren_line,
            })
        } else if current.body_depth > 0 {
            Some(SplitProblem {
                what: Unterminated::AtomicBody,
                line: current.body_line,
            })
        } else {
            None
        };
        self.out.problems.extend(problem);
        let (first, line) = current.first_token?;
        self.out.statements.push(SqlStatement {
            text: self.sql[first..end].trim_end(),
            line,
            offset: first,
            copy_data: None,
        });
        Some(self.out.statements.len() - 1)
    }
}

/// Counts lines incrementally: offsets are asked for in increasing order (the scan's), so the
/// whole text is read once.
#[derive(Default)]
struct LineCounter {
    /// Offset up to which newlines were counted.
    counted_to: usize,
    /// Newlines before `counted_to`.
    newlines: usize,
}

impl LineCounter {
    /// 1-based line of the byte at `offset` (not before the last offset asked for).
    fn line_of(&mut self, bytes: &[u8], offset: usize) -> usize {
        if offset > self.counted_to {
            self.newlines += memchr::memchr_iter(b'\n', &bytes[self.counted_to..offset]).count();
            self.counted_to = offset;
        }
        self.newlines + 1
    }
}

/// True for `COPY ... FROM STDIN` (the statement is followed by inline data).
pub(crate) fn is_copy_from_stdin(text: &str) -> bool {
    let mut words = text.split(|c: char| c.is_ascii_whitespace() || c == ')' || c == '(');
    if !words.next().is_some_and(|w| w.eq_ignore_ascii_case("copy")) {
        return false;
    }
    let mut previous_is_from = false;
    for word in words.filter(|w| !w.is_empty()) {
        if previous_is_from && word.eq_ignore_ascii_case("stdin") {
            return true;
        }
        previous_is_from = word.eq_ignore_ascii_case("from");
    }
    false
}

/// From the first data line at `start`: the offset where the `\.` line starts (the end of the
/// data) and the offset after it, or `None` when there is no `\.` line.
fn find_copy_end(bytes: &[u8], start: usize) -> Option<(usize, usize)> {
    let mut line = start;
    while line < bytes.len() {
        let end = line_end(bytes, line);
        if bytes[line..end].trim_ascii_end() == b"\\." {
            return Some((line, end));
        }
        line = end;
    }
    None
}

/// Index after the end of the line holding `i` (after its `\n`, or the end of the text).
fn line_end(bytes: &[u8], i: usize) -> usize {
    memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |nl| i + nl + 1)
}

/// Index of the first byte of the line holding `i`.
fn line_start(bytes: &[u8], i: usize) -> usize {
    memchr::memrchr(b'\n', &bytes[..i]).map_or(0, |nl| nl + 1)
}

/// A byte that can start an identifier or keyword (non-ASCII letters included).
fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

/// A byte that can continue one (`$` too: `a$b` is one identifier, not a dollar quote).
fn is_ident_continue(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

/// Index after the `*/` closing the (possibly nested) comment opened at `i`.
pub(super) fn skip_block_comment(bytes: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0;
    while i < bytes.len() {
        if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return Some(i);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// Index after the `'` closing the string opened at `i`.
fn skip_single_quoted(bytes: &[u8], mut i: usize, backslash_escapes: bool) -> Option<usize> {
    i += 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if backslash_escapes => i += 2,
            b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b'\'' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Index after the `quote` closing the quoted text opened at `i` (doubled quotes escape).
fn skip_until_quote(bytes: &[u8], mut i: usize, quote: u8) -> Option<usize> {
    i += 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

/// What a `$` starts.
enum Dollar {
    /// A dollar quote, closed; the index after it.
    Quote(usize),
    /// A dollar quote never closed.
    Unterminated,
    /// A parameter (`$1`) or a lone `$`; the index after it.
    NotAQuote(usize),
}

/// Reads what the `$` at `i` starts.
fn skip_dollar(bytes: &[u8], i: usize) -> Dollar {
    let mut j = i + 1;
    // A tag is an identifier that does not start with a digit and holds no `$`.
    if j < bytes.len() && bytes[j].is_ascii_digit() {
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        return Dollar::NotAQuote(j);
    }
    while j < bytes.len() && is_ident_continue(bytes[j]) && bytes[j] != b'$' {
        j += 1;
    }
    if bytes.get(j) != Some(&b'$') {
        return Dollar::NotAQuote(i + 1);
    }
    let tag = &bytes[i..=j];
    let body = j + 1;
    match memchr::memmem::find(&bytes[body..], tag) {
        Some(p) => Dollar::Quote(body + p + tag.len()),
        None => Dollar::Unterminated,
    }
}

#[cfg(test)]
mod tests;
