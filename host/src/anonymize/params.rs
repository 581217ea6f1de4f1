//! Strategy parameters from anonymization.yaml, read with errors that name the param.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde_yaml_ng::Value;

/// A strategy's `params:` map as written in anonymization.yaml.
pub type Params = BTreeMap<String, Value>;

/// Reads one strategy's params by name and type; [`ParamReader::finish`] rejects the rest.
pub(crate) struct ParamReader<'a> {
    strategy: &'a str,
    params: &'a Params,
    known: Vec<&'static str>,
}

impl<'a> ParamReader<'a> {
    /// A reader for `strategy`'s `params`.
    pub(crate) fn new(strategy: &'a str, params: &'a Params) -> Self {
        Self {
            strategy,
            params,
            known: Vec::new(),
        }
    }

    fn get(&mut self, name: &'static str) -> Option<&'a Value> {
        self.known.push(name);
        self.params.get(name)
    }

    fn wrong(&self, name: &str, wanted: &str, value: &Value) -> anyhow::Error {
        anyhow::anyhow!(
            "strategy `{}`: param `{name}` must be {wanted}, not {}",
            self.strategy,
            describe(value)
        )
    }

    /// A string param.
    pub(crate) fn string(&mut self, name: &'static str) -> Result<Option<&'a str>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(self.wrong(name, "a string", other)),
        }
    }

    /// A boolean param.
    pub(crate) fn bool(&mut self, name: &'static str) -> Result<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(other) => Err(self.wrong(name, "true or false", other)),
        }
    }

    /// A whole-number param within `min..=max`.
    pub(crate) fn integer(
        &mut self,
        name: &'static str,
        min: u64,
        max: u64,
    ) -> Result<Option<u64>> {
        let wanted = format!("a whole number from {min} to {max}");
        match self.get(name) {
            None => Ok(None),
            Some(value @ Value::Number(number)) => match number.as_u64() {
                Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(self.wrong(name, &wanted, value)),
            },
            Some(other) => Err(self.wrong(name, &wanted, other)),
        }
    }

    /// A number param (whole or not) within `min..=max`.
    pub(crate) fn number(&mut self, name: &'static str, min: f64, max: f64) -> Result<Option<f64>> {
        let wanted = format!("a number from {min} to {max}");
        match self.get(name) {
            None => Ok(None),
            Some(value @ Value::Number(number)) => match number.as_f64() {
                Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(self.wrong(name, &wanted, value)),
            },
            Some(other) => Err(self.wrong(name, &wanted, other)),
        }
    }

    /// A param that must be exactly one character.
    pub(crate) fn char(&mut self, name: &'static str) -> Result<Option<char>> {
        let Some(text) = self.string(name)? else {
            return Ok(None);
        };
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Ok(Some(c)),
            _ => bail!(
                "strategy `{}`: param `{name}` must be exactly one character, not {} characters",
                self.strategy,
                text.chars().count()
            ),
        }
    }

    /// Fails on any param that no getter asked for, listing the ones that exist.
    pub(crate) fn finish(self) -> Result<()> {
        if let Some(unknown) = self
            .params
            .keys()
            .find(|key| !self.known.contains(&key.as_str()))
        {
            let known = if self.known.is_empty() {
                "it takes no params".to_string()
            } else {
                format!("its params: {}", self.known.join(", "))
            };
            bail!(
                "strategy `{}` has no param `{unknown}` ({known})",
                self.strategy
            );
        }
        Ok(())
    }
}

/// What kind of YAML value `value` is, for messages (never the value itself).
pub(crate) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a map",
        Value::Tagged(_) => "a tagged value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(yaml: &str) -> Params {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    #[test]
    fn reads_typed_params_and_rejects_unknown_ones() {
        let p = params("{domain: x.org, keep: 3, on: true, c: '#'}");
        let mut reader = ParamReader::new("demo", &p);
        assert_eq!(reader.string("domain").unwrap(), Some("x.org"));
        assert_eq!(reader.integer("keep", 0, 5).unwrap(), Some(3));
        assert_eq!(reader.bool("on").unwrap(), Some(true));
        assert_eq!(reader.char("c").unwrap(), Some('#'));
        assert_eq!(reader.string("missing").unwrap(), None);
        reader.finish().unwrap();

        let p = params("{domian: x.org}");
        let mut reader = ParamReader::new("email", &p);
        reader.string("domain").unwrap();
        let error = reader.finish().unwrap_err().to_string();
        assert!(error.contains("no param `domian`"), "{error}");
        assert!(error.contains("its params: domain"), "{error}");
    }

    #[test]
    fn wrong_types_name_the_param_not_the_value() {
        let p = params("{keep: secret-value, n: 99, c: ab}");
        let mut reader = ParamReader::new("demo", &p);
        let error = reader.integer("keep", 0, 5).unwrap_err().to_string();
        assert!(
            error.contains("param `keep`") && error.contains("a string"),
            "{error}"
        );
        assert!(!error.contains("secret-value"), "{error}");
        assert!(reader.integer("n", 0, 10).is_err());
        assert!(reader.char("c").is_err());
        assert!(reader.bool("keep").is_err());
    }
}
