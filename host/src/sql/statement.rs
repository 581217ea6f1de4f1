//! One SQL file into located statements: split, then each statement parsed alone with
//! sqlparser's PostgreSQL dialect, so one statement it cannot read never hides the others.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;
use sqlparser::ast::{self, ObjectType};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::rows::{RowChange, data_statement_kind, only_moves_rows};
use super::split::{LineComment, Split, SplitProblem, split_with_comments};
use super::transaction::{TransactionPlan, TransactionRole, classify, has_no_transaction_marker};
use super::workaround;

/// Where something is written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Location {
    /// The path as shown to the user, relative to the project root.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// What a statement is, from its parsed form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatementKind {
    /// `CREATE TABLE` (also `CREATE TABLE ... AS`, `PARTITION OF`).
    CreateTable,
    /// `ALTER TABLE`.
    AlterTable,
    /// `CREATE INDEX`.
    CreateIndex,
    /// `DROP INDEX`.
    DropIndex,
    /// `DROP TABLE`.
    DropTable,
    /// `CREATE VIEW` and `CREATE MATERIALIZED VIEW`.
    CreateView,
    /// `CREATE FUNCTION` and `CREATE PROCEDURE`.
    CreateFunction,
    /// `CREATE TRIGGER`.
    CreateTrigger,
    /// `CREATE EXTENSION`.
    CreateExtension,
    /// `CREATE TYPE` and `CREATE DOMAIN`.
    CreateType,
    /// `CREATE SCHEMA`.
    CreateSchema,
    /// `CREATE SEQUENCE`.
    CreateSequence,
    /// `COMMENT ON`.
    Comment,
    /// `INSERT`.
    Insert,
    /// `UPDATE`.
    Update,
    /// `DELETE`.
    Delete,
    /// `TRUNCATE`.
    Truncate,
    /// `GRANT` and `REVOKE`.
    Grant,
    /// `SET` and `RESET`.
    Set,
    /// `BEGIN`, `START TRANSACTION`, `COMMIT`, `ROLLBACK`, savepoints.
    Transaction,
    /// Parsed, of another kind.
    Other,
    /// sqlparser could not parse it; see [`Statement::guessed_kind`].
    Unparsed,
}

impl StatementKind {
    /// The kind as a kebab-case word, e.g. `create-table` or `unparsed`.
    pub fn as_str(self) -> &'static str {
        match self {
            StatementKind::CreateTable => "create-table",
            StatementKind::AlterTable => "alter-table",
            StatementKind::CreateIndex => "create-index",
            StatementKind::DropIndex => "drop-index",
            StatementKind::DropTable => "drop-table",
            StatementKind::CreateView => "create-view",
            StatementKind::CreateFunction => "create-function",
            StatementKind::CreateTrigger => "create-trigger",
            StatementKind::CreateExtension => "create-extension",
            StatementKind::CreateType => "create-type",
            StatementKind::CreateSchema => "create-schema",
            StatementKind::CreateSequence => "create-sequence",
            StatementKind::Comment => "comment",
            StatementKind::Insert => "insert",
            StatementKind::Update => "update",
            StatementKind::Delete => "delete",
            StatementKind::Truncate => "truncate",
            StatementKind::Grant => "grant",
            StatementKind::Set => "set",
            StatementKind::Transaction => "transaction",
            StatementKind::Other => "other",
            StatementKind::Unparsed => "unparsed",
        }
    }

    /// The kind of a parsed statement.
    pub fn of(statement: &ast::Statement) -> StatementKind {
        use ast::Statement as S;
        match statement {
            S::CreateTable(_) => StatementKind::CreateTable,
            S::AlterTable(_) => StatementKind::AlterTable,
            S::CreateIndex(_) => StatementKind::CreateIndex,
            S::Drop {
                object_type: ObjectType::Index,
                ..
            } => StatementKind::DropIndex,
            S::Drop {
                object_type: ObjectType::Table,
                ..
            } => StatementKind::DropTable,
            S::CreateView(_) => StatementKind::CreateView,
            S::CreateFunction(_) | S::CreateProcedure { .. } => StatementKind::CreateFunction,
            S::CreateTrigger(_) => StatementKind::CreateTrigger,
            S::CreateExtension(_) => StatementKind::CreateExtension,
            S::CreateType { .. } | S::CreateDomain(_) => StatementKind::CreateType,
            S::CreateSchema { .. } => StatementKind::CreateSchema,
            S::CreateSequence { .. } => StatementKind::CreateSequence,
            S::Comment { .. } => StatementKind::Comment,
            S::Insert(_) => StatementKind::Insert,
            S::Update(_) => StatementKind::Update,
            S::Delete(_) => StatementKind::Delete,
            S::Truncate(_) => StatementKind::Truncate,
            S::Grant(_) | S::Revoke(_) | S::GrantRole(_) | S::RevokeRole(_) => StatementKind::Grant,
            S::Set(_) | S::Reset(_) => StatementKind::Set,
            S::StartTransaction { .. }
            | S::Commit { .. }
            | S::Rollback { .. }
            | S::Savepoint { .. }
            | S::ReleaseSavepoint { .. } => StatementKind::Transaction,
            _ => StatementKind::Other,
        }
    }
}

