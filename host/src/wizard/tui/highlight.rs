//! SQL syntax highlighting for the review screen: sqlparser's PostgreSQL tokenizer splits the
//! file into tokens, each token's source text keeps its exact spelling (comments and whitespace
//! included) and gets a style by kind. A file the tokenizer rejects is shown plain.

use anstyle::{AnsiColor, Color, Style};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Location, Token, Tokenizer, Whitespace};

use crate::output::style;

/// Keywords (`CREATE`, `TABLE`, ...).
pub const KEYWORD: Style = Style::new()
    .fg_color(Some(Color::Ansi(AnsiColor::Blue)))
    .bold();
/// String literals, dollar-quoted bodies included.
pub const STRING: Style = Style::new().fg_color(Some(Color::Ansi(AnsiColor::Green)));
/// Numbers.
pub const NUMBER: Style = Style::new().fg_color(Some(Color::Ansi(AnsiColor::Cyan)));
/// Comments.
pub const COMMENT: Style = style::DIM;

/// Columns between tab stops when tabs are expanded for display.
const TAB_WIDTH: usize = 4;

/// A run of text in one style, within one line.
pub type Segment = (Style, String);

/// The SQL's lines (as [`str::lines`] counts them), each as styled segments with tabs expanded
/// to spaces and carriage returns dropped.
pub fn highlight(sql: &str) -> Vec<Vec<Segment>> {
    let runs = styled_runs(sql).unwrap_or_else(|| vec![(Style::new(), 0)]);
    let mut lines = vec![Vec::new()];
    let mut column = 0;
    for (index, &(style, start)) in runs.iter().enumerate() {
        let end = runs.get(index + 1).map_or(sql.len(), |&(_, next)| next);
        let mut text = String::new();
        for c in sql[start..end].chars() {
            match c {
                '\n' => {
                    push_segment(&mut lines, style, &mut text);
                    lines.push(Vec::new());
                    column = 0;
                }
                '\r' => {}
                '\t' => {
                    let spaces = TAB_WIDTH - column % TAB_WIDTH;
                    text.extend(std::iter::repeat_n(' ', spaces));
                    column += spaces;
                }
                c => {
                    text.push(c);
                    column += 1;
                }
            }
        }
        push_segment(&mut lines, style, &mut text);
    }
    // `str::lines` counts no empty line after a final newline (and none at all for "").
    if lines.last().is_some_and(Vec::is_empty) {
        lines.pop();
    }
    lines
}

fn push_segment(lines: &mut [Vec<Segment>], style: Style, text: &mut String) {
    if !text.is_empty()
        && let Some(line) = lines.last_mut()
    {
        line.push((style, std::mem::take(text)));
    }
}

/// `(style, byte offset where it starts)` for each token, in source order; `None` when the
/// tokenizer fails or its locations do not map onto the text.
fn styled_runs(sql: &str) -> Option<Vec<(Style, usize)>> {
    let dialect = PostgreSqlDialect {};
    let mut tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .ok()?;
    // A `COPY ... FROM stdin` payload is listed before the `;` that precedes it in the text.
    tokens.sort_by_key(|t| (t.span.start.line, t.span.start.column));
    let mut locator = Locator::new(sql);
    let mut runs = vec![(Style::new(), 0)];
    for token in &tokens {
        let start = locator.offset(token.span.start)?;
        runs.push((token_style(&token.token), start));
    }
    Some(runs)
}

/// The style a token is shown in.
fn token_style(token: &Token) -> Style {
    match token {
        Token::Word(word) if word.quote_style.is_none() && word.keyword != Keyword::NoKeyword => {
            KEYWORD
        }
        Token::Number(..) => NUMBER,
        Token::SingleQuotedString(_)
        | Token::DoubleQuotedString(_)
        | Token::TripleSingleQuotedString(_)
        | Token::TripleDoubleQuotedString(_)
        | Token::DollarQuotedString(_)
        | Token::SingleQuotedByteStringLiteral(_)
        | Token::DoubleQuotedByteStringLiteral(_)
        | Token::TripleSingleQuotedByteStringLiteral(_)
        | Token::TripleDoubleQuotedByteStringLiteral(_)
        | Token::SingleQuotedRawStringLiteral(_)
        | Token::DoubleQuotedRawStringLiteral(_)
        | Token::TripleSingleQuotedRawStringLiteral(_)
        | Token::TripleDoubleQuotedRawStringLiteral(_)
        | Token::NationalStringLiteral(_)
        | Token::QuoteDelimitedStringLiteral(_)
        | Token::NationalQuoteDelimitedStringLiteral(_)
        | Token::EscapedStringLiteral(_)
        | Token::UnicodeStringLiteral(_)
        | Token::HexStringLiteral(_) => STRING,
        Token::Whitespace(
            Whitespace::SingleLineComment { .. } | Whitespace::MultiLineComment(_),
        ) => COMMENT,
        _ => Style::new(),
    }
}

