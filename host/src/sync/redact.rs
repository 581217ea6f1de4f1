//! Error text without production values. PostgreSQL quotes data in its errors: DETAIL lines
//! show rows and keys (`Failing row contains (...)`, `Key (email)=(...) already exists.`),
//! messages quote bad input (`invalid input syntax for type date: "..."`), and the COPY context
//! quotes the field. A failed group's error keeps what locates the problem — SQLSTATE,
//! constraint, table and column names, the COPY line — and drops the values.

use tokio_postgres::error::DbError;

/// What stands in for a value.
const HIDDEN: &str = "…";

/// Words after which a double-quoted name is an identifier, not data.
const IDENTIFIER_WORDS: &[&str] = &[
    "relation",
    "table",
    "references",
    "column",
    "constraint",
    "index",
    "type",
    "schema",
    "function",
    "sequence",
    "domain",
    "trigger",
    "view",
    "role",
    "database",
    "encoding",
    "collation",
    "extension",
    "partition",
    "operator",
    "of",
];

/// `error` with its causes, as `{:#}` shows it, with every PostgreSQL error redacted.
pub fn describe(error: &anyhow::Error) -> String {
    let mut parts = Vec::new();
    for cause in error.chain() {
        if let Some(db) = cause.downcast_ref::<DbError>() {
            parts.push(db_error(db));
        } else if cause
            .downcast_ref::<tokio_postgres::Error>()
            .is_some_and(|e| e.as_db_error().is_some())
        {
            // Its source, the DbError, follows in the chain.
            continue;
        } else {
            parts.push(cause.to_string());
        }
    }
    parts.join(": ")
}

/// One server error: severity, message and detail with values hidden, SQLSTATE, and the COPY
/// line it happened on.
fn db_error(db: &DbError) -> String {
    let mut text = format!(
        "{}: {} (SQLSTATE {})",
        db.severity(),
        quoted_values_hidden(db.message()),
        db.code().code()
    );
    if let Some(detail) = db.detail() {
        text.push_str(&format!("; DETAIL: {}", detail_hidden(detail)));
    }
    if let Some(context) = db.where_().and_then(copy_position) {
        text.push_str(&format!("; at {context}"));
    }
    if let Some(hint) = db.hint() {
        text.push_str(&format!("; HINT: {}", quoted_values_hidden(hint)));
    }
    text
}

/// `COPY t, line 5, column email` out of the COPY context (which goes on with the value).
fn copy_position(context: &str) -> Option<String> {
    let line = context.lines().find(|l| l.starts_with("COPY "))?;
    let end = line.find(": ").unwrap_or(line.len());
    Some(line[..end].to_string())
}

/// Every double-quoted part of `text` that is not an identifier replaced by `"…"`.
fn quoted_values_hidden(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('"') {
        let before = &rest[..open];
        out.push_str(before);
        let after = &rest[open + 1..];
        // A quoted part ends at a quote not doubled.
        let mut end = None;
        let mut i = 0;
        let bytes = after.as_bytes();
        while i < bytes.len() {
            if bytes[i] == b'"' {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 2;
                    continue;
                }
                end = Some(i);
                break;
            }
            i += 1;
        }
        let Some(end) = end else {
            out.push('"');
            out.push_str(&hidden_unless_identifier(before, after));
            return out;
        };
        out.push('"');
        out.push_str(&hidden_unless_identifier(before, &after[..end]));
        out.push('"');
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

fn hidden_unless_identifier(before: &str, quoted: &str) -> String {
    let word = before
        .trim_end()
        .rsplit(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if IDENTIFIER_WORDS.contains(&word.as_str()) {
        quoted.to_string()
    } else {
        HIDDEN.to_string()
    }
}

/// A DETAIL line with the row or key values hidden.
fn detail_hidden(detail: &str) -> String {
    if let Some(at) = detail.find("Failing row contains") {
        return format!("{}Failing row contains ({HIDDEN}).", &detail[..at]);
    }
    if let Some(rest) = detail.strip_prefix("Key (")
        && let Some(columns_end) = rest.find(")=(")
    {
        let columns = &rest[..columns_end];
        const EXCLUSION: &str = ") conflicts with existing key (";
        let ending = match rest.rfind(EXCLUSION) {
            Some(at) => {
                let other = rest[at + EXCLUSION.len()..].split(")=(").next();
                format!(
                    " conflicts with existing key ({})=({HIDDEN}).",
                    other.unwrap_or("")
                )
            }
            None => [
                ") already exists.",
                ") is not present in table ",
                ") is still referenced from table ",
            ]
            .iter()
            .find_map(|phrase| rest.rfind(phrase))
            .map(|at| quoted_values_hidden(&rest[at + 1..]))
            .unwrap_or_default(),
        };
        return format!("Key ({columns})=({HIDDEN}){ending}");
    }
    quoted_values_hidden(detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_keep_identifiers_and_hide_values() {
        assert_eq!(
            quoted_values_hidden(r#"invalid input syntax for type date: "2024-13-45 alice""#),
            r#"invalid input syntax for type date: "…""#
        );
        assert_eq!(
            quoted_values_hidden(
                r#"duplicate key value violates unique constraint "users_email_key""#
            ),
            r#"duplicate key value violates unique constraint "users_email_key""#
        );
        assert_eq!(
            quoted_values_hidden(r#"value "Zoë ""x"" y" is out of range for type integer"#),
            r#"value "…" is out of range for type integer"#
        );
        assert_eq!(
            quoted_values_hidden(r#"null value in column "email" of relation "users""#),
            r#"null value in column "email" of relation "users""#
        );
    }

    #[test]
    fn details_hide_rows_and_keys() {
        assert_eq!(
            detail_hidden("Failing row contains (1, alice@corp.example, Alice (work))."),
            "Failing row contains (…)."
        );
        assert_eq!(
            detail_hidden("Key (email)=(alice@corp.example) already exists."),
            "Key (email)=(…) already exists."
        );
        assert_eq!(
            detail_hidden(r#"Key (user_id)=(42) is not present in table "users"."#),
            r#"Key (user_id)=(…) is not present in table "users"."#
        );
        assert_eq!(
            detail_hidden("Key (a, b)=(x) y, z) is odd"),
            "Key (a, b)=(…)"
        );
        assert_eq!(
            copy_position(r#"COPY users, line 2, column email: "alice@corp.example""#).unwrap(),
            "COPY users, line 2, column email"
        );
        assert_eq!(
            copy_position("COPY users, line 2: \"1\talice\"").unwrap(),
            "COPY users, line 2"
        );
    }
}