impl fmt::Display for StatementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One statement of a SQL file, parsed or kept as text.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// What it is; [`StatementKind::Unparsed`] when sqlparser could not parse it.
    pub kind: StatementKind,
    /// For an unparsed statement, a kind guessed from its leading keywords, e.g.
    /// `create-function`, `create-policy`, `alter-default-privileges`, `do-block`, `copy`.
    /// `None` for parsed statements, data statements and statements understood from their
    /// text.
    pub guessed_kind: Option<String>,
    /// The statement's text as written, without the terminating `;`.
    pub text: String,
    /// Where its first token is.
    pub location: Location,
    /// The parsed statement; `None` when unparsed, and for statements that only read or move
    /// rows (queries, `INSERT`, `UPDATE`, `DELETE`, `COPY`, ...), whose trees nothing reads and
    /// which a dump or data migration has by the hundred thousand (see [`super::rows`]). Boxed:
    /// sqlparser's statements are large, and statements are moved and collected by the
    /// thousand.
    pub ast: Option<Box<ast::Statement>>,
    /// For an `UPDATE` or `DELETE`, what it changes (kept instead of its syntax tree).
    pub row_change: Option<RowChange>,
    /// True for a file under the migrations directory.
    pub in_migration: bool,
    /// True when that migration runs outside a transaction: marked `-- confiture:
    /// no-transaction`, or made only of statements that cannot run in one (see
    /// [`super::transaction`]).
    pub no_transaction: bool,
    /// What the statement does to the transaction around it (in a migration, the outer
    /// `BEGIN`/`COMMIT` of a wrapped file is [`TransactionRole::Wrapper`]).
    pub transaction: TransactionRole,
    /// The `--` comment lines directly above the statement (no blank line in between), as
    /// `(line, text)` with the text trimmed and its `--` kept, e.g.
    /// `(4, "-- confiture-lint: disable=require-pk")`.
    pub comments_before: Vec<(u32, String)>,
}

impl Statement {
    /// The 1-based line of the statement's last character.
    pub fn end_line(&self) -> u32 {
        let newlines = self.text.bytes().filter(|&b| b == b'\n').count();
        self.location.line.saturating_add(to_u32(newlines))
    }
}

/// A SQL file cut into statements.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlFile {
    /// The path as shown to the user, relative to the project root.
    pub path: String,
    /// Its statements, in order.
    pub statements: Vec<Statement>,
    /// Every `--` comment of the file (outside strings, bodies and `COPY` data), as
    /// `(line, text)` with the text trimmed and its `--` kept.
    pub file_comments: Vec<(u32, String)>,
    /// Quotes, comments and bodies the file never closes, with the line where each opens.
    pub unterminated: Vec<SplitProblem>,
}

impl SqlFile {
    /// The statement whose text spans `line` (e.g. to find the statement a column's location
    /// belongs to, and so the comments above it), if any.
    pub fn statement_at(&self, line: u32) -> Option<&Statement> {
        let after = self.statements.partition_point(|s| s.location.line <= line);
        let candidate = &self.statements[after.checked_sub(1)?];
        (line <= candidate.end_line()).then_some(candidate)
    }
}

