//! `database_url:` or the `database:` map (upstream's form): where an environment's database is.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};

use super::upstream::with_reported_keys;
use super::yaml::{at_line, line_of_key};
use crate::db::connect::DatabaseParts;
use crate::error::Failure;

with_reported_keys! {
    /// `database:` in its upstream map form.
    pub(super) struct RawDatabase {
        host: Option<String>,
        #[serde(default, deserialize_with = "port")]
        port: Option<String>,
        database: Option<String>,
        user: Option<String>,
        password: Option<String>,
        sslmode: Option<String>,
        connect_timeout: Option<u64>,
    }
    reported { pool_size, max_overflow, pool_timeout }
}

/// Where an environment says its database is.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseSetting {
    /// `database_url:` (already `${VAR}`-expanded).
    Url(String),
    /// `database:` map.
    Parts(DatabaseParts),
    /// A setting that uses a `${VAR}` that is not set: the configuration failure (file:line,
    /// the variable) for a command that connects; commands that never connect (lint, migrate
    /// generate, build without --apply...) do not need it.
    Unresolved {
        /// What is missing, and where.
        message: String,
        /// What to do.
        hint: String,
    },
}

impl fmt::Debug for DatabaseSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseSetting::Url(_) => f.write_str("Url(<redacted>)"),
            DatabaseSetting::Parts(parts) => parts.fmt(f),
            DatabaseSetting::Unresolved { message, .. } => {
                f.debug_tuple("Unresolved").field(message).finish()
            }
        }
    }
}

/// The database an environment names: `database_url:` or the `database:` map (not both),
/// `${VAR}`-expanded by `expand(key, value, is_url)`. An unset variable in it fails the commands
/// that connect, not the file ([`DatabaseSetting::Unresolved`]); any other mistake fails the file.
pub(super) fn setting(
    url: Option<String>,
    map: Option<RawDatabase>,
    shown: &str,
    text: &str,
    expand: &impl Fn(&str, String, bool) -> Result<String, Failure>,
) -> Result<Option<DatabaseSetting>, Failure> {
    let unset_variable = std::cell::Cell::new(false);
    let expand_database = |key: &str, value: String, url: bool| {
        let expanded = expand(key, value, url);
        unset_variable.set(expanded.is_err());
        expanded
    };
    let deferred = |result: Result<DatabaseSetting, Failure>| match result {
        Err(failure) if unset_variable.get() => Ok(DatabaseSetting::Unresolved {
            message: failure.message,
            hint: failure.hint.unwrap_or_default(),
        }),
        result => result,
    };
    Ok(match (url, map) {
        (Some(_), Some(_)) => {
            return Err(Failure::config(format!(
                "{shown}: both `database_url` and `database` are set"
            ))
            .hint("keep one of them"));
        }
        (Some(url), None) => Some(deferred(
            expand_database("database_url", url, true).map(DatabaseSetting::Url),
        )?),
        (None, Some(db)) => Some(deferred(
            parts(db, shown, text, &|key: &str, value: String| {
                expand_database(key, value, false)
            })
            .map(DatabaseSetting::Parts),
        )?),
        (None, None) => None,
    })
}

/// Validates the `database:` map.
fn parts(
    db: RawDatabase,
    shown: &str,
    text: &str,
    expand: &impl Fn(&str, String) -> Result<String, Failure>,
) -> Result<DatabaseParts, Failure> {
    let field = |key: &str, value: Option<String>| value.map(|v| expand(key, v)).transpose();
    let dbname = field("database.database", db.database)?.ok_or_else(|| {
        Failure::config(format!(
            "{}: `database` has no `database:` (the database name)",
            at_line(shown, line_of_key(text, "database"))
        ))
        .hint("add `database: <name>` under `database:`, or use `database_url:` instead")
    })?;
    let port = match field("database.port", db.port)? {
        None => 5432,
        Some(port) => port.trim().parse().map_err(|_| {
            Failure::config(format!(
                "{}: database.port: `{port}` is not a port number",
                at_line(shown, line_of_key(text, "port"))
            ))
        })?,
    };
    Ok(DatabaseParts {
        host: field("database.host", db.host)?.unwrap_or_else(|| "localhost".into()),
        port,
        dbname,
        user: field("database.user", db.user)?.unwrap_or_else(|| "postgres".into()),
        password: field("database.password", db.password)?,
        sslmode: field("database.sslmode", db.sslmode)?,
        connect_timeout_secs: db.connect_timeout,
    })
}

/// Accepts a port as a number or as a string (which may hold `${VAR}`).
fn port<'de, D: Deserializer<'de>>(de: D) -> Result<Option<String>, D::Error> {
    struct PortVisitor;
    impl Visitor<'_> for PortVisitor {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a port number")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            u16::try_from(v)
                .map(|p| Some(p.to_string()))
                .map_err(|_| E::custom(format!("{v} is not a port number (1-65535)")))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Err(E::custom(format!("{v} is not a port number (1-65535)")))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
    }
    de.deserialize_any(PortVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::settings::testing::{failure, parse};

    #[test]
    fn an_unset_database_variable_waits_for_a_command_that_connects() {
        let env = parse("lock_timeout: 1s\ndatabase_url: postgresql://u:${NOPE}@h/db\n").unwrap();
        let Some(DatabaseSetting::Unresolved { message, hint }) = &env.database else {
            panic!("{:?}", env.database)
        };
        assert!(
            message.ends_with("local.yaml:2: `database_url` uses ${NOPE}, which is not set"),
            "{message}"
        );
        assert!(hint.contains("export NOPE="), "{hint}");
        let env = parse("database:\n  database: app\n  password: ${NOPE}\n").unwrap();
        assert!(matches!(
            env.database,
            Some(DatabaseSetting::Unresolved { .. })
        ));
        // Other mistakes in the database setting still fail the file.
        let f = failure("database:\n  host: ${DB_PASSWORD}\n  port: x\n  database: app\n");
        assert!(
            f.message.contains("`x` is not a port number"),
            "{}",
            f.message
        );
    }

    #[test]
    fn both_database_forms_are_refused() {
        let f = failure("database_url: postgresql://h/db\ndatabase:\n  database: db\n");
        assert!(f.message.contains("both"));
    }
}
