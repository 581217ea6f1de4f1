//! Splits SQL text into statements, aware of quotes, dollar quotes and comments.

/// One statement of a SQL text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlStatement<'a> {
    /// The statement's text, without the terminating `;`, trimmed.
    pub text: &'a str,
    /// 1-based line in the source where the statement's first token is.
    pub line: usize,
    /// Byte offset of `text` in the source.
    pub offset: usize,
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

/// A SQL text cut into statements, with its `--` comments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split<'a> {
    /// The statements, in order.
    pub statements: Vec<SqlStatement<'a>>,
    /// Every `--` comment, in order.
    pub comments: Vec<LineComment<'a>>,
}

/// Splits `sql` on top-level semicolons; statements that are only comments are dropped.
///
/// Understands single-quoted strings (with `''`), `E''` strings (with backslash escapes),
/// double-quoted identifiers, dollar quotes (`$$` and `$tag$`), `--` comments and nested
/// `/* */` comments. A statement's text, line and offset start at its first token that is not
/// whitespace or a comment; comments inside it are kept.
///
/// Reads `pg_dump` output too: the data lines after a `COPY ... FROM stdin;` up to the `\.`
/// line are not statements, and a psql meta-command (a line starting with `\` where a statement
/// would start, like `\restrict` or `\connect`) is skipped.
pub fn split_statements(sql: &str) -> Vec<SqlStatement<'_>> {
    split_with_comments(sql).statements
}

/// [`split_statements`], also returning every `--` comment with its line.
pub fn split_with_comments(sql: &str) -> Split<'_> {
    let bytes = sql.as_bytes();
    let mut out = Split::default();
    let mut lines = LineCounter::default();
    // Offset and line of the current statement's first token.
    let mut first_token: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let token_start = i;
        i = match b {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                let end = line_end(bytes, i);
                out.comments.push(LineComment {
                    text: sql[i..end].trim_end(),
                    line: lines.line_of(bytes, i),
                    own_line: bytes[line_start(bytes, i)..i]
                        .iter()
                        .all(u8::is_ascii_whitespace),
                });
                end
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => skip_block_comment(bytes, i),
            b';' => {
                let pushed = push(sql, i, first_token, &mut out.statements);
                first_token = None;
                if pushed.is_some_and(is_copy_from_stdin) {
                    skip_copy_data(bytes, i + 1)
                } else {
                    i + 1
                }
            }
            b'\\' if first_token.is_none() => line_end(bytes, i),
            _ if b.is_ascii_whitespace() => i + 1,
            _ => {
                if first_token.is_none() {
                    first_token = Some((token_start, lines.line_of(bytes, token_start)));
                }
                match b {
                    b'\'' => {
                        let escapes = i > 0
                            && matches!(bytes[i - 1], b'e' | b'E')
                            && (i < 2 || !is_ident_byte(bytes[i - 2]));
                        skip_single_quoted(bytes, i, escapes)
                    }
                    b'"' => skip_until_quote(bytes, i, b'"'),
                    b'$' => skip_dollar(bytes, i),
                    _ if is_ident_byte(b) => {
                        let mut j = i;
                        while j < bytes.len() && is_ident_byte(bytes[j]) {
                            j += 1;
                        }
                        j
                    }
                    _ => i + 1,
                }
            }
        };
    }
    push(sql, bytes.len(), first_token, &mut out.statements);
    out
}

/// Pushes the statement from `first_token` to `end`, if there is one; returns its text.
fn push<'a>(
    sql: &'a str,
    end: usize,
    first_token: Option<(usize, usize)>,
    out: &mut Vec<SqlStatement<'a>>,
) -> Option<&'a str> {
    let (first, line) = first_token?;
    let text = sql[first..end].trim_end();
    out.push(SqlStatement {
        text,
        line,
        offset: first,
    });
    Some(text)
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
            self.newlines += bytes[self.counted_to..offset]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.counted_to = offset;
        }
        self.newlines + 1
    }
}