/// One SQL file's text to parse, with the path shown in locations.
#[derive(Debug, Clone, Copy)]
pub struct SourceText<'a> {
    /// The path as shown to the user, relative to the project root.
    pub shown_path: &'a str,
    /// The file's contents.
    pub text: &'a str,
    /// True for a file under the migrations directory (whose first line may opt out of the
    /// transaction).
    pub in_migration: bool,
    /// False to keep only the first of each run of consecutive data statements (`INSERT`, see
    /// [`data_statement_kind`]): they all classify alike and build no schema, and a data migration holds
    /// hundreds of thousands of them — enough for risk and the schema model, at a fraction of
    /// the memory. True (what lint needs) keeps every statement.
    pub every_data_statement: bool,
}

/// Cuts `text` into statements and parses each one alone. Never fails: a statement sqlparser
/// cannot read becomes [`StatementKind::Unparsed`] with a guessed kind, and the rest of the file
/// is still parsed. `shown_path` is the path used in locations; `in_migration` marks a file
/// under the migrations directory (whose first line may opt out of the transaction).
pub fn parse_file(shown_path: &str, text: &str, in_migration: bool) -> SqlFile {
    let source = SourceText {
        shown_path,
        text,
        in_migration,
        every_data_statement: true,
    };
    parse_files(&[source])
        .pop()
        .expect("one file in, one file out")
}

/// [`parse_file`] for many files at once: every file is split first, then the statements of
/// all files are parsed on the machine's cores (workers take statements in small runs, so one
/// large file never leaves a core idle). The result keeps the files' order.
pub fn parse_files(sources: &[SourceText<'_>]) -> Vec<SqlFile> {
    let splits: Vec<(&str, Split<'_>)> = sources
        .iter()
        .map(|source| {
            let text = source.text.strip_prefix('\u{feff}').unwrap_or(source.text);
            (text, split_with_comments(text))
        })
        .collect();
    let kept: Vec<Vec<bool>> = sources
        .iter()
        .zip(&splits)
        .map(|(source, (_, split))| kept_statements(source, split))
        .collect();
    let pieces: Vec<&str> = splits
        .iter()
        .zip(&kept)
        .flat_map(|((_, split), keep)| {
            split
                .statements
                .iter()
                .zip(keep)
                .filter(|(_, keep)| **keep)
                .map(|(piece, _)| piece.text)
        })
        .collect();
    let mut parsed = parse_in_parallel(&pieces).into_iter();
    sources
        .iter()
        .zip(&splits)
        .zip(&kept)
        .map(|((source, (text, split)), keep)| {
            let (no_transaction, roles) = transaction_roles(source, split);
            let mut comment_lines = OwnLineComments::new(&split.comments);
            let mut columns = ColumnCursor::new(text);
            let statements = split
                .statements
                .iter()
                .zip(roles)
                .zip(keep)
                .filter(|(_, keep)| **keep)
                .map(|((piece, transaction), _)| {
                    let line = to_u32(piece.line);
                    let end_line = line.saturating_add(to_u32(piece.text.matches('\n').count()));
                    let Parsed {
                        kind,
                        ast,
                        row_change,
                    } = parsed.next().expect("one parse result per statement");
                    let guessed_kind =
                        (kind == StatementKind::Unparsed).then(|| guess_kind(piece.text));
                    Statement {
                        kind,
                        guessed_kind,
                        text: piece.text.to_string(),
                        location: Location {
                            file: source.shown_path.to_string(),
                            line,
                            column: columns.column_of(piece.offset),
                        },
                        ast,
                        row_change,
                        in_migration: source.in_migration,
                        no_transaction,
                        transaction,
                        comments_before: comment_lines.directly_above(line, end_line),
                    }
                })
                .collect();
            SqlFile {
                path: source.shown_path.to_string(),
                statements,
                file_comments: split
                    .comments
                    .iter()
                    .map(|c| (to_u32(c.line), c.text.to_string()))
                    .collect(),
                unterminated: split.problems.clone(),
            }
        })
        .collect()
}

/// Whether the file runs outside a transaction (only migrations can) and each statement's
/// [`TransactionRole`]. A file the runner would refuse keeps its marker's mode.
fn transaction_roles(
    source: &SourceText<'_>,
    split: &Split<'_>,
) -> (bool, std::vec::IntoIter<TransactionRole>) {
    let marked = source.in_migration && has_no_transaction_marker(source.text);
    let plan = TransactionPlan::of(&split.statements, marked);
    let roles = match &plan {
        Ok(plan) if source.in_migration => plan.roles(&split.statements),
        _ => split.statements.iter().map(|s| classify(s.text)).collect(),
    };
    let outside = match plan {
        Ok(plan) => source.in_migration && plan.mode.is_outside(),
        Err(_) => marked,
    };
    (outside, roles.into_iter())
}

/// Which of `split`'s statements `source` keeps (see [`SourceText::every_data_statement`]).
fn kept_statements(source: &SourceText<'_>, split: &Split<'_>) -> Vec<bool> {
    let mut previous_is_data = false;
    split
        .statements
        .iter()
        .map(|piece| {
            let is_data = data_statement_kind(piece.text).is_some();
            let keep = source.every_data_statement || !(is_data && previous_is_data);
            previous_is_data = is_data;
            keep
        })
        .collect()
}

/// Statements a worker takes at a time: small enough to balance, large enough that taking
/// them costs nothing.
const PARSE_RUN: usize = 32;

/// One statement's kind and what is kept of its syntax (see [`Statement::ast`]).
struct Parsed {
    kind: StatementKind,
    ast: Option<Box<ast::Statement>>,
    row_change: Option<RowChange>,
}

/// A run of parsed statements and the index of its first one.
type ParsedRun = (usize, Vec<Parsed>);

/// SQL text worth a parser thread of its own.
const PARSE_BYTES_PER_THREAD: usize = 256 * 1024;

/// [`parse_one`] of every piece, on as many threads as the amount of SQL is worth; the result
/// is in `pieces`' order.
fn parse_in_parallel(pieces: &[&str]) -> Vec<Parsed> {
    let bytes = pieces.iter().map(|p| p.len()).sum();
    let workers = crate::parallel::threads_for(bytes, PARSE_BYTES_PER_THREAD);
    let parse_run = |run: &[&str]| -> Vec<Parsed> {
        let dialect = PostgreSqlDialect {};
        run.iter().map(|text| parse_one(&dialect, text)).collect()
    };
    if workers <= 1 {
        return parse_run(pieces);
    }
    let next = AtomicUsize::new(0);
    let runs: Vec<Vec<ParsedRun>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let start = next.fetch_add(PARSE_RUN, Ordering::Relaxed);
                        if start >= pieces.len() {
                            return done;
                        }
                        let end = (start + PARSE_RUN).min(pieces.len());
                        done.push((start, parse_run(&pieces[start..end])));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a parser thread panicked"))
            .collect()
    });
    let mut ordered: Vec<ParsedRun> = runs.into_iter().flatten().collect();
    ordered.sort_unstable_by_key(|(start, _)| *start);
    ordered.into_iter().flat_map(|(_, run)| run).collect()
}

