//! Identifiers as PostgreSQL folds them: unquoted names are lower-cased, quoted names keep
//! their case; unqualified relation names live in `public`.

use sqlparser::ast::{Ident, ObjectName, ObjectNamePart};

/// The schema an unqualified name resolves to.
pub const DEFAULT_SCHEMA: &str = "public";

/// An identifier's name as PostgreSQL stores it.
pub fn ident(ident: &Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

/// The parts of a (possibly qualified) name, each folded like [`ident`]; function parts are
/// rendered as written.
pub fn parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(id) => ident(id),
            other => other.to_string(),
        })
        .collect()
}

/// `(schema, name)` of a relation name; `database.schema.name` drops the database.
pub fn relation(name: &ObjectName) -> (String, String) {
    let mut parts = parts(name);
    let last = parts.pop().unwrap_or_default();
    let schema = parts.pop().unwrap_or_else(|| DEFAULT_SCHEMA.to_string());
    (schema, last)
}

/// `schema.name` of a relation name.
pub fn qualified(name: &ObjectName) -> String {
    let (schema, name) = relation(name);
    join(&schema, &name)
}

/// `schema.name`.
pub fn join(schema: &str, name: &str) -> String {
    format!("{schema}.{name}")
}

/// The last part of a name (an index or constraint name, which PostgreSQL does not qualify).
pub fn last(name: &ObjectName) -> String {
    parts(name).pop().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;

    fn name(text: &str) -> ObjectName {
        Parser::new(&PostgreSqlDialect {})
            .try_with_sql(text)
            .and_then(|mut p| p.parse_object_name(false))
            .expect("a name")
    }

    #[test]
    fn unquoted_names_fold_and_quoted_names_keep_case() {
        assert_eq!(qualified(&name("Users")), "public.users");
        assert_eq!(qualified(&name("App.\"Users\"")), "app.Users");
        assert_eq!(qualified(&name("db.app.t")), "app.t");
        assert_eq!(
            relation(&name("\"My Schema\".t")),
            ("My Schema".into(), "t".into())
        );
        assert_eq!(last(&name("app.Idx")), "idx");
    }
}
