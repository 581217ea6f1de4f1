//! Security: personal data, passwords and secrets stored in clear, unconstrained sensitive
//! columns.

use super::{is_protected_name, is_text_type, name_has, quote, show_table};
use crate::lint::rule::{BuiltinRule, Category, LintContext, RuleOptions, Severity, Violation};
use crate::sql::{Column, Table};

/// The rule behind the release notes' `security.warn_plain_text_pii` setting.
pub const PLAIN_TEXT_PII: &str = "plain-text-pii";
/// The rule behind the release notes' `security.require_password_hash` setting.
pub const PASSWORD_NOT_HASHED: &str = "password-not-hashed";

pub(super) fn rules() -> Vec<BuiltinRule> {
    vec![
        BuiltinRule {
            id: PLAIN_TEXT_PII,
            category: Category::Security,
            severity: Severity::Warning,
            description: "Columns named like personal data (linting.pii_columns: email, phone, \
                          birth date, address, ...) stored as plain text are readable by \
                          anyone with SELECT, in every backup and every copied environment.",
            check: plain_text_pii,
        },
        BuiltinRule {
            id: PASSWORD_NOT_HASHED,
            category: Category::Security,
            severity: Severity::Critical,
            description: "A password column that is not a hash stores passwords in clear; \
                          one leaked backup exposes every account (and the other sites your \
                          users reuse them on).",
            check: password,
        },
        BuiltinRule {
            id: "secret-in-clear",
            category: Category::Security,
            severity: Severity::Critical,
            description: "Tokens, API keys and other secrets (linting.secret_columns) stored \
                          as plain text can be replayed by anyone who reads the table or a \
                          backup; store a hash (or encrypt them).",
            check: secrets,
        },
        BuiltinRule {
            id: "sensitive-column-constraints",
            category: Category::Security,
            severity: Severity::Info,
            description: "Sensitive columns (personal data, credentials) with neither NOT NULL \
                          nor a CHECK accept anything, including NULL and malformed values \
                          that then leak into exports and logs.",
            check: constraints,
        },
    ]
}

fn is_password(column: &Column) -> bool {
    ["password", "passwd", "pwd", "passphrase"]
        .iter()
        .any(|p| name_has(&column.name, p))
}

fn is_secret(column: &Column, options: &RuleOptions) -> bool {
    options
        .secret_columns
        .iter()
        .any(|p| name_has(&column.name, p))
}

/// True when the column's name says personal data and its type can hold some: a `uuid` or a
/// `boolean` (a reference or a flag, like `tax_id uuid`) cannot.
fn is_pii(column: &Column, options: &RuleOptions) -> bool {
    let holds_data = !matches!(column.type_name.as_str(), "uuid" | "boolean");
    holds_data
        && options
            .pii_columns
            .iter()
            .any(|p| name_has(&column.name, p))
}

fn columns<'a>(ctx: &LintContext<'a>) -> impl Iterator<Item = (&'a Table, &'a Column)> + 'a {
    ctx.model
        .tables
        .iter()
        .flat_map(|t| t.columns.iter().map(move |c| (t, c)))
}

fn in_clear(column: &Column) -> bool {
    is_text_type(&column.type_name) && !is_protected_name(&column.name)
}

fn plain_text_pii(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    columns(ctx)
        .filter(|(_, c)| in_clear(c) && is_pii(c, ctx.options) && !is_password(c))
        .map(|(t, c)| {
            rule.at(
                &c.location,
                format!(
                    "column `{}.{}` holds personal data as plain `{}`: readable in every \
                     backup and copied environment",
                    show_table(&t.qualified()),
                    c.name,
                    c.type_name
                ),
            )
            .suggest(format!(
                "encrypt it (pgcrypto: a `{0}_encrypted bytea` column written with \
                 pgp_sym_encrypt), or keep only a hash (`{0}_hash`) when you only compare it; \
                 make sure `confiture sync` anonymizes it",
                c.name
            ))
        })
        .collect()
}