/// The one statement in `text`: a data statement by its leading keyword (not parsed), else
/// what sqlparser reads as exactly one statement — directly, or after one of the
/// [`workaround`] rewrites for syntax it does not know — else unparsed. The tree of a
/// statement that only reads or moves rows is dropped here (see [`super::rows`]).
fn parse_one(dialect: &PostgreSqlDialect, text: &str) -> Parsed {
    if let Some(kind) = data_statement_kind(text) {
        return Parsed {
            kind,
            ast: None,
            row_change: None,
        };
    }
    let parse = |sql: &str| {
        let mut parsed = Parser::parse_sql(dialect, sql).ok()?;
        if parsed.len() == 1 {
            parsed.pop().map(Box::new)
        } else {
            None
        }
    };
    let ast = parse(text).or_else(|| {
        let mut ast = parse(&workaround::rewrite(text)?)?;
        workaround::restore_virtual(text, &mut ast);
        Some(ast)
    });
    let kind = match &ast {
        Some(ast) => StatementKind::of(ast),
        None if is_understood_as_text(text) => StatementKind::Other,
        None => StatementKind::Unparsed,
    };
    match ast {
        Some(tree) if only_moves_rows(&tree) => Parsed {
            kind,
            row_change: RowChange::of(&tree),
            ast: None,
        },
        ast => Parsed {
            kind,
            ast,
            row_change: None,
        },
    }
}

