//! Rewrites for PostgreSQL syntax that sqlparser 0.64 rejects but that migrations and `pg_dump`
//! write every day. Each rewrite blanks words out with spaces (newlines kept), so the rewritten
//! text has the same length and every span sqlparser reports still points into the original.
//!
//! - `DROP INDEX CONCURRENTLY ...`: `CONCURRENTLY` blanked (the parsed statement then does not
//!   say it; the statement's text does).
//! - `CREATE INDEX ... ON ONLY table ...` (`pg_dump`'s index on a partitioned table): `ONLY`.
//! - `ALTER TABLE ... ADD GENERATED ... AS IDENTITY (SEQUENCE NAME s ...)` (`pg_dump`'s identity
//!   columns): `SEQUENCE NAME s`.
//! - `CREATE MATERIALIZED VIEW ... WITH [NO] DATA`: the trailing clause.
//! - `GENERATED ALWAYS AS (expr) VIRTUAL` (PostgreSQL 18) in `CREATE TABLE`/`ALTER TABLE`:
//!   `VIRTUAL` written as `STORED ` (same length); [`restore_virtual`] marks the parsed columns
//!   virtual again.

use sqlparser::ast;

/// A word of the statement: byte range and lower-cased text.
struct Word {
    start: usize,
    end: usize,
    lower: String,
}

/// The statement rewritten so sqlparser can read it, when one of the known gaps applies.
pub fn rewrite(text: &str) -> Option<String> {
    let words = words(text);
    let is = |i: usize, w: &str| words.get(i).is_some_and(|word| word.lower == w);
    let mut blank: Vec<(usize, usize)> = Vec::new();

    if is(0, "drop") && is(1, "index") && is(2, "concurrently") {
        blank.push((words[2].start, words[2].end));
    }
    if is(0, "create")
        && words.iter().take(4).any(|w| w.lower == "index")
        && let Some(on) = (0..words.len().min(12)).find(|&i| is(i, "on") && is(i + 1, "only"))
    {
        blank.push((words[on + 1].start, words[on + 1].end));
    }
    if is(0, "alter") && is(1, "table") {
        let identity = words.iter().position(|w| w.lower == "identity");
        let sequence = identity
            .and_then(|at| (at..words.len()).find(|&i| is(i, "sequence") && is(i + 1, "name")));
        if let Some(i) = sequence {
            let name_start = words[i + 1].end;
            let rest = &text[name_start..];
            let skipped = rest.len() - rest.trim_start().len();
            let name_len = rest
                .trim_start()
                .find(|c: char| c.is_whitespace() || c == ')')
                .unwrap_or(rest.trim_start().len());
            blank.push((words[i].start, name_start + skipped + name_len));
        }
    }
    if is(0, "create") && is(1, "materialized") && is(2, "view") {
        let n = words.len();
        if n > 5 && is(n - 2, "with") && is(n - 1, "data") {
            blank.push((words[n - 2].start, words[n - 1].end));
        } else if n > 6 && is(n - 3, "with") && is(n - 2, "no") && is(n - 1, "data") {
            blank.push((words[n - 3].start, words[n - 1].end));
        }
    }

    let virtual_at: Vec<usize> = if is(0, "create") || is(0, "alter") {
        virtual_words(text, &words).map(|w| w.start).collect()
    } else {
        Vec::new()
    };

    if blank.is_empty() && virtual_at.is_empty() {
        return None;
    }
    let mut out = text.as_bytes().to_vec();
    for (start, end) in blank {
        for b in &mut out[start..end] {
            if *b != b'\n' && *b != b'\r' {
                *b = b' ';
            }
        }
    }
    for start in virtual_at {
        out[start..start + STORED.len()].copy_from_slice(STORED);
    }
    // Ranges start and end on character boundaries, and every byte inside becomes a space.
    String::from_utf8(out).ok()
}

/// What `VIRTUAL` is written as for sqlparser: as long as `VIRTUAL`.
const STORED: &[u8] = b"STORED ";

/// The words right after a `)` that are `word`: the mode of a generated column's expression.
fn modes<'w>(text: &str, words: &'w [Word], word: &'static str) -> impl Iterator<Item = &'w Word> {
    let bytes = text.as_bytes();
    words.iter().filter(move |w| {
        w.lower == word
            && bytes[..w.start]
                .iter()
                .rev()
                .find(|b| !b.is_ascii_whitespace())
                == Some(&b')')
    })
}

/// The `VIRTUAL` words that end a generated column's expression.
fn virtual_words<'w>(text: &str, words: &'w [Word]) -> impl Iterator<Item = &'w Word> {
    modes(text, words, "virtual")
}

