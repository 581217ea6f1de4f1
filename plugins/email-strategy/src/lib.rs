//! Strategy `email_keep_domain`: `user_<12 hex digits>@<domain>`, the digits the start of the
//! keyed hash of the local part, so the same address anonymizes the same way in every table and
//! run while its domain stays visible. NULL stays NULL; a value without `@` gets an anonymized
//! local part at `example.com`.

use confiture_sdk::{
    Batch, Plugin, Result, Strategy, StrategyInfo, TextBatch, TextBatchBuilder, keyed_hash,
};

/// The plugin.
#[derive(Default)]
pub struct EmailStrategy;

impl Plugin for EmailStrategy {
    const NAME: &'static str = "email-strategy";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Anonymizes email addresses, keeping their domain";
}

/// Domain given to values that are not email addresses.
const FALLBACK_DOMAIN: &str = "example.com";

/// Hex digits of the keyed hash kept in the local part.
const HASH_DIGITS: usize = 12;

impl Strategy for EmailStrategy {
    const STRATEGIES: &'static [StrategyInfo] = &[StrategyInfo {
        name: "email_keep_domain",
        description: "user_<keyed hash of the local part>@<same domain>",
        context_columns: &[],
        accepted_types: &["text", "character varying", "citext"],
        deterministic: true,
    }];

    fn anonymize(&self, batch: &Batch<'_>) -> Result<TextBatch> {
        let values = &batch.values;
        let mut out = TextBatchBuilder::with_capacity(values.len(), values.len() * 32);
        for value in values.iter() {
            match value {
                None => out.push_null(),
                Some(email) => {
                    let (local, domain) = match email.rsplit_once('@') {
                        Some((local, domain)) => (local, domain),
                        None => (email, FALLBACK_DOMAIN),
                    };
                    let hash = keyed_hash(local.as_bytes())?;
                    out.push_with(|w| {
                        w.push_str("user_");
                        push_hex(w, &hash[..HASH_DIGITS / 2]);
                        w.push('@');
                        w.push_str(domain);
                    });
                }
            }
        }
        Ok(out.finish())
    }
}

fn push_hex(w: &mut confiture_sdk::ValueWriter<'_>, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for byte in bytes {
        w.push(DIGITS[usize::from(byte >> 4)] as char);
        w.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
}

confiture_sdk::export_plugin!(EmailStrategy: strategy);

#[cfg(test)]
mod tests {
    use super::*;
    use confiture_sdk::testing::{self, run_strategy};

    fn anonymize(values: &[Option<&str>]) -> Vec<Option<String>> {
        run_strategy::<EmailStrategy>("email_keep_domain", values).unwrap()
    }

    #[test]
    fn keeps_the_domain_and_hashes_the_local_part() {
        testing::set_secret(b"s3cret");
        let hash = keyed_hash(b"alice").unwrap();
        let expected: String = hash[..6].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            anonymize(&[Some("alice@corp.example")]),
            [Some(format!("user_{expected}@corp.example"))]
        );
    }

    #[test]
    fn is_deterministic_and_depends_on_the_secret() {
        testing::set_secret(b"one");
        let first = anonymize(&[Some("bob@x.org"), Some("bob@x.org"), Some("carol@x.org")]);
        assert_eq!(first[0], first[1]);
        assert_ne!(first[0], first[2]);
        testing::set_secret(b"two");
        assert_ne!(anonymize(&[Some("bob@x.org")])[0], first[0]);
    }

    #[test]
    fn null_stays_null_and_non_addresses_get_example_com() {
        testing::set_secret(b"s");
        let out = anonymize(&[None, Some("not an email"), Some(""), Some("élodie@café.fr")]);
        assert_eq!(out[0], None);
        assert!(out[1].as_deref().unwrap().ends_with("@example.com"));
        assert!(out[2].as_deref().unwrap().ends_with("@example.com"));
        assert!(out[3].as_deref().unwrap().ends_with("@café.fr"));
        assert_eq!(
            out[3].as_deref().unwrap().len(),
            "user_".len() + 12 + "@café.fr".len()
        );
    }

    #[test]
    fn fails_without_a_secret() {
        testing::reset();
        let error =
            run_strategy::<EmailStrategy>("email_keep_domain", &[Some("a@b.c")]).unwrap_err();
        assert!(error.message().contains("secret"), "{error}");
    }
}