/// True for the statements sqlparser cannot read that no rule needs the syntax of, recognised
/// by their words (each `pg_dump` and Rails `structure.sql` writes them): `ALTER SEQUENCE`
/// (`OWNED BY`, options), `ALTER INDEX` (`ATTACH PARTITION`, `SET STATISTICS`),
/// `ALTER TABLE ... ATTACH PARTITION` (the model reads the partition from the text),
/// `ALTER TABLE ... SET STATISTICS`, `ALTER <object> ... OWNER TO`, `CREATE TRIGGER`.
/// They are kept without a syntax tree, of kind [`StatementKind::Other`], not reported as
/// unparsed.
fn is_understood_as_text(text: &str) -> bool {
    let words: Vec<String> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let has = |pair: [&str; 2]| words.windows(2).any(|w| w[0] == pair[0] && w[1] == pair[1]);
    match guess_kind(text).as_str() {
        "alter-sequence" | "alter-index" | "create-trigger" => true,
        "alter-table" => has(["set", "statistics"]),
        kind => kind.starts_with("alter-") && has(["owner", "to"]),
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Columns of increasing offsets in one text, each found by reading only the text since the
/// previous one: a file's statements cost one pass over it, however long its lines.
struct ColumnCursor<'a> {
    text: &'a str,
    /// The offset the column below is for.
    offset: usize,
    /// 1-based column, in characters, of the byte at `offset`.
    column: usize,
}

impl<'a> ColumnCursor<'a> {
    fn new(text: &'a str) -> Self {
        ColumnCursor {
            text,
            offset: 0,
            column: 1,
        }
    }

    /// 1-based column, in characters, of the byte at `offset` (at or after the previous one).
    fn column_of(&mut self, offset: usize) -> u32 {
        let between = &self.text[self.offset..offset];
        self.column = match between.rfind('\n') {
            Some(nl) => between[nl + 1..].chars().count() + 1,
            None => self.column + between.chars().count(),
        };
        self.offset = offset;
        to_u32(self.column)
    }
}

/// The comments alone on their line, walked in step with statements (which come in line order).
struct OwnLineComments<'c, 'a> {
    comments: &'c [LineComment<'a>],
    /// Comments before this index are above every statement still to come.
    next: usize,
    /// Last line of the previous statement: comments on it or before belong to it.
    previous_end: usize,
}

impl<'c, 'a> OwnLineComments<'c, 'a> {
    fn new(comments: &'c [LineComment<'a>]) -> Self {
        OwnLineComments {
            comments,
            next: 0,
            previous_end: 0,
        }
    }

    /// The block of own-line comments on the lines right above the statement starting on
    /// `line` and ending on `end_line`, in order.
    fn directly_above(&mut self, line: u32, end_line: u32) -> Vec<(u32, String)> {
        let line = line as usize;
        while self.next < self.comments.len() && self.comments[self.next].line < line {
            self.next += 1;
        }
        let mut found = Vec::new();
        let mut expected = line;
        for c in self.comments[..self.next].iter().rev() {
            if c.line + 1 != expected || !c.own_line || c.line <= self.previous_end {
                break;
            }
            found.push((to_u32(c.line), c.text.to_string()));
            expected = c.line;
        }
        found.reverse();
        self.previous_end = end_line as usize;
        found
    }
}