/// After a statement whose `VIRTUAL` generated columns were written as `STORED` was parsed:
/// marks each generated column virtual again when `text` wrote it so (the n-th generated
/// expression's mode is the n-th `STORED`/`VIRTUAL` after a `)`).
pub fn restore_virtual(text: &str, statement: &mut ast::Statement) {
    let words = words(text);
    let mut written: Vec<(usize, bool)> = modes(text, &words, "virtual")
        .map(|w| (w.start, true))
        .chain(modes(text, &words, "stored").map(|w| (w.start, false)))
        .collect();
    if !written.iter().any(|(_, is_virtual)| *is_virtual) {
        return;
    }
    written.sort_unstable();
    let mut written = written.into_iter().map(|(_, is_virtual)| is_virtual);
    let columns: Vec<&mut ast::ColumnDef> = match statement {
        ast::Statement::CreateTable(create) => create.columns.iter_mut().collect(),
        ast::Statement::AlterTable(alter) => alter
            .operations
            .iter_mut()
            .filter_map(|op| match op {
                ast::AlterTableOperation::AddColumn { column_def, .. } => Some(column_def),
                _ => None,
            })
            .collect(),
        _ => return,
    };
    for column in columns {
        for option in &mut column.options {
            if let ast::ColumnOption::Generated {
                generation_expr: Some(_),
                generation_expr_mode: mode @ Some(_),
                ..
            } = &mut option.option
                && written.next() == Some(true)
            {
                *mode = Some(ast::GeneratedExpressionMode::Virtual);
            }
        }
    }
}

/// The words of `text` outside string literals and quoted identifiers (which count as one word
/// each, with their quotes).
fn words(text: &str) -> Vec<Word> {
    let bytes = text.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\'' || b == b'"' {
            let start = i;
            i += 1;
            while i < bytes.len() && bytes[i] != b {
                i += 1;
            }
            i = (i + 1).min(bytes.len());
            if b == b'"' {
                words.push(Word {
                    start,
                    end: i,
                    lower: text[start..i].to_string(),
                });
            }
        } else if b.is_ascii_alphanumeric() || b == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            words.push(Word {
                start,
                end: i,
                lower: text[start..i].to_ascii_lowercase(),
            });
        } else {
            i += 1;
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_index_concurrently() {
        let text = "DROP INDEX CONCURRENTLY IF EXISTS app.i";
        let out = rewrite(text).unwrap();
        assert_eq!(out, "DROP INDEX              IF EXISTS app.i");
        assert_eq!(out.len(), text.len());
    }

    #[test]
    fn create_index_on_only() {
        assert_eq!(
            rewrite("CREATE INDEX e_p ON ONLY shop.events USING gin (payload)").unwrap(),
            "CREATE INDEX e_p ON      shop.events USING gin (payload)"
        );
        assert_eq!(rewrite("CREATE INDEX only_idx ON t (only_col)"), None);
    }

    #[test]
    fn identity_sequence_name() {
        let text = "ALTER TABLE s.t ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (\n    \
                    SEQUENCE NAME s.t_id_seq\n    START WITH 1\n)";
        let out = rewrite(text).unwrap();
        assert!(
            out.contains("IDENTITY (\n    ")
                && !out.contains("SEQUENCE")
                && !out.contains("t_id_seq")
        );
        assert!(out.ends_with("\n    START WITH 1\n)"));
        assert_eq!(out.len(), text.len());
    }

    #[test]
    fn materialized_view_with_data_clause() {
        let out = rewrite("CREATE MATERIALIZED VIEW m AS\n SELECT 1 AS x\n  WITH NO DATA").unwrap();
        assert_eq!(
            out.trim_end(),
            "CREATE MATERIALIZED VIEW m AS\n SELECT 1 AS x"
        );
        let out =
            rewrite("CREATE MATERIALIZED VIEW m AS SELECT 'with data' AS x WITH DATA").unwrap();
        assert_eq!(
            out.trim_end(),
            "CREATE MATERIALIZED VIEW m AS SELECT 'with data' AS x"
        );
    }

    #[test]
    fn virtual_generated_columns() {
        let text =
            "CREATE TABLE f (l int, h numeric GENERATED ALWAYS AS (l / 60) VIRTUAL, virtual int)";
        let out = rewrite(text).unwrap();
        assert!(out.contains("(l / 60) STORED ,"), "{out}");
        assert!(
            out.contains(", virtual int"),
            "a column named virtual stays"
        );
        assert_eq!(out.len(), text.len());
    }

    #[test]
    fn other_statements_are_left_alone() {
        for text in [
            "DROP INDEX i",
            "CREATE TABLE only (x int)",
            "SELECT 'drop index concurrently'",
            "CREATE MATERIALIZED VIEW m AS SELECT 1",
        ] {
            assert_eq!(rewrite(text), None, "{text}");
        }
    }
}
