//! `${VAR}` and `${VAR:-default}` expansion in configuration values.

use crate::strings::percent_encode;

/// Expands every `${NAME}` / `${NAME:-default}` in `text` with `lookup`.
///
/// `$$` stands for a literal `$`. Returns the name of the first variable that is unset and has
/// no default.
pub fn expand(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    expand_with(text, lookup, |_, value| value)
}

/// [`expand`] for a database URL: a value expanded after the `://` (into the user, password,
/// host, database name or a parameter) is percent-encoded, so that a `?`, `#`, `&`, `@` or `/`
/// in a password can never change the URL's structure (and drop `sslmode`). A variable that
/// holds the whole URL (`${DATABASE_URL}`) is taken as written.
pub fn expand_url(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    expand_with(text, lookup, |before, value| {
        if before.contains("://") {
            percent_encode(value.as_bytes())
        } else {
            value
        }
    })
}

/// [`expand`], each variable's value passed through `transform(text expanded so far, value)`.
fn expand_with(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
    transform: impl Fn(&str, String) -> String,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let Some(end) = body.find('}') else {
                // An unterminated `${` is taken literally rather than guessed at.
                out.push_str(&rest[pos..]);
                return Ok(out);
            };
            let expr = &body[..end];
            let (name, default) = match expr.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (expr, None),
            };
            match lookup(name).filter(|v| !v.is_empty() || default.is_none()) {
                Some(value) => {
                    let value = transform(&out, value);
                    out.push_str(&value);
                }
                None => match default {
                    Some(default) => out.push_str(default),
                    None => return Err(name.to_string()),
                },
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::expand;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("db.internal".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands_set_variables_and_defaults() {
        assert_eq!(
            expand("postgresql://${HOST}:5432/app", env).unwrap(),
            "postgresql://db.internal:5432/app"
        );
        assert_eq!(expand("${PORT:-6543}", env).unwrap(), "6543");
        assert_eq!(expand("${EMPTY:-fallback}", env).unwrap(), "fallback");
        assert_eq!(expand("${EMPTY}", env).unwrap(), "");
        assert_eq!(
            expand("cost $$5 and $HOST", env).unwrap(),
            "cost $5 and $HOST"
        );
    }

    #[test]
    fn url_values_are_encoded_after_the_scheme_only() {
        let lookup = |name: &str| match name {
            "PASSWORD" => Some("p?a#s&s@w/o:r%d".to_string()),
            "URL" => Some("postgresql://u@h/db".to_string()),
            _ => env(name),
        };
        assert_eq!(
            super::expand_url(
                "postgresql://app:${PASSWORD}@${HOST}/shop?sslmode=require",
                lookup
            )
            .unwrap(),
            "postgresql://app:p%3Fa%23s%26s%40w%2Fo%3Ar%25d@db.internal/shop?sslmode=require"
        );
        assert_eq!(
            super::expand_url("${URL}", lookup).unwrap(),
            "postgresql://u@h/db"
        );
    }

    #[test]
    fn reports_the_missing_variable() {
        assert_eq!(expand("x ${NOPE} y", env).unwrap_err(), "NOPE");
    }
}