/// A best-effort kind for a statement sqlparser could not parse, from its leading keywords:
/// `create-function`, `create-trigger`, `create-policy`, `create-materialized-view`,
/// `alter-default-privileges`, `alter-table`, `drop-policy`, `do-block`, `copy`, `comment`,
/// `select`, ... and `unknown` when it does not start with a word.
pub fn guess_kind(text: &str) -> String {
    /// Words between the verb and the object that do not name the object.
    const MODIFIERS: &[&str] = &[
        "or",
        "replace",
        "unique",
        "temp",
        "temporary",
        "unlogged",
        "global",
        "local",
        "recursive",
        "trusted",
        "procedural",
        "constraint",
        "concurrently",
        "if",
        "exists",
        "not",
        "only",
    ];
    /// Objects named by two words.
    const TWO_WORDS: &[(&str, &str)] = &[
        ("materialized", "view"),
        ("default", "privileges"),
        ("event", "trigger"),
        ("foreign", "table"),
        ("foreign", "data"),
        ("text", "search"),
        ("operator", "class"),
        ("operator", "family"),
        ("user", "mapping"),
        ("access", "method"),
    ];
    let words: Vec<String> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .take(8)
        .map(str::to_ascii_lowercase)
        .collect();
    let Some(verb) = words.first() else {
        return "unknown".to_string();
    };
    match verb.as_str() {
        "do" => "do-block".to_string(),
        "create" | "alter" | "drop" => {
            let mut rest = words[1..]
                .iter()
                .map(String::as_str)
                .skip_while(|w| MODIFIERS.contains(w));
            match (rest.next(), rest.next()) {
                (Some(a), Some(b)) if TWO_WORDS.contains(&(a, b)) => format!("{verb}-{a}-{b}"),
                (Some(a), _) => format!("{verb}-{a}"),
                (None, _) => verb.clone(),
            }
        }
        _ => verb.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_get_kind_ast_and_location() {
        let sql =
            "CREATE TABLE a (id int);\n  CREATE INDEX i ON a (id);  INSERT INTO a VALUES (1);\n";
        let file = parse_file("db/schema/a.sql", sql, false);
        let got: Vec<_> = file
            .statements
            .iter()
            .map(|s| (s.kind, s.location.line, s.location.column))
            .collect();
        assert_eq!(
            got,
            vec![
                (StatementKind::CreateTable, 1, 1),
                (StatementKind::CreateIndex, 2, 3),
                (StatementKind::Insert, 2, 30),
            ]
        );
        assert!(file.statements[..2].iter().all(|s| s.ast.is_some()));
        assert!(
            file.statements[2].ast.is_none(),
            "data statements are not parsed"
        );
        assert_eq!(file.statements[1].text, "CREATE INDEX i ON a (id)");
        assert_eq!(
            file.statements[1].location.to_string(),
            "db/schema/a.sql:2:3"
        );
        assert!(!file.statements[0].in_migration);
    }

    #[test]
    fn the_statement_spanning_a_line() {
        let sql = "-- head\nCREATE TABLE a (\n  id int\n);\n\nSELECT 1; SELECT 2;\n";
        let file = parse_file("x.sql", sql, false);
        assert_eq!(file.statements[0].end_line(), 4);
        let at = |line| file.statement_at(line).map(|s| s.text.as_str());
        assert_eq!(at(1), None);
        assert_eq!(at(3), Some("CREATE TABLE a (\n  id int\n)"));
        assert_eq!(at(4), at(2));
        assert_eq!(at(5), None);
        assert_eq!(at(6), Some("SELECT 2"), "the last one starting on the line");
        assert_eq!(at(7), None);
    }

    #[test]
    fn columns_on_one_long_line_and_after_newlines() {
        let line: String = (0..2000).map(|i| format!("SELECT {i}; ")).collect();
        let file = parse_file("x.sql", &format!("{line}\n  SELECT 'é'; SELECT 1;"), false);
        let expected = line.find("SELECT 1999").unwrap() + 1;
        assert_eq!(file.statements[1999].location.column as usize, expected);
        let last: Vec<_> = file.statements[2000..]
            .iter()
            .map(|s| (s.location.line, s.location.column))
            .collect();
        assert_eq!(last, vec![(2, 3), (2, 15)]);
    }

    #[test]
    fn dump_statements_understood_from_their_text() {
        let sql = "ALTER SEQUENCE public.t_id_seq OWNED BY public.t.id;\n\
                   ALTER INDEX public.p_pkey ATTACH PARTITION public.p1_pkey;\n\
                   ALTER TABLE ONLY public.p ATTACH PARTITION public.p1 FOR VALUES IN (1);\n\
                   ALTER TABLE ONLY public.t ALTER COLUMN c SET STATISTICS 1000;\n\
                   ALTER INDEX public.i ALTER COLUMN 1 SET STATISTICS 1000;\n\
                   ALTER DOMAIN public.year OWNER TO postgres;\n\
                   CREATE TRIGGER f_t BEFORE INSERT ON f FOR EACH ROW EXECUTE FUNCTION \
                   tsvector_update_trigger('fulltext', 'pg_catalog.english', 'title');\n\
                   CREATE TABLE f (l int, h numeric GENERATED ALWAYS AS (l / 60.0) VIRTUAL);\n\
                   ALTER TABLE t OWNER;";
        let file = parse_file("x.sql", sql, false);
        let kinds: Vec<_> = file.statements.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds[2],
            StatementKind::AlterTable,
            "sqlparser reads ATTACH PARTITION"
        );
        assert!(
            kinds[..7]
                .iter()
                .enumerate()
                .all(|(i, k)| i == 2 || *k == StatementKind::Other),
            "{kinds:?}"
        );
        assert_eq!(kinds[7], StatementKind::CreateTable);
        let Some(ast::Statement::CreateTable(create)) = file.statements[7].ast.as_deref() else {
            panic!("a table");
        };
        assert!(create.columns[1].options.iter().any(|o| matches!(
            o.option,
            ast::ColumnOption::Generated {
                generation_expr_mode: Some(ast::GeneratedExpressionMode::Virtual),
                ..
            }
        )));
        assert_eq!(
            kinds[8],
            StatementKind::Unparsed,
            "not a statement PostgreSQL knows"
        );
    }

    #[test]
    fn data_statements_are_not_parsed() {
        let sql = "insert INTO t (a) VALUES (1), (2);\nINSERT INTO t SELECT * FROM u;\n\
                   INSERTX;\nUPDATE t SET a = 1;";
        let file = parse_file("x.sql", sql, false);
        let got: Vec<_> = file
            .statements
            .iter()
            .map(|s| (s.kind, s.ast.is_some(), s.guessed_kind.is_some()))
            .collect();
        assert_eq!(
            got,
            vec![
                (StatementKind::Insert, false, false),
                (StatementKind::Insert, false, false),
                (StatementKind::Unparsed, false, true),
                (StatementKind::Update, false, false),
            ]
        );
        assert!(
            file.statements[3].row_change.is_some(),
            "an UPDATE keeps its facts"
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let file = parse_file("x.sql", "SELECT 'é'; SELECT 2;", false);
        assert_eq!(file.statements[1].location.column, 13);
    }

    #[test]
    fn kinds_of_common_statements() {
        let cases = [
            ("DROP INDEX i", StatementKind::DropIndex),
            ("DROP TABLE t", StatementKind::DropTable),
            ("DROP VIEW v", StatementKind::Other),
            ("ALTER TABLE t ADD COLUMN c int", StatementKind::AlterTable),
            ("CREATE VIEW v AS SELECT 1", StatementKind::CreateView),
            (
                "CREATE MATERIALIZED VIEW v AS SELECT 1",
                StatementKind::CreateView,
            ),
            (
                "CREATE EXTENSION IF NOT EXISTS pgcrypto",
                StatementKind::CreateExtension,
            ),
            (
                "CREATE TYPE mood AS ENUM ('a', 'b')",
                StatementKind::CreateType,
            ),
            ("CREATE SCHEMA app", StatementKind::CreateSchema),
            ("CREATE SEQUENCE s", StatementKind::CreateSequence),
            ("COMMENT ON TABLE t IS 'x'", StatementKind::Comment),
            ("UPDATE t SET a = 1", StatementKind::Update),
            ("DELETE FROM t", StatementKind::Delete),
            ("TRUNCATE t", StatementKind::Truncate),
            ("GRANT SELECT ON t TO bob", StatementKind::Grant),
            ("SET lock_timeout = '5s'", StatementKind::Set),
            ("BEGIN", StatementKind::Transaction),
            ("COMMIT", StatementKind::Transaction),
            ("SELECT 1", StatementKind::Other),
        ];
        for (sql, kind) in cases {
            let file = parse_file("x.sql", sql, false);
            assert_eq!(file.statements[0].kind, kind, "{sql}");
        }
    }

    #[test]
    fn an_unparsable_statement_is_kept_and_the_rest_still_parsed() {
        let sql =
            "CREATE TABLE a (id int);\nCREATE FROBNICATOR x WITH y;\nCREATE TABLE b (id int);";
        let file = parse_file("x.sql", sql, false);
        assert_eq!(file.statements.len(), 3);
        let bad = &file.statements[1];
        assert_eq!(bad.kind, StatementKind::Unparsed);
        assert_eq!(bad.guessed_kind.as_deref(), Some("create-frobnicator"));
        assert_eq!(bad.text, "CREATE FROBNICATOR x WITH y");
        assert_eq!(bad.location.line, 2);
        assert!(bad.ast.is_none());
        assert_eq!(file.statements[2].kind, StatementKind::CreateTable);
        assert_eq!(file.statements[0].guessed_kind, None);
    }

    #[test]
    fn guessed_kinds_from_leading_keywords() {
        let cases = [
            (
                "CREATE OR REPLACE FUNCTION f() RETURNS int",
                "create-function",
            ),
            ("create constraint trigger t after insert", "create-trigger"),
            ("CREATE POLICY p ON t USING (true)", "create-policy"),
            (
                "ALTER DEFAULT PRIVILEGES IN SCHEMA s GRANT",
                "alter-default-privileges",
            ),
            ("CREATE UNIQUE INDEX CONCURRENTLY i ON t", "create-index"),
            ("CREATE MATERIALIZED VIEW m AS", "create-materialized-view"),
            ("DROP POLICY IF EXISTS p ON t", "drop-policy"),
            ("ALTER TABLE ONLY t ATTACH PARTITION", "alter-table"),
            ("DO $$ BEGIN END $$", "do-block"),
            ("COPY t (a) FROM stdin", "copy"),
            ("(((", "unknown"),
            ("create", "create"),
        ];
        for (sql, kind) in cases {
            assert_eq!(guess_kind(sql), kind, "{sql}");
        }
    }

    #[test]
    fn comments_directly_above_and_in_the_file() {
        let sql = "-- file level\n\n-- first\n  -- second\nCREATE TABLE a (id int); -- trailing\n\
                   CREATE TABLE b (id int);\n-- gap\n\nCREATE TABLE c (\n  id int\n  -- inside c\n\
                   ); CREATE TABLE d (id int);";
        let file = parse_file("x.sql", sql, false);
        let above: Vec<_> = file
            .statements
            .iter()
            .map(|s| s.comments_before.clone())
            .collect();
        assert_eq!(
            above,
            vec![
                vec![(3, "-- first".to_string()), (4, "-- second".to_string())],
                vec![],
                vec![],
                vec![],
            ]
        );
        let lines: Vec<u32> = file.file_comments.iter().map(|c| c.0).collect();
        assert_eq!(lines, vec![1, 3, 4, 5, 7, 11]);
        assert_eq!(file.file_comments[3].1, "-- trailing");
    }

    #[test]
    fn migrations_carry_their_transaction_mode() {
        let marked = "-- confiture: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);";
        let file = parse_file("db/migrations/1_i.up.sql", marked, true);
        let s = &file.statements[0];
        assert!(s.in_migration && s.no_transaction);
        assert_eq!(s.comments_before.len(), 1);
        let plain = parse_file("db/migrations/2_j.up.sql", "SELECT 1;", true);
        assert!(plain.statements[0].in_migration && !plain.statements[0].no_transaction);
        // The marker means nothing outside the migrations directory.
        assert!(!parse_file("db/schema/x.sql", marked, false).statements[0].no_transaction);
    }

    #[test]
    fn a_byte_order_mark_is_not_a_column() {
        let file = parse_file("x.sql", "\u{feff}CREATE TABLE a (id int);", false);
        assert_eq!(file.statements[0].kind, StatementKind::CreateTable);
        assert_eq!(file.statements[0].location.column, 1);
    }

    #[test]
    fn runs_of_data_statements_can_be_cut_to_their_first() {
        let sql = "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\nINSERT INTO t VALUES (2);\n\
                   COPY t FROM stdin;\n3\n\\.\nCREATE INDEX i ON t (id);\nINSERT INTO t VALUES (4);\n";
        let source = |every_data_statement| SourceText {
            shown_path: "db/migrations/1_data.up.sql",
            text: sql,
            in_migration: true,
            every_data_statement,
        };
        let lines = |every| -> Vec<u32> {
            parse_files(&[source(every)])
                .remove(0)
                .statements
                .iter()
                .map(|s| s.location.line)
                .collect()
        };
        assert_eq!(lines(true), vec![1, 2, 3, 4, 7, 8]);
        assert_eq!(lines(false), vec![1, 2, 4, 7, 8]);
    }

    #[test]
    fn pg_dump_preamble_and_copy_blocks() {
        let sql = "\\restrict k\nSET statement_timeout = 0;\n\
                   SELECT pg_catalog.set_config('search_path', '', false);\n\
                   COPY public.a (id) FROM stdin;\n1\n2\n\\.\n\nCREATE TABLE b (id int);\n";
        let file = parse_file("dump.sql", sql, false);
        let got: Vec<_> = file
            .statements
            .iter()
            .map(|s| (s.kind, s.location.line))
            .collect();
        assert_eq!(
            got,
            vec![
                (StatementKind::Set, 2),
                (StatementKind::Other, 3),
                (StatementKind::Other, 4),
                (StatementKind::CreateTable, 9),
            ]
        );
    }
}
