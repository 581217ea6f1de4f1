//! Small readers of parsed statements shared by the migration lint rules and the risk
//! classification: keywords in a statement's text, a column definition's options, volatile
//! function calls.

use sqlparser::ast::{ColumnDef, ColumnOption, Expr};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::{Statement, StatementKind, names};

/// True when `word` appears in the statement as a keyword (outside quotes, case-insensitive).
pub fn has_keyword(text: &str, word: &str) -> bool {
    let mut in_quote = None;
    let mut current = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        match in_quote {
            Some(q) if c == q => in_quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => {
                in_quote = Some(c);
                current.clear();
            }
            None if c.is_alphanumeric() || c == '_' => current.push(c),
            None => {
                if current.eq_ignore_ascii_case(word) {
                    return true;
                }
                current.clear();
            }
        }
    }
    false
}

/// The index a `CREATE INDEX` statement names: `(index, table)`, the index's name as
/// PostgreSQL stores it (it lives in its table's schema) and the table as written. `None` for
/// other statements and for an index left for PostgreSQL to name.
pub fn created_index(text: &str) -> Option<(String, String)> {
    let mut words = text.split_whitespace();
    let first = words.next()?;
    let second = words.next()?;
    let is_index = |w: &str| w.eq_ignore_ascii_case("index");
    let creates_index = first.eq_ignore_ascii_case("create")
        && (is_index(second)
            || (second.eq_ignore_ascii_case("unique") && words.next().is_some_and(is_index)));
    if !creates_index {
        return None;
    }
    match Parser::parse_sql(&PostgreSqlDialect {}, text).ok()?.pop()? {
        sqlparser::ast::Statement::CreateIndex(index) => Some((
            names::last(index.name.as_ref()?),
            index.table_name.to_string(),
        )),
        _ => None,
    }
}

/// True for `DROP INDEX`, parsed or only guessed.
pub fn is_drop_index(s: &Statement) -> bool {
    s.kind == StatementKind::DropIndex || s.guessed_kind.as_deref() == Some("drop-index")
}

/// A column definition's options.
pub fn options(column: &ColumnDef) -> impl Iterator<Item = &ColumnOption> {
    column.options.iter().map(|o| &o.option)
}

/// A column definition's `DEFAULT`, if any.
pub fn default_of(column: &ColumnDef) -> Option<&Expr> {
    options(column).find_map(|o| match o {
        ColumnOption::Default(expr) => Some(expr),
        _ => None,
    })
}

/// True when the column is declared `NOT NULL`.
pub fn is_not_null(column: &ColumnDef) -> bool {
    options(column).any(|o| matches!(o, ColumnOption::NotNull))
}

/// True for a generated or identity column.
pub fn is_generated(column: &ColumnDef) -> bool {
    options(column).any(|o| {
        matches!(
            o,
            ColumnOption::Generated { .. } | ColumnOption::Identity(_)
        )
    })
}

/// True for a `serial`-family column.
pub fn is_serial(column: &ColumnDef) -> bool {
    let ty = column.data_type.to_string().to_ascii_lowercase();
    matches!(
        ty.as_str(),
        "serial" | "bigserial" | "smallserial" | "serial2" | "serial4" | "serial8"
    )
}

/// Functions whose result changes per row: a default using one is evaluated for every row.
pub const VOLATILE: &[&str] = &[
    "random",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "txid_current",
    "gen_random_bytes",
];

/// The volatile function an expression calls, if any.
pub fn volatile_call(expr: &Expr) -> Option<&'static str> {
    let text = expr.to_string().to_ascii_lowercase();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            word.push(c);
            continue;
        }
        if c == '(' {
            let name = word.rsplit('.').next().unwrap_or(&word);
            if let Some(f) = VOLATILE.iter().find(|f| **f == name) {
                return Some(f);
            }
        }
        if !c.is_whitespace() {
            word.clear();
        }
    }
    None
}

#[cfg(test)]
mod created_index_tests {
    use super::created_index;

    #[test]
    fn names_and_tables_of_created_indexes() {
        assert_eq!(
            created_index(
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS Users_Email ON app.users (email)"
            ),
            Some(("users_email".into(), "app.users".into()))
        );
        assert_eq!(
            created_index("create index \"Mixed\" on \"T\" (a)"),
            Some(("Mixed".into(), "\"T\"".into()))
        );
        assert_eq!(created_index("CREATE INDEX ON t (a)"), None);
        assert_eq!(created_index("CREATE TABLE t (a int)"), None);
    }
}
