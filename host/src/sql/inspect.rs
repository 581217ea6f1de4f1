//! Small readers of parsed statements shared by the migration lint rules and the risk
//! classification: keywords in a statement's text, a column definition's options, volatile
//! function calls, the columns a CHECK proves not null, the setting a `SET` changes.

use sqlparser::ast::{self, ColumnDef, ColumnOption, Expr};

use super::{Statement, StatementKind};

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

/// Functions of `pg_catalog` known not to be volatile (every overload immutable or stable), one
/// name a line after a `#` header, sorted bytewise.
const NON_VOLATILE_FUNCTIONS: &str = include_str!("non_volatile_functions.txt");

/// SQL constructs that read like function calls but are not in `pg_proc`: the value functions
/// written without parentheses (`CURRENT_TIMESTAMP`) and the conditional expressions. Their
/// own volatility is never worse than stable (their arguments are checked as well).
const SQL_CONSTRUCTS: &[&str] = &[
    "coalesce",
    "greatest",
    "least",
    "nullif",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "localtime",
    "localtimestamp",
    "session_user",
    "user",
];

/// True when `name` (a function's unqualified, lower-case name) is known not to be volatile.
fn is_non_volatile(name: &str) -> bool {
    if SQL_CONSTRUCTS.contains(&name) {
        return true;
    }
    let known = || {
        NON_VOLATILE_FUNCTIONS
            .lines()
            .filter(|l| !l.starts_with('#'))
    };
    // The list is sorted: a binary search over its lines, collected once.
    static SORTED: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    SORTED
        .get_or_init(|| known().collect())
        .binary_search(&name)
        .is_ok()
}

/// The first function an expression calls that is not known to be immutable or stable, by its
/// name as written (`my_schema.make_token`, `uuidv7`): every function outside PostgreSQL's own
/// non-volatile ones is taken as volatile, user functions included. `None` when the expression
/// only uses literals, operators, casts and non-volatile functions.
pub fn volatile_call(expr: &Expr) -> Option<String> {
    let mut found = None;
    walk_functions(expr, &mut |parts| {
        let name = parts.last().map(String::as_str).unwrap_or_default();
        let builtin = parts.len() == 1 || parts.first().is_some_and(|s| s == "pg_catalog");
        if found.is_none() && !(builtin && is_non_volatile(name)) {
            found = Some(parts.join("."));
        }
    });
    found
}

/// Calls `visit` with the name parts of every function call in `expr`, subexpressions
/// included. Expressions this walker does not take apart are searched as text for `name(`.
fn walk_functions(expr: &Expr, visit: &mut dyn FnMut(Vec<String>)) {
    use ast::{FunctionArg, FunctionArgExpr, FunctionArguments};
    match expr {
        Expr::Function(function) => {
            visit(super::names::parts(&function.name));
            if let FunctionArguments::List(list) = &function.args {
                for arg in &list.args {
                    let (FunctionArg::Named { arg, .. }
                    | FunctionArg::ExprNamed { arg, .. }
                    | FunctionArg::Unnamed(arg)) = arg;
                    if let FunctionArgExpr::Expr(e) = arg {
                        walk_functions(e, visit);
                    }
                }
            }
        }
        Expr::Identifier(_)
        | Expr::CompoundIdentifier(_)
        | Expr::Value(_)
        | Expr::TypedString(_)
        | Expr::Interval(_) => {}
        Expr::BinaryOp { left, right, .. } => {
            walk_functions(left, visit);
            walk_functions(right, visit);
        }
        Expr::UnaryOp { expr, .. }
        | Expr::Nested(expr)
        | Expr::Cast { expr, .. }
        | Expr::IsNull(expr)
        | Expr::IsNotNull(expr)
        | Expr::Collate { expr, .. } => walk_functions(expr, visit),
        Expr::Array(array) => {
            for e in &array.elem {
                walk_functions(e, visit);
            }
        }
        Expr::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            for e in operand.iter().chain(else_result) {
                walk_functions(e, visit);
            }
            for when in conditions {
                walk_functions(&when.condition, visit);
                walk_functions(&when.result, visit);
            }
        }
        other => {
            for name in called_names(&other.to_string()) {
                visit(vec![name]);
            }
        }
    }
}

/// The lower-case names written right before a `(` in rendered SQL, outside quotes and not
/// after `::` (a cast to a type with modifiers).
fn called_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut word = String::new();
    let mut after_cast = false;
    let mut quote = None;
    let mut previous = ' ';
    for c in text.chars() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            c if c.is_alphanumeric() || c == '_' || c == '.' => {
                if word.is_empty() {
                    after_cast = previous == ':';
                }
                word.push(c.to_ascii_lowercase());
            }
            '(' if !word.is_empty() && !after_cast => {
                let name = word.rsplit('.').next().unwrap_or(&word);
                if !is_keyword_before_paren(name) {
                    names.push(name.to_string());
                }
                word.clear();
            }
            _ => word.clear(),
        }
        if !c.is_whitespace() {
            previous = c;
        }
    }
    names
}

/// Words sqlparser renders before a `(` that are not calls (`ARRAY(...)`, `ROW(...)`, `IN (`).
fn is_keyword_before_paren(word: &str) -> bool {
    matches!(
        word,
        "array" | "row" | "in" | "exists" | "any" | "all" | "some" | "and" | "or" | "not" | "as"
    )
}

/// The columns a CHECK expression proves `IS NOT NULL`: each top-level `AND` conjunct that is
/// exactly `column IS NOT NULL` (parentheses allowed). An `OR`, a `NOT`, a function or another
/// column proves nothing for the column.
pub fn not_null_columns(check: &Expr) -> Vec<String> {
    not_null_conjuncts(check).0
}

