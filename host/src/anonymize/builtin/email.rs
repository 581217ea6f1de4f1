//! `email`: `user_<hex>@<domain>`, keyed on the address.

use anyhow::{Result, anyhow, bail};

use crate::anonymize::column::ColumnType;
use crate::anonymize::keys::{push_hex, strategy_key};
use crate::anonymize::params::{ParamReader, Params};
use crate::anonymize::strategy::unsupported;
use crate::anonymize::writer::{fold_into, map_values};
use crate::anonymize::{KeyedHasher, Strategy, TextBatch};

const PREFIX: &str = "user_";
/// Hex digits in the local part when the column leaves room (64 bits).
const HEX_DIGITS: usize = 16;

/// Replaces each address with `user_<hex>@<domain>`: the hex comes from the keyed HMAC of the
/// address in lower case (of any script: `ΜΑΡΊΑ@x` and `μαρία@x` are one address), so an address
/// maps to the same fake one in every table.
#[derive(Debug)]
pub struct Email {
    key: KeyedHasher,
    domain: String,
    preserve_domain: bool,
}

impl Email {
    /// Params `domain` (default `example.com`) and `preserve_domain` (keep each address's own
    /// domain when it is a valid one; default false). Needs the secret.
    pub fn from_params(params: &Params, hasher: Option<KeyedHasher>) -> Result<Self> {
        let mut reader = ParamReader::new("email", params);
        let domain = reader
            .string("domain")?
            .unwrap_or("example.com")
            .to_string();
        let preserve_domain = reader.bool("preserve_domain")?.unwrap_or(false);
        reader.finish()?;
        if !is_domain(&domain) {
            bail!(
                "strategy `email`: param `domain` is not a domain name (letters, digits and \
                 hyphens in dot-separated labels, e.g. example.com)"
            );
        }
        Ok(Email {
            key: strategy_key("email", hasher)?,
            domain,
            preserve_domain,
        })
    }

    fn domain_for<'v>(&'v self, value: &'v str) -> &'v str {
        if self.preserve_domain
            && let Some((_, domain)) = value.rsplit_once('@')
            && is_domain(domain)
        {
            return domain;
        }
        &self.domain
    }
}

/// Hex digits that fit `max` characters next to `user_`, `@` and a domain of `domain_len`.
fn hex_digits(max: Option<usize>, domain_len: usize) -> Option<usize> {
    match max {
        None => Some(HEX_DIGITS),
        Some(max) => max
            .checked_sub(PREFIX.len() + 1 + domain_len)
            .filter(|&room| room >= 1)
            .map(|room| room.min(HEX_DIGITS)),
    }
}

impl Strategy for Email {
    fn name(&self) -> &str {
        "email"
    }

    fn anonymize(&self, column: &ColumnType, values: &TextBatch) -> Result<TextBatch> {
        if !column.is_textual() {
            return Err(unsupported(self.name(), column, "text-like columns"));
        }
        let max = column.max_chars();
        if !self.preserve_domain && hex_digits(max, self.domain.len()).is_none() {
            bail!(
                "strategy `email`: a column of type {column} is too short for \
                 `user_<hex>@{}` (it needs at least {} characters); use a shorter `domain`",
                self.domain,
                PREFIX.len() + 2 + self.domain.len()
            );
        }
        let mut lowered = String::with_capacity(64);
        map_values(self.name(), values, |value, out| {
            fold_into(value, &mut lowered);
            let digest = self.key.hash(lowered.as_bytes());
            let domain = self.domain_for(value);
            let digits = hex_digits(max, domain.len()).ok_or_else(|| {
                anyhow!(
                    "its domain ({} characters) leaves no room for `user_<hex>@` in a column of \
                     type {column}; turn off `preserve_domain` or widen the column",
                    domain.len()
                )
            })?;
            out.push_str(PREFIX);
            push_hex(out.buffer(), &digest, digits);
            out.push('@');
            out.push_str(domain);
            Ok(())
        })
    }
}

/// True for an ASCII domain name: dot-separated labels of letters, digits and inner hyphens.
pub(crate) fn is_domain(domain: &str) -> bool {
    domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::anonymize::testing::{assert_keyed, build, hasher, params, run, run_err};

    /// A plain `local@domain` address check for outputs.
    pub(crate) fn is_email(value: &str) -> bool {
        value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && local
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b))
                && is_domain(domain)
        })
    }

    const VALUES: [Option<&str>; 4] = [
        Some("alice@corp.example.org"),
        None,
        Some("Bob.Smith+tag@mail.example"),
        Some("not an email"),
    ];

    #[test]
    fn deterministic_keyed_and_valid() {
        assert_keyed("email", "{}", "text", &VALUES);
        let out = run(&*build("email", "{}", "s"), "text", &VALUES);
        for value in out.iter().flatten() {
            assert!(is_email(value), "{value}");
            assert!(
                value.starts_with("user_") && value.ends_with("@example.com"),
                "{value}"
            );
            assert_eq!(value.len(), "user_@example.com".len() + 16);
        }
        let same = run(
            &*build("email", "{}", "s"),
            "text",
            &[Some("ALICE@Corp.Example.org")],
        );
        assert_eq!(same[0], out[0], "ASCII case is ignored");
    }

    #[test]
    fn domains_fixed_or_preserved() {
        let out = run(
            &*build("email", "{domain: corp.test}", "s"),
            "text",
            &VALUES,
        );
        assert!(out[0].as_ref().unwrap().ends_with("@corp.test"));
        let out = run(
            &*build("email", "{preserve_domain: true}", "s"),
            "text",
            &VALUES,
        );
        assert!(out[0].as_ref().unwrap().ends_with("@corp.example.org"));
        assert!(out[2].as_ref().unwrap().ends_with("@mail.example"));
        assert!(
            out[3].as_ref().unwrap().ends_with("@example.com"),
            "no domain: the default"
        );
        let error = Email::from_params(&params("{domain: 'bad domain'}"), hasher("s")).unwrap_err();
        assert!(error.to_string().contains("param `domain`"), "{error}");
        let error =
            Email::from_params(&params("{preserve_domain: 'yes'}"), hasher("s")).unwrap_err();
        assert!(
            error.to_string().contains("param `preserve_domain`"),
            "{error}"
        );
    }

    #[test]
    fn fits_short_varchar_or_fails_clearly() {
        // user_ + 1 hex + @ + example.com = 18 characters.
        for n in [18, 20, 33, 100] {
            let column = format!("character varying({n})");
            let out = run(&*build("email", "{}", "s"), &column, &VALUES);
            for value in out.iter().flatten() {
                assert!(is_email(value) && value.len() <= n, "{value} in {n}");
            }
        }
        let error = run_err(
            &*build("email", "{}", "s"),
            "character varying(17)",
            &VALUES,
        );
        assert!(error.contains("needs at least 18 characters"), "{error}");
        let out = run(
            &*build("email", "{domain: x.io}", "s"),
            "character(20)",
            &VALUES,
        );
        assert!(out.iter().flatten().all(|v| is_email(v)));
        let error = run_err(
            &*build("email", "{preserve_domain: true}", "s"),
            "character varying(22)",
            &VALUES,
        );
        assert!(
            error.contains("value 0 of the batch") && !error.contains("alice"),
            "{error}"
        );
    }
}
