//! The migrations tracking table (`migrations_table:`, upstream's `migration.tracking_table`
//! and old `migration_table:`) and the migration defaults.

use super::yaml::{at_line, line_of_key};
use crate::error::Failure;

/// Default name of the migrations tracking table (the upstream ledger's name).
pub const DEFAULT_MIGRATIONS_TABLE: &str = "tb_confiture";
/// Default `lock_timeout` for migrations, in milliseconds.
pub const DEFAULT_LOCK_TIMEOUT_MS: u64 = 10_000;

/// The tracking table named by at most one spelling (`migrations_table`,
/// `migration.tracking_table`, upstream's old `migration_table`); two different names are an
/// error.
/// The tracking table the file names, if any: at most one spelling, a plain identifier.
pub(super) fn tracking_table<const N: usize>(
    spellings: [(&str, Option<String>); N],
    shown: &str,
    text: &str,
) -> Result<Option<String>, Failure> {
    one_tracking_table(spellings, shown, text)?
        .map(|table| validate_table_name(shown, text, table))
        .transpose()
}

fn one_tracking_table<const N: usize>(
    spellings: [(&str, Option<String>); N],
    shown: &str,
    text: &str,
) -> Result<Option<String>, Failure> {
    let mut chosen: Option<(&str, String)> = None;
    for (key, value) in spellings {
        let Some(value) = value else { continue };
        match &chosen {
            Some((first, name)) if *name != value => {
                let line = line_of_key(text, key.rsplit('.').next().unwrap_or(key));
                return Err(Failure::config(format!(
                    "{}: `{first}` and `{key}` name different tracking tables \
                     (`{name}`, `{value}`)",
                    at_line(shown, line)
                ))
                .hint("keep one of them"));
            }
            Some(_) => {}
            None => chosen = Some((key, value)),
        }
    }
    Ok(chosen.map(|(_, name)| name))
}

/// A tracking table name is `table` or `schema.table`, each a plain identifier (letters,
/// digits and `_`, as upstream allows; quoted, so case counts).
fn validate_table_name(shown: &str, text: &str, table: String) -> Result<String, Failure> {
    let plain = |part: &str| {
        !part.is_empty()
            && part.len() <= 63
            && part
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let parts: Vec<&str> = table.split('.').collect();
    if parts.len() <= 2 && parts.iter().all(|p| plain(p)) {
        Ok(table)
    } else {
        let line = ["migrations_table", "tracking_table", "migration_table"]
            .iter()
            .find_map(|key| line_of_key(text, key));
        Err(Failure::config(format!(
            "{}: tracking table `{table}` is not a plain identifier",
            at_line(shown, line)
        ))
        .hint("use letters, digits and underscores, optionally `schema.table`"))
    }
}

#[cfg(test)]
mod tests {
    use crate::project::settings::testing::{failure, parse};

    #[test]
    fn two_tracking_table_spellings_must_agree() {
        let env = parse("migrations_table: a\nmigration:\n  tracking_table: a\n").unwrap();
        assert_eq!(env.migrations_table, "a");
        let f = failure("migrations_table: a\nmigration:\n  tracking_table: b\n");
        assert!(
            f.message
                .contains("`migrations_table` and `migration.tracking_table`")
                && f.message.contains("local.yaml:3"),
            "{}",
            f.message
        );
        assert!(parse("migrations_table: Ops.Ledger_2\n").is_ok());
        assert!(
            failure("migration:\n  tracking_table: a-b\n")
                .message
                .contains(":2:")
        );
    }
}