/// True for `COPY ... FROM STDIN` (the statement is followed by inline data).
fn is_copy_from_stdin(text: &str) -> bool {
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

/// Index after the inline data of a `COPY ... FROM STDIN` whose `;` ends before `i`: the rest
/// of the `;` line, then every line up to and including the `\.` line (or the end of the text).
fn skip_copy_data(bytes: &[u8], i: usize) -> usize {
    let mut line = line_end(bytes, i);
    while line < bytes.len() {
        let end = line_end(bytes, line);
        let content = bytes[line..end].trim_ascii_end();
        if content == b"\\." {
            return end;
        }
        line = end;
    }
    bytes.len()
}

/// Index after the end of the line holding `i` (after its `\n`, or the end of the text).
fn line_end(bytes: &[u8], i: usize) -> usize {
    bytes[i..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |nl| i + nl + 1)
}

/// Index of the first byte of the line holding `i`.
fn line_start(bytes: &[u8], i: usize) -> usize {
    bytes[..i]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |nl| nl + 1)
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Index after the `*/` closing the (possibly nested) comment opened at `i`.
fn skip_block_comment(bytes: &[u8], mut i: usize) -> usize {
    let mut depth = 0;
    while i < bytes.len() {
        if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// Index after the `'` closing the string opened at `i`.
fn skip_single_quoted(bytes: &[u8], mut i: usize, backslash_escapes: bool) -> usize {
    i += 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if backslash_escapes => i += 2,
            b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b'\'' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Index after the `quote` closing the quoted text opened at `i` (doubled quotes escape).
fn skip_until_quote(bytes: &[u8], mut i: usize, quote: u8) -> usize {
    i += 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// Index after a dollar-quoted string opened at `i`, or after a lone `$` / `$1` parameter.
fn skip_dollar(bytes: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    // A tag is an identifier that does not start with a digit.
    if j < bytes.len() && bytes[j].is_ascii_digit() {
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        return j;
    }
    while j < bytes.len() && is_ident_byte(bytes[j]) && bytes[j] != b'$' {
        j += 1;
    }
    if bytes.get(j) != Some(&b'$') {
        return i + 1;
    }
    let tag = &bytes[i..=j];
    let body = j + 1;
    match bytes[body..].windows(tag.len()).position(|w| w == tag) {
        Some(p) => body + p + tag.len(),
        None => bytes.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split_statements(sql).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn splits_on_top_level_semicolons_with_lines_and_offsets() {
        let sql = "CREATE TABLE a (id int);\n\nINSERT INTO a VALUES (1);\n  SELECT 1";
        let stmts = split_statements(sql);
        assert_eq!(stmts.len(), 3);
        assert_eq!(stmts[0].text, "CREATE TABLE a (id int)");
        assert_eq!((stmts[0].line, stmts[0].offset), (1, 0));
        assert_eq!(stmts[1].text, "INSERT INTO a VALUES (1)");
        assert_eq!(stmts[1].line, 3);
        assert_eq!(stmts[2].text, "SELECT 1");
        assert_eq!(stmts[2].line, 4);
        assert_eq!(&sql[stmts[2].offset..], "SELECT 1");
    }

    #[test]
    fn single_quotes_with_doubled_quotes() {
        assert_eq!(
            texts("SELECT 'a;b''c;'; SELECT 2"),
            vec!["SELECT 'a;b''c;'", "SELECT 2"]
        );
    }

    #[test]
    fn escape_strings_with_backslashes() {
        assert_eq!(
            texts(r"SELECT E'it\'s; fine'; SELECT e'\\'; SELECT 3"),
            vec![r"SELECT E'it\'s; fine'", r"SELECT e'\\'", "SELECT 3"]
        );
        // A plain string ending in a backslash is not an escape.
        assert_eq!(
            texts(r"SELECT 'C:\'; SELECT 4"),
            vec![r"SELECT 'C:\'", "SELECT 4"]
        );
        // An identifier ending in e before a quote is not an E string.
        assert_eq!(
            texts(r"SELECT name'x\'; SELECT 5"),
            vec![r"SELECT name'x\'", "SELECT 5"]
        );
    }

    #[test]
    fn double_quoted_identifiers() {
        assert_eq!(
            texts(r#"CREATE TABLE "a;""b" (x int); SELECT 1"#),
            vec![r#"CREATE TABLE "a;""b" (x int)"#, "SELECT 1"]
        );
    }

    #[test]
    fn dollar_quotes_plain_and_tagged() {
        let sql = "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n\
                   DO $body$ BEGIN PERFORM 1; RAISE NOTICE '$$;'; END $body$;\n\
                   SELECT $1, a$b FROM t";
        let stmts = texts(sql);
        assert_eq!(stmts.len(), 3, "{stmts:?}");
        assert!(stmts[0].ends_with("LANGUAGE sql"));
        assert!(stmts[1].starts_with("DO $body$") && stmts[1].ends_with("END $body$"));
        assert_eq!(stmts[2], "SELECT $1, a$b FROM t");
    }

    #[test]
    fn comments_line_and_nested_block() {
        let sql = "-- intro; not a statement\n\
                   /* outer /* inner; */ still; comment */\n\
                   SELECT 1; -- trailing; comment\n\
                   SELECT /* ; */ 2;";
        let stmts = split_statements(sql);
        assert_eq!(stmts.len(), 2, "{stmts:?}");
        assert_eq!(stmts[0].text, "SELECT 1");
        assert_eq!(stmts[0].line, 3);
        assert_eq!(stmts[1].text, "SELECT /* ; */ 2");
        assert_eq!(stmts[1].line, 4, "a statement starts at its first token");
    }

    #[test]
    fn comment_only_statements_are_dropped() {
        assert!(texts("-- nothing here;\n/* nor; here */ ;\n;  ;\n").is_empty());
        assert!(texts("").is_empty());
        assert_eq!(texts("SELECT 1;\n-- the end\n"), vec!["SELECT 1"]);
    }

    #[test]
    fn unterminated_constructs_run_to_the_end() {
        assert_eq!(
            texts("SELECT 'oops; SELECT 2"),
            vec!["SELECT 'oops; SELECT 2"]
        );
        assert_eq!(texts("SELECT $$ a; b"), vec!["SELECT $$ a; b"]);
        assert_eq!(texts("SELECT 1 /* a; b"), vec!["SELECT 1 /* a; b"]);
    }

    #[test]
    fn multibyte_text_keeps_offsets_on_char_boundaries() {
        let sql = "SELECT 'é;ü'; SELECT 'ß'";
        let stmts = split_statements(sql);
        assert_eq!(stmts[1].text, "SELECT 'ß'");
        assert_eq!(&sql[stmts[1].offset..], "SELECT 'ß'");
    }

    #[test]
    fn copy_from_stdin_data_is_not_split() {
        let sql = "COPY public.t (id, note) FROM stdin;\n\
                   1\tsemi; colon\n\
                   2\t-- not a comment; 'nor a quote\n\
                   \\.\n\
                   SELECT pg_catalog.setval('t_id_seq', 2, true);\n\
                   copy t FROM STDIN WITH (FORMAT csv);\n\
                   3,\"x;y\"\n\
                   \\.\r\n\
                   ALTER TABLE t OWNER TO me;";
        let split = split_with_comments(sql);
        let stmts: Vec<_> = split.statements.iter().map(|s| (s.line, s.text)).collect();
        assert_eq!(
            stmts,
            vec![
                (1, "COPY public.t (id, note) FROM stdin"),
                (5, "SELECT pg_catalog.setval('t_id_seq', 2, true)"),
                (6, "copy t FROM STDIN WITH (FORMAT csv)"),
                (9, "ALTER TABLE t OWNER TO me"),
            ]
        );
        assert!(split.comments.is_empty(), "{:?}", split.comments);
    }

    #[test]
    fn copy_to_stdout_and_from_a_file_have_no_data() {
        assert_eq!(
            texts("COPY t TO STDOUT; COPY t FROM '/tmp/stdin'; SELECT 1"),
            vec!["COPY t TO STDOUT", "COPY t FROM '/tmp/stdin'", "SELECT 1"]
        );
    }

    #[test]
    fn unterminated_copy_data_runs_to_the_end() {
        assert_eq!(
            texts("COPY t FROM stdin;\n1\n2;\nSELECT 3;"),
            vec!["COPY t FROM stdin"]
        );
    }

    #[test]
    fn psql_meta_commands_between_statements_are_skipped() {
        let sql = "\\restrict abc123\n\nSET x = 1;\n\\connect other\nSELECT '\\n';\n\\unrestrict abc123\n";
        let stmts: Vec<_> = split_statements(sql)
            .into_iter()
            .map(|s| (s.line, s.text))
            .collect();
        assert_eq!(stmts, vec![(3, "SET x = 1"), (5, "SELECT '\\n'")]);
    }

    #[test]
    fn a_comment_inside_a_statement_does_not_move_its_line() {
        let sql = "SELECT 1;\nCREATE TABLE t (\n  -- note\n  id int -- why\n);\nSELECT 2;";
        let split = split_with_comments(sql);
        let lines: Vec<_> = split.statements.iter().map(|s| s.line).collect();
        assert_eq!(lines, vec![1, 2, 6]);
        let comments: Vec<_> = split
            .comments
            .iter()
            .map(|c| (c.line, c.own_line))
            .collect();
        assert_eq!(comments, vec![(3, true), (4, false)]);
    }

    #[test]
    fn comments_are_returned_with_lines_and_placement() {
        let sql =
            "-- head\nSELECT 1; -- tail\n  -- indented\nSELECT '--no', $$ -- no $$ /* -- no */;\n";
        let comments: Vec<_> = split_with_comments(sql)
            .comments
            .into_iter()
            .map(|c| (c.line, c.text, c.own_line))
            .collect();
        assert_eq!(
            comments,
            vec![
                (1, "-- head", true),
                (2, "-- tail", false),
                (3, "-- indented", true)
            ]
        );
    }

    #[test]
    fn lines_stay_right_over_many_statements() {
        let sql: String = (0..5000).map(|n| format!("SELECT {n};\n\n")).collect();
        let stmts = split_statements(&sql);
        assert_eq!(stmts.len(), 5000);
        assert_eq!((stmts[4999].line, stmts[4999].text), (9999, "SELECT 4999"));
    }
}
