//! `first_name`, `last_name`, `full_name`: keyed picks from the built-in name lists.

use anyhow::Result;

use super::name_lists::{FIRST_NAMES, LAST_NAMES};
use crate::anonymize::column::ColumnType;
use crate::anonymize::keys::{pick, strategy_key, word};
use crate::anonymize::params::{ParamReader, Params};
use crate::anonymize::strategy::unsupported;
use crate::anonymize::writer::{fold_into, map_values};
use crate::anonymize::{KeyedHasher, Strategy, TextBatch};

/// Which part of a name a [`Names`] strategy writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamePart {
    /// A given name (`first_name`).
    First,
    /// A family name (`last_name`).
    Last,
    /// `Given Family` (`full_name`).
    Full,
}

impl NamePart {
    fn strategy_name(self) -> &'static str {
        match self {
            NamePart::First => "first_name",
            NamePart::Last => "last_name",
            NamePart::Full => "full_name",
        }
    }
}

/// Replaces each value with a name picked by its keyed HMAC (one HMAC per value), cut to the
/// column's length: the same input gives the same name everywhere. Like `email`, the key is the
/// value in lower case (`JANE DOE` and `Jane Doe` get the same name).
#[derive(Debug)]
pub struct Names {
    key: KeyedHasher,
    part: NamePart,
}

impl Names {
    /// Takes no params. Needs the secret.
    pub fn from_params(
        part: NamePart,
        params: &Params,
        hasher: Option<KeyedHasher>,
    ) -> Result<Self> {
        ParamReader::new(part.strategy_name(), params).finish()?;
        Ok(Names {
            key: strategy_key(part.strategy_name(), hasher)?,
            part,
        })
    }
}

impl Strategy for Names {
    fn name(&self) -> &str {
        self.part.strategy_name()
    }

    fn anonymize(&self, column: &ColumnType, values: &TextBatch) -> Result<TextBatch> {
        if !column.is_textual() {
            return Err(unsupported(self.name(), column, "text-like columns"));
        }
        let max = column.max_chars();
        let mut lowered = String::with_capacity(64);
        map_values(self.name(), values, |value, out| {
            fold_into(value, &mut lowered);
            let digest = self.key.hash(lowered.as_bytes());
            let first = FIRST_NAMES[pick(word(&digest, 0), FIRST_NAMES.len())];
            let last = LAST_NAMES[pick(word(&digest, 1), LAST_NAMES.len())];
            match self.part {
                NamePart::First => out.push_str(first),
                NamePart::Last => out.push_str(last),
                NamePart::Full => {
                    out.push_str(first);
                    out.push(' ');
                    out.push_str(last);
                }
            }
            if let Some(max) = max {
                out.truncate_chars(max);
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::anonymize::testing::{assert_keyed, build, run};

    #[test]
    fn lists_are_large_and_distinct() {
        for list in [FIRST_NAMES, LAST_NAMES] {
            assert!(list.len() >= 250, "{}", list.len());
            let unique: HashSet<_> = list.iter().collect();
            assert_eq!(unique.len(), list.len(), "duplicates in a name list");
            assert!(list.iter().all(|n| !n.is_empty() && n.trim() == *n));
        }
    }

    #[test]
    fn picks_names_deterministically() {
        let values = [Some("Jane Doe"), None, Some("John Roe"), Some("Jane Doe")];
        for name in ["first_name", "last_name", "full_name"] {
            assert_keyed(name, "{}", "text", &values);
            let out = run(&*build(name, "{}", "s"), "character varying(6)", &values);
            assert_eq!(out[0], out[3]);
            assert!(out[0].as_ref().unwrap().chars().count() <= 6);
        }
        let shouted = run(&*build("full_name", "{}", "s"), "text", &[Some("JANE DOE")]);
        assert_eq!(
            shouted[0],
            run(&*build("full_name", "{}", "s"), "text", &values)[0],
            "case is ignored, as by email"
        );
        let full = run(&*build("full_name", "{}", "s"), "text", &values);
        let (first, last) = full[0].as_ref().unwrap().split_once(' ').unwrap();
        assert!(FIRST_NAMES.contains(&first));
        assert!(LAST_NAMES.contains(&last) || LAST_NAMES.iter().any(|l| l.ends_with(last)));
    }

    #[test]
    fn spreads_over_the_list() {
        let inputs: Vec<String> = (0..5000).map(|i| format!("person {i}")).collect();
        let values: Vec<Option<&str>> = inputs.iter().map(|s| Some(s.as_str())).collect();
        let out = run(&*build("first_name", "{}", "s"), "text", &values);
        let distinct: HashSet<_> = out.iter().collect();
        assert!(distinct.len() > 250, "{}", distinct.len());
    }
}