/// Turns the tokenizer's 1-based (line, column in characters) locations into byte offsets,
/// walking the text forwards only.
struct Locator<'a> {
    text: &'a str,
    offset: usize,
    at: (u64, u64),
}

impl<'a> Locator<'a> {
    fn new(text: &'a str) -> Self {
        Locator {
            text,
            offset: 0,
            at: (1, 1),
        }
    }

    /// The byte offset of `location`; `None` when it lies before the previous one or past the
    /// end of the text.
    fn offset(&mut self, location: Location) -> Option<usize> {
        let target = (location.line, location.column);
        if target < self.at {
            return None;
        }
        while self.at < target {
            let c = self.text[self.offset..].chars().next()?;
            self.offset += c.len_utf8();
            self.at = if c == '\n' {
                (self.at.0 + 1, 1)
            } else {
                (self.at.0, self.at.1 + 1)
            };
        }
        Some(self.offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(line: &[Segment]) -> String {
        line.iter().map(|(_, t)| t.as_str()).collect()
    }

    fn style_of(line: &[Segment], text: &str) -> Option<Style> {
        line.iter().find(|(_, t)| t == text).map(|(s, _)| *s)
    }

    #[test]
    fn keywords_strings_numbers_and_comments_get_styles() {
        let sql = "SELECT 'x', 42 FROM t; -- note\n/* a\n b */ select \"Quoted\";\n";
        let lines = highlight(sql);
        assert_eq!(lines.len(), 3);
        assert_eq!(style_of(&lines[0], "SELECT"), Some(KEYWORD));
        assert_eq!(style_of(&lines[0], "FROM"), Some(KEYWORD));
        assert_eq!(style_of(&lines[0], "'x'"), Some(STRING));
        assert_eq!(style_of(&lines[0], "42"), Some(NUMBER));
        assert_eq!(style_of(&lines[0], "t"), Some(Style::new()));
        assert_eq!(style_of(&lines[0], "-- note"), Some(COMMENT));
        // A comment across lines is styled on each of its lines.
        assert_eq!(style_of(&lines[1], "/* a"), Some(COMMENT));
        assert_eq!(style_of(&lines[2], " b */"), Some(COMMENT));
        assert_eq!(style_of(&lines[2], "select"), Some(KEYWORD));
        assert_eq!(style_of(&lines[2], "\"Quoted\""), Some(Style::new()));
    }

    #[test]
    fn text_is_kept_verbatim_line_by_line() {
        let sql = "CREATE  TABLE é (\n  id int -- ü\n);\r\n\n$$ body\n $$;";
        let lines = highlight(sql);
        let texts: Vec<String> = lines.iter().map(|l| text_of(l)).collect();
        let expected: Vec<&str> = sql.lines().collect();
        assert_eq!(texts, expected);
    }

    #[test]
    fn dollar_quoted_bodies_are_strings() {
        let lines = highlight("DO $$ BEGIN PERFORM 1; END $$;");
        assert_eq!(
            style_of(&lines[0], "$$ BEGIN PERFORM 1; END $$"),
            Some(STRING)
        );
    }

    #[test]
    fn untokenizable_text_is_plain_with_tabs_expanded() {
        let lines = highlight("SELECT 'unterminated\nabc\tx\t\ty");
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().flatten().all(|(s, _)| *s == Style::new()));
        assert_eq!(text_of(&lines[0]), "SELECT 'unterminated");
        assert_eq!(text_of(&lines[1]), "abc x       y");
    }
}