/// The columns of an expression that is nothing but `col IS NOT NULL` conditions joined by
/// `AND`; `None` when it says anything else.
pub fn only_not_null_columns(predicate: &Expr) -> Option<Vec<String>> {
    let (columns, other) = not_null_conjuncts(predicate);
    (!other && !columns.is_empty()).then_some(columns)
}

/// The columns proven by the `col IS NOT NULL` conjuncts of `expr`, and whether it has other
/// conjuncts.
fn not_null_conjuncts(expr: &Expr) -> (Vec<String>, bool) {
    let mut columns = Vec::new();
    let mut other = false;
    let mut conjuncts = vec![expr];
    while let Some(e) = conjuncts.pop() {
        match e {
            Expr::Nested(inner) => conjuncts.push(inner),
            Expr::BinaryOp {
                left,
                op: ast::BinaryOperator::And,
                right,
            } => {
                conjuncts.push(left);
                conjuncts.push(right);
            }
            Expr::IsNotNull(inner) => {
                let mut inner: &Expr = inner;
                while let Expr::Nested(e) = inner {
                    inner = e;
                }
                match inner {
                    Expr::Identifier(id) => columns.push(super::names::ident(id)),
                    _ => other = true,
                }
            }
            _ => other = true,
        }
    }
    (columns, other)
}

/// The name of the setting a `SET` statement changes, lower case and as written
/// (`lock_timeout`, `foo.lock_timeout`); `None` for another statement or `SET` form.
pub fn set_variable(ast: &ast::Statement) -> Option<String> {
    match ast {
        ast::Statement::Set(ast::Set::SingleAssignment { variable, .. }) => {
            Some(super::names::parts(variable).join("."))
        }
        _ => None,
    }
}

/// True for a `REINDEX` that runs concurrently: `REINDEX ... CONCURRENTLY name` or the option
/// list `REINDEX (CONCURRENTLY [true | on | 1])`; `CONCURRENTLY false` / `off` / `0` is not.
pub fn is_concurrent_reindex(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    words.iter().enumerate().any(|(i, w)| {
        *w == "concurrently" && !matches!(words.get(i + 1).copied(), Some("false" | "off" | "0"))
    }) && words.first() == Some(&"reindex")
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;

    fn expr(text: &str) -> Expr {
        Parser::new(&PostgreSqlDialect {})
            .try_with_sql(text)
            .and_then(|mut p| p.parse_expr())
            .expect("an expression")
    }

    #[test]
    fn volatility_from_the_known_list() {
        let volatile = |e: &str| volatile_call(&expr(e));
        for safe in [
            "now()",
            "current_timestamp",
            "now() - interval '100 years'",
            "'{}'::jsonb",
            "2 + 2",
            "array[]::double precision[]",
            "cast(array[] as bigint[])",
            "'a'::numeric(10,2)",
            "lower('A')",
            "pg_catalog.now()",
            "true",
        ] {
            assert_eq!(volatile(safe), None, "{safe}");
        }
        for (e, f) in [
            ("random()", "random"),
            ("gen_random_uuid()", "gen_random_uuid"),
            ("uuidv7()", "uuidv7"),
            ("my_token()", "my_token"),
            ("app.now()", "app.now"),
            ("coalesce(null, clock_timestamp())", "clock_timestamp"),
            ("nextval('s'::regclass)", "nextval"),
            ("lower(md5(random()::text))", "random"),
        ] {
            assert_eq!(volatile(e).as_deref(), Some(f), "{e}");
        }
    }

    #[test]
    fn the_known_list_is_sorted() {
        let names: Vec<&str> = NON_VOLATILE_FUNCTIONS
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect();
        assert!(names.len() > 1000);
        assert!(names.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn not_null_proofs_are_parsed_not_matched_as_text() {
        let cols = |e: &str| not_null_columns(&expr(e));
        assert_eq!(cols("bar IS NOT NULL"), vec!["bar"]);
        assert_eq!(cols("(\"Bar\" IS NOT NULL)"), vec!["Bar"]);
        assert_eq!(cols("a > 0 AND (b IS NOT NULL)"), vec!["b"]);
        assert!(cols("foo_bar IS NOT NULL").iter().all(|c| c != "bar"));
        assert!(cols("a IS NOT NULL OR b > 0").is_empty());
        assert!(cols("NOT (a IS NULL)").is_empty());
        assert!(cols("coalesce(a, 0) IS NOT NULL").is_empty());
    }

    #[test]
    fn predicates_of_only_not_null_conditions() {
        let only = |e: &str| only_not_null_columns(&expr(e));
        assert_eq!(only("a IS NOT NULL"), Some(vec!["a".to_string()]));
        assert_eq!(
            only("(a IS NOT NULL) AND b IS NOT NULL").map(|c| c.len()),
            Some(2)
        );
        assert_eq!(only("a IS NOT NULL AND deleted_at IS NULL"), None);
        assert_eq!(only("status = 'x'"), None);
    }

    #[test]
    fn concurrent_reindex_reads_its_options() {
        assert!(is_concurrent_reindex("REINDEX INDEX CONCURRENTLY i"));
        assert!(is_concurrent_reindex("reindex (concurrently) table t"));
        assert!(is_concurrent_reindex("REINDEX (CONCURRENTLY true) TABLE t"));
        assert!(!is_concurrent_reindex(
            "REINDEX (CONCURRENTLY false) TABLE t"
        ));
        assert!(!is_concurrent_reindex(
            "REINDEX (VERBOSE, CONCURRENTLY off) TABLE t"
        ));
        assert!(!is_concurrent_reindex("REINDEX TABLE t"));
    }
}
