//! The scalar forms the environment file accepts wherever a feature takes one: yes/no flags in
//! YAML 1.1's and PostgreSQL's words, durations with units, and any scalar kept as text.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::strings::parse_duration_ms;

/// A plugin setting as written: any YAML scalar, kept as text.
#[derive(Debug)]
pub(super) struct ConfigValue(pub(super) String);

impl<'de> Deserialize<'de> for ConfigValue {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl Visitor<'_> for ScalarVisitor {
            type Value = ConfigValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a text, number or boolean value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(ConfigValue(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(ConfigValue(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(ConfigValue(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(ConfigValue(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(ConfigValue(v.to_string()))
            }
        }
        de.deserialize_any(ScalarVisitor)
    }
}

/// Accepts a yes/no setting as YAML 1.2's `true`/`false` or as YAML 1.1's and PostgreSQL's
/// words `yes`/`no`, `on`/`off` (any case): `protected: yes` means what its author meant.
pub(super) fn flag<'de, D: Deserializer<'de>>(de: D) -> Result<Option<bool>, D::Error> {
    struct FlagVisitor;
    impl Visitor<'_> for FlagVisitor {
        type Value = Option<bool>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("true/false, yes/no or on/off")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            parse_flag(v).map(Some).ok_or_else(|| {
                E::custom(format!(
                    "`{v}` is not a yes/no value (use true/false, yes/no or on/off)"
                ))
            })
        }
    }
    de.deserialize_any(FlagVisitor)
}

/// `true`/`yes`/`on` and `false`/`no`/`off`, in any case.
fn parse_flag(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" => Some(true),
        "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Accepts a duration as milliseconds (a number) or a PostgreSQL-style string: `500ms`, `5s`,
/// `2min`, `1h`; `0` disables the timeout. At most
/// [`MAX_DURATION_MS`](crate::strings::MAX_DURATION_MS).
pub(super) fn duration_ms<'de, D: Deserializer<'de>>(de: D) -> Result<Option<u64>, D::Error> {
    struct DurationVisitor;
    impl Visitor<'_> for DurationVisitor {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a duration such as 5000, \"500ms\", \"5s\", \"2min\" or \"1h\"")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            parse_duration_ms(&v.to_string())
                .map(Some)
                .map_err(E::custom)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            let v = u64::try_from(v).map_err(|_| E::custom("a duration cannot be negative"))?;
            self.visit_u64(v)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            parse_duration_ms(v).map(Some).map_err(E::custom)
        }
    }
    de.deserialize_any(DurationVisitor)
}

#[cfg(test)]
mod tests {
    use crate::project::settings::testing::{failure, parse};

    #[test]
    fn yes_no_on_off_are_flags() {
        for (word, value) in [
            ("yes", true),
            ("on", true),
            ("true", true),
            ("YES", true),
            ("\"on\"", true),
            ("no", false),
            ("off", false),
            ("false", false),
            ("Off", false),
        ] {
            let env = parse(&format!(
                "protected: {word}\nrequire_confirmation: {word}\n"
            ))
            .unwrap_or_else(|e| panic!("{word}: {e:#}"));
            assert_eq!(
                (env.protected, env.require_confirmation),
                (value, value),
                "{word}"
            );
        }
        let f = failure("name: local\nprotected: maybe\n");
        assert!(
            f.message
                .contains("local.yaml:2:12: protected: `maybe` is not a yes/no value"),
            "{}",
            f.message
        );
    }

    #[test]
    fn durations_out_of_range_are_refused_at_load_naming_the_line() {
        for (yaml, written) in [
            ("lock_timeout: 3000000h", "3000000h"),
            ("statement_timeout: 2147483648", "2147483648"),
            (
                "migration:\n  locking:\n    timeout_ms: 5124095576031h",
                "5124095576031h",
            ),
        ] {
            let f = failure(&format!("name: local\n{yaml}\n"));
            assert_eq!(f.code, crate::error::ExitCode::Config);
            assert!(
                f.message.contains("local.yaml:")
                    && f.message.contains(&format!("`{written}` is out of range")),
                "{}",
                f.message
            );
        }
        let f = failure("name: local\nlock_timeout: 3000000h\n");
        assert!(f.message.contains("local.yaml:2:"), "{}", f.message);
        assert_eq!(
            parse("lock_timeout: 596h\n").unwrap().lock_timeout_ms,
            596 * 3_600_000
        );
    }
}