fn password(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    columns(ctx)
        .filter(|(_, c)| in_clear(c) && is_password(c) && !is_secret(c, ctx.options))
        .map(|(t, c)| {
            rule.at(
                &c.location,
                format!(
                    "column `{}.{}` looks like a password stored as `{}`, not a hash",
                    show_table(&t.qualified()),
                    c.name,
                    c.type_name
                ),
            )
            .suggest(
                "store only a slow salted hash (bcrypt/argon2, or pgcrypto's \
                 crypt(password, gen_salt('bf'))) in a column named `password_hash`",
            )
            .fix(format!(
                "ALTER TABLE {} RENAME COLUMN {} TO password_hash;  -- after hashing every value",
                quote(&t.name),
                quote(&c.name)
            ))
        })
        .collect()
}

fn secrets(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    columns(ctx)
        .filter(|(_, c)| in_clear(c) && is_secret(c, ctx.options))
        .map(|(t, c)| {
            rule.at(
                &c.location,
                format!(
                    "column `{}.{}` stores a secret as plain `{}`: anyone who can read the \
                     table or a backup can use it",
                    show_table(&t.qualified()),
                    c.name,
                    c.type_name
                ),
            )
            .suggest(format!(
                "store a hash (`{0}_hash`, e.g. sha256 of the token) and compare hashes, or \
                 encrypt it (`{0}_encrypted bytea`)",
                c.name
            ))
        })
        .collect()
}

/// True when some CHECK constraint of the table mentions the column.
fn checked(table: &Table, column: &str) -> bool {
    table.checks.iter().any(|check| {
        check
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|word| word.eq_ignore_ascii_case(column))
    })
}

fn constraints(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    columns(ctx)
        .filter(|(t, c)| {
            (is_pii(c, ctx.options) || is_password(c) || is_secret(c, ctx.options))
                && c.nullable
                && !checked(t, &c.name)
        })
        .map(|(t, c)| {
            rule.at(
                &c.location,
                format!(
                    "sensitive column `{}.{}` has neither NOT NULL nor a CHECK constraint",
                    show_table(&t.qualified()),
                    c.name
                ),
            )
            .suggest("declare it NOT NULL, or add a CHECK that describes valid values")
            .fix(format!(
                "ALTER TABLE {} ALTER COLUMN {} SET NOT NULL;",
                quote(&t.name),
                quote(&c.name)
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn plain_text_pii_fires_on_text_email_not_on_encrypted_or_hashed() {
        let found = schema(
            "plain-text-pii",
            "CREATE TABLE u (id bigint PRIMARY KEY, email text, phone varchar(20), emails_sent int);",
        );
        assert_count(&found, 2);
        let found = schema(
            "plain-text-pii",
            "CREATE TABLE u (id bigint PRIMARY KEY, email_encrypted bytea, email_hash text);",
        );
        assert_count(&found, 0);
    }

    #[test]
    fn password_must_be_a_hash() {
        let found = schema(
            "password-not-hashed",
            "CREATE TABLE u (id bigint PRIMARY KEY, password varchar(100));",
        );
        assert_count(&found, 1);
        let found = schema(
            "password-not-hashed",
            "CREATE TABLE u (id bigint PRIMARY KEY, password_hash text, password_changed_at timestamptz);",
        );
        assert_count(&found, 0);
    }

    #[test]
    fn secrets_in_clear() {
        let found = schema(
            "secret-in-clear",
            "CREATE TABLE k (id bigint PRIMARY KEY, api_key text, refresh_token text);",
        );
        assert_count(&found, 2);
        let found = schema(
            "secret-in-clear",
            "CREATE TABLE k (id bigint PRIMARY KEY, api_key_hash text, token_expires_at timestamptz);",
        );
        assert_count(&found, 0);
    }

    #[test]
    fn sensitive_columns_need_not_null_or_check() {
        let found = schema(
            "sensitive-column-constraints",
            "CREATE TABLE u (id bigint PRIMARY KEY, email text);",
        );
        assert_count(&found, 1);
        let found = schema(
            "sensitive-column-constraints",
            "CREATE TABLE u (id bigint PRIMARY KEY, email text NOT NULL, phone text CHECK (phone ~ '^[+0-9]+$'));",
        );
        assert_count(&found, 0);
    }
}
