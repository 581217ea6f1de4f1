//! The built-in rules, one module per category, and the helpers they share.

mod compliance;
mod general;
mod migration;
mod naming;
mod performance;
mod security;
mod structure;

#[cfg(test)]
mod cases;
#[cfg(test)]
pub(crate) mod testing;

use sqlparser::ast::{Ident, ObjectName};

use super::rule::BuiltinRule;

/// Every built-in rule, in category order.
pub fn builtin() -> Vec<BuiltinRule> {
    let mut rules = Vec::new();
    rules.extend(general::rules());
    rules.extend(naming::rules());
    rules.extend(structure::rules());
    rules.extend(security::rules());
    rules.extend(performance::rules());
    rules.extend(compliance::rules());
    rules.extend(migration::rules());
    rules
}

/// The rule id unknown suppressions are reported under.
pub use general::UNKNOWN_SUPPRESSION;

/// Rules that run only when the configuration turns them on.
pub const OPT_IN: &[&str] = migration::OPT_IN;

/// True for the character types (text, varchar, char, citext).
fn is_text_type(type_name: &str) -> bool {
    let base = type_name.split('(').next().unwrap_or(type_name).trim();
    matches!(
        base,
        "text" | "character varying" | "varchar" | "character" | "char" | "bpchar" | "citext"
    )
}

/// True when `pattern`'s `_`-separated words appear, in order and contiguous, among `name`'s:
/// `email` matches `contact_email` and `email_address`, not `emails_sent`; `api_key` matches
/// `stripe_api_key`.
fn name_has(name: &str, pattern: &str) -> bool {
    if pattern.is_empty() {
        return false;
    }
    let (name, pattern) = (name.as_bytes(), pattern.as_bytes());
    let mut word = 0;
    loop {
        let rest = &name[word..];
        if rest.starts_with(pattern) && rest.get(pattern.len()).is_none_or(|&b| b == b'_') {
            return true;
        }
        match rest.iter().position(|&b| b == b'_') {
            Some(underscore) => word += underscore + 1,
            None => return false,
        }
    }
}

/// True when a column name says its value is a hash, a digest or encrypted.
fn is_protected_name(name: &str) -> bool {
    name.split('_').any(|w| {
        matches!(
            w,
            "hash"
                | "hashed"
                | "digest"
                | "bcrypt"
                | "scrypt"
                | "argon2"
                | "crypt"
                | "encrypted"
                | "enc"
                | "cipher"
                | "ciphertext"
                | "fingerprint"
        )
    })
}

/// True when `columns` start with `leading` (an index or key that serves lookups on `leading`).
fn covers(columns: &[String], leading: &[String]) -> bool {
    !leading.is_empty()
        && columns.len() >= leading.len()
        && columns[..leading.len()]
            .iter()
            .zip(leading)
            .all(|(a, b)| a == b)
}

/// An identifier as the model spells it: unquoted names folded to lower case.
fn ident(ident: &Ident) -> String {
    match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_lowercase(),
    }
}

/// The unqualified last part of a name.
fn last_part(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(|part| part.as_ident())
        .map(ident)
        .unwrap_or_default()
}

/// Quotes an identifier for a suggested fix when it is not a plain lower-case name.
fn quote(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain && !naming::is_reserved(name) {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// `schema.table` shown as the user wrote it: `public.` dropped.
fn show_table(qualified: &str) -> &str {
    qualified.strip_prefix("public.").unwrap_or(qualified)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_matching_is_by_words() {
        assert!(name_has("contact_email", "email"));
        assert!(name_has("email_address", "email"));
        assert!(!name_has("emails_sent", "email"));
        assert!(name_has("stripe_api_key", "api_key"));
        assert!(!name_has("api_keyring", "api_key"));
        assert!(!name_has("adobe_id", "dob"));
    }

    #[test]
    fn covering_is_by_leading_columns() {
        let cols = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(covers(&cols(&["a", "b"]), &cols(&["a"])));
        assert!(!covers(&cols(&["b", "a"]), &cols(&["a"])));
        assert!(!covers(&cols(&["a"]), &cols(&["a", "b"])));
        assert!(is_text_type("character varying(255)"));
        assert!(!is_text_type("bytea"));
        assert_eq!(quote("user"), "\"user\"");
        assert_eq!(quote("Users"), "\"Users\"");
        assert_eq!(quote("users"), "users");
    }
}
