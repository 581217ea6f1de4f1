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

/// Splits `sql` on top-level semicolons; statements that are only comments are dropped.
///
/// Understands single-quoted strings (with `''`), `E''` strings (with backslash escapes),
/// double-quoted identifiers, dollar quotes (`$$` and `$tag$`), `--` comments and nested
/// `/* */` comments. A statement's text, line and offset start at its first token that is not
/// whitespace or a comment; comments inside it are kept.
pub fn split_statements(sql: &str) -> Vec<SqlStatement<'_>> {
    let bytes = sql.as_bytes();
    let mut statements = Vec::new();
    let mut first_token: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let token_start = i;
        i = match b {
            b'-' if bytes.get(i + 1) == Some(&b'-') => bytes[i..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |nl| i + nl + 1),
            b'/' if bytes.get(i + 1) == Some(&b'*') => skip_block_comment(bytes, i),
            b';' => {
                push(sql, i, first_token, &mut statements);
                first_token = None;
                i + 1
            }
            _ if b.is_ascii_whitespace() => i + 1,
            _ => {
                first_token.get_or_insert(token_start);
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
    push(sql, bytes.len(), first_token, &mut statements);
    statements
}

fn push<'a>(sql: &'a str, end: usize, first_token: Option<usize>, out: &mut Vec<SqlStatement<'a>>) {
    let Some(first) = first_token else { return };
    let text = sql[first..end].trim_end();
    out.push(SqlStatement {
        text,
        line: 1 + sql[..first].bytes().filter(|&b| b == b'\n').count(),
        offset: first,
    });
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
}
