//! Session settings that change what a value means on the wire, pinned the way pg_dump pins
//! them, so that data moved as text reads back as the same value whatever the server, the
//! database or the role has set (`ALTER DATABASE ... SET DateStyle = 'SQL, DMY'` and the like).

use anyhow::Context;
use tokio_postgres::Client;

use super::connect::execute_through_cancels;

/// The settings every connection that moves data pins, and their values.
///
/// - `DateStyle`, `IntervalStyle`: ISO dates (`2024-03-04`, never day-first) and intervals that
///   read back with the same sign;
/// - `extra_float_digits = 3`: floats printed with every digit needed to read back exactly;
/// - `client_encoding`, `standard_conforming_strings`: UTF-8 text, backslashes as data;
/// - `TimeZone = UTC`: `timestamptz` printed the same way on every run;
/// - `bytea_output = hex`, `xmloption = content`, `lc_monetary = C`: the forms every server
///   reads back (a `money` value printed under another locale would not be);
/// - `statement_timeout`, `lock_timeout`, `idle_in_transaction_session_timeout` off: a long copy
///   must not be cut by settings meant for interactive sessions.
pub const DATA_SETTINGS: &[(&str, &str)] = &[
    ("DateStyle", "ISO"),
    ("IntervalStyle", "postgres"),
    ("extra_float_digits", "3"),
    ("client_encoding", "UTF8"),
    ("standard_conforming_strings", "on"),
    ("TimeZone", "UTC"),
    ("bytea_output", "hex"),
    ("xmloption", "content"),
    ("lc_monetary", "C"),
    ("statement_timeout", "0"),
    ("lock_timeout", "0"),
    ("idle_in_transaction_session_timeout", "0"),
];

/// Settings pinned on connections that only read, on top of [`DATA_SETTINGS`]: row security
/// off (a table the role cannot read in full fails instead of giving fewer rows), an empty
/// `search_path` (type and `reg*` names printed schema-qualified), and scans starting at the
/// table's first page.
pub const READ_SETTINGS: &[(&str, &str)] = &[
    ("row_security", "off"),
    ("search_path", ""),
    ("synchronize_seqscans", "off"),
];

/// Pins `settings` for the session of `client`, in one round trip (two when a
/// `statement_timeout` is lifted first: a tiny one could otherwise cancel the pinning itself).
pub async fn pin(client: &Client, settings: &[(&str, &str)]) -> anyhow::Result<()> {
    if settings
        .iter()
        .any(|(name, _)| *name == "statement_timeout")
    {
        lift_statement_timeout(client).await?;
    }
    let calls: Vec<String> = settings
        .iter()
        .map(|(name, value)| {
            format!(
                "pg_catalog.set_config('{name}', '{}', false)",
                value.replace('\'', "''")
            )
        })
        .collect();
    let sql = format!("SELECT {}", calls.join(", "));
    client
        .batch_execute(&sql)
        .await
        .context("pinning the session settings (DateStyle, IntervalStyle, extra_float_digits…)")
}

/// `SET statement_timeout = 0`, tried again when the timeout in force cancels it.
async fn lift_statement_timeout(client: &Client) -> anyhow::Result<()> {
    execute_through_cancels(client, "SET statement_timeout = 0")
        .await
        .context("lifting statement_timeout")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_is_named_once() {
        let mut names: Vec<String> = DATA_SETTINGS
            .iter()
            .chain(READ_SETTINGS)
            .map(|(name, _)| name.to_ascii_lowercase())
            .collect();
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count);
    }
}
