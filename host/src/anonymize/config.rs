//! `db/sync/anonymization.yaml`, in the upstream Confiture shape:
//!
//! ```yaml
//! strategies:            # optional: named strategies = a built-in + params
//!   corporate_email: {strategy: email, params: {domain: corp.example}}
//! tables:                # or the tables straight at the top level
//!   users:
//!     - {column: email, strategy: corporate_email}
//!     - {column: phone, strategy: phone, params: {keep_last: 2}}
//!     - {column: ssn, strategy: redact, seed: 42}
//!   billing.invoices:    # schema-qualified; unqualified means public
//!     - {column: card, strategy: credit_card, unique: true}
//! ```
//!
//! Every error names the file and line. Strategy names are checked later, by
//! [`Registry::resolve`](super::Registry::resolve), which knows the plugins too.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_yaml_ng::Value;

use super::params::{Params, describe};

/// The parsed file.
#[derive(Debug, Clone)]
pub struct AnonymizationConfig {
    /// Where it was read from (shown in every error).
    pub path: PathBuf,
    /// The `strategies:` section, by name.
    pub strategies: BTreeMap<String, NamedStrategy>,
    /// The tables, in file order.
    pub tables: Vec<TableRules>,
}

/// A named strategy from the `strategies:` section: a strategy plus params.
#[derive(Debug, Clone)]
pub struct NamedStrategy {
    /// The strategy it builds on (a built-in or a plugin's).
    pub strategy: String,
    /// Its params; a column's own params override them one by one.
    pub params: Params,
    /// Line of its definition (1-based).
    pub line: usize,
}

/// The rules for one table.
#[derive(Debug, Clone)]
pub struct TableRules {
    /// Schema (`public` when the file gives none).
    pub schema: String,
    /// Table name.
    pub table: String,
    /// The column rules, in file order.
    pub columns: Vec<ColumnRule>,
    /// Line of the table's key (1-based).
    pub line: usize,
}

/// How one column is anonymized.
#[derive(Debug, Clone)]
pub struct ColumnRule {
    /// Column name.
    pub column: String,
    /// Strategy name: a built-in, a named strategy or a plugin's.
    pub strategy: String,
    /// The strategy's params.
    pub params: Params,
    /// Mixed into the key so this column's outputs are unrelated to other columns'.
    pub seed: Option<String>,
    /// True to use a bijective variant so distinct values stay distinct.
    pub unique: bool,
    /// Remember up to this many input → output pairs (`cache: N`), for expensive
    /// deterministic strategies.
    pub cache: Option<usize>,
    /// Line of the rule (1-based).
    pub line: usize,
}

impl AnonymizationConfig {
    /// Reads and parses the file at `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read {} (it lists which columns `confiture sync` anonymizes)",
                path.display()
            )
        })?;
        Self::parse(&text, path)
    }

    /// Parses `text`, read from `path` (used in messages).
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let raw: RawFile = serde_yaml_ng::from_str(text).map_err(|error| {
            let message = error.to_string();
            let (line, message) = match error.location() {
                Some(at) => {
                    let suffix = format!(" at line {} column {}", at.line(), at.column());
                    (
                        at.line(),
                        message
                            .strip_suffix(&suffix)
                            .unwrap_or(&message)
                            .to_string(),
                    )
                }
                None => (1, message),
            };
            anyhow::anyhow!(
                "{}:{line}: {message} (the file lists tables, each a list of \
                 `{{column: ..., strategy: ..., params: {{...}}}}`)",
                path.display()
            )
        })?;
        let locate = |steps: &[Step<'_>]| line_of(text, steps).unwrap_or(1);

        let defined: Vec<String> = raw.strategies.iter().map(|(n, _)| n.clone()).collect();
        let mut strategies = BTreeMap::new();
        for (name, named) in raw.strategies {
            let line = locate(&[Step::Key("strategies"), Step::Key(&name)]);
            let (strategy, params) = upstream_alias(named.strategy, named.params).map_err(|e| {
                anyhow::anyhow!("{}:{line}: strategies.{name}: {e}", path.display())
            })?;
            strategies.insert(
                name,
                NamedStrategy {
                    strategy,
                    params,
                    line,
                },
            );
        }

        let mut tables: Vec<TableRules> = Vec::new();
        for (section, key, rules) in raw.tables {
            let prefix: Vec<Step<'_>> = section
                .into_iter()
                .map(Step::Key)
                .chain([Step::Key(&key)])
                .collect();
            let at = |extra: Option<usize>| {
                let mut steps = prefix.clone();
                steps.extend(extra.map(Step::Index));
                format!("{}:{}", path.display(), locate(&steps))
            };
            let (schema, table) = match key.split('.').collect::<Vec<_>>().as_slice() {
                [table] if !table.is_empty() => ("public".to_string(), table.to_string()),
                [schema, table] if !schema.is_empty() && !table.is_empty() => {
                    (schema.to_string(), table.to_string())
                }
                _ => bail!(
                    "{}: table `{key}` is not `table` or `schema.table`",
                    at(None)
                ),
            };
            if let Some(first) = tables
                .iter()
                .find(|t| t.schema == schema && t.table == table)
            {
                bail!(
                    "{}: table {schema}.{table} is listed twice (first at line {}); merge the two lists",
                    at(None),
                    first.line
                );
            }
            let mut columns: Vec<ColumnRule> = Vec::new();
            for (index, rule) in rules.into_iter().enumerate() {
                let line = locate(&[&prefix[..], &[Step::Index(index)]].concat());
                if let Some(first) = columns.iter().find(|c| c.column == rule.column) {
                    bail!(
                        "{}:{line}: column {schema}.{table}.{} has two rules (first at line {}); keep one",
                        path.display(),
                        rule.column,
                        first.line
                    );
                }
                let (strategy, params) = if defined.contains(&rule.strategy) {
                    (rule.strategy, rule.params)
                } else {
                    upstream_alias(rule.strategy, rule.params).map_err(|e| {
                        anyhow::anyhow!(
                            "{}:{line}: {schema}.{table}.{}: {e}",
                            path.display(),
                            rule.column
                        )
                    })?
                };
                columns.push(ColumnRule {
                    column: rule.column,
                    strategy,
                    params,
                    seed: rule.seed.map(|Seed(seed)| seed),
                    unique: rule.unique,
                    cache: rule.cache,
                    line,
                });
            }
            tables.push(TableRules {
                schema,
                table,
                columns,
                line: locate(&prefix),
            });
        }
        Ok(AnonymizationConfig {
            path: path.to_path_buf(),
            strategies,
            tables,
        })
    }

    /// `path:line`, for messages.
    pub fn location(&self, line: usize) -> String {
        format!("{}:{line}", self.path.display())
    }
}

/// The upstream Python Confiture's strategy names that are not Confiture built-ins, each with
/// the built-in it stands for, its params renamed to the built-in's (`(upstream, ours)`), the
/// values the built-in must get where upstream's default differs (`(param, value)`), and the
/// upstream params that have no equivalent (refused, not ignored: they change the output).
/// The strategies guide maps each name (docs/guides/custom-anonymization-strategies.md).
struct UpstreamAlias {
    upstream: &'static str,
    builtin: &'static str,
    renames: &'static [(&'static str, &'static str)],
    defaults: &'static [(&'static str, u64)],
    unsupported: &'static [&'static str],
}

const UPSTREAM_ALIASES: &[UpstreamAlias] = &[
    UpstreamAlias {
        upstream: "name",
        builtin: "full_name",
        renames: &[],
        defaults: &[],
        unsupported: &["format_type", "preserve_initial", "case_preserving"],
    },
    UpstreamAlias {
        upstream: "date",
        builtin: "date_shift",
        renames: &[("jitter_days", "max_days")],
        defaults: &[],
        unsupported: &["preserve", "output_format"],
    },
    UpstreamAlias {
        upstream: "address",
        builtin: "redact",
        renames: &[],
        defaults: &[],
        unsupported: &["preserve_fields", "redact_street", "format"],
    },
    UpstreamAlias {
        upstream: "ip_address",
        builtin: "ip",
        renames: &[],
        defaults: &[],
        unsupported: &["preserve_subnet", "anonymize_localhost"],
    },
    UpstreamAlias {
        upstream: "text_redaction",
        builtin: "redact",
        renames: &[("replacement", "with")],
        defaults: &[],
        unsupported: &["patterns", "case_insensitive", "preserve_length"],
    },
    UpstreamAlias {
        upstream: "salted_hashing",
        builtin: "hash",
        renames: &[],
        defaults: &[],
        unsupported: &["algorithm", "salt", "salt_env_var", "prefix", "use_hmac"],
    },
    UpstreamAlias {
        upstream: "masking_retention",
        builtin: "partial_mask",
        renames: &[
            ("preserve_start_chars", "keep_first"),
            ("preserve_end_chars", "keep_last"),
        ],
        defaults: &[("keep_last", 0)],
        unsupported: &["preserve_pattern", "mask_percentage", "preserve_delimiters"],
    },
    UpstreamAlias {
        upstream: "differential_privacy",
        builtin: "numeric_noise",
        renames: &[],
        defaults: &[],
        unsupported: &[
            "epsilon",
            "delta",
            "mechanism",
            "data_type",
            "sensitivity",
            "budget_total",
            "budget_per_value",
        ],
    },
];

/// Upstream names for params of built-ins that share upstream's strategy name.
const UPSTREAM_PARAM_RENAMES: &[(&str, &str, &str)] = &[("redact", "replacement", "with")];

/// `strategy` and `params` as Confiture reads them: an upstream strategy name becomes the
/// built-in it stands for, upstream param names become the built-in's. Upstream's Python
/// callables (`custom`, `custom_lambda`) and upstream params without an equivalent are errors.
fn upstream_alias(strategy: String, mut params: Params) -> Result<(String, Params)> {
    if matches!(strategy.as_str(), "custom" | "custom_lambda") {
        bail!(
            "upstream's `{strategy}` strategy runs a Python function; write it as a strategy \
             plugin (`confiture plugins new NAME --kind strategy --lang python`) and name it here"
        );
    }
    for (builtin, from, to) in UPSTREAM_PARAM_RENAMES {
        if strategy == *builtin
            && let Some(value) = params.remove(*from)
        {
            params.insert(to.to_string(), value);
        }
    }
    let Some(alias) = UPSTREAM_ALIASES.iter().find(|a| a.upstream == strategy) else {
        return Ok((strategy, params));
    };
    if let Some(param) = alias.unsupported.iter().find(|p| params.contains_key(**p)) {
        bail!(
            "param `{param}` of upstream's `{}` strategy has no equivalent in Confiture's `{}`, \
             which the name stands for; remove it (see \
             docs/guides/custom-anonymization-strategies.md#upstream-strategy-names)",
            alias.upstream,
            alias.builtin
        );
    }
    for (from, to) in alias.renames {
        if let Some(value) = params.remove(*from) {
            params.insert(to.to_string(), value);
        }
    }
    for (param, value) in alias.defaults {
        params
            .entry(param.to_string())
            .or_insert_with(|| Value::Number((*value).into()));
    }
    Ok((alias.builtin.to_string(), params))
}

/// The file as written: named strategies, then tables as (`tables` section or top level,
/// key, rules).
struct RawFile {
    strategies: Vec<(String, RawNamed)>,
    tables: Vec<(Option<&'static str>, String, Vec<RawRule>)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNamed {
    strategy: String,
    #[serde(default)]
    params: Params,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    column: String,
    strategy: String,
    #[serde(default)]
    params: Params,
    #[serde(default)]
    seed: Option<Seed>,
    #[serde(default)]
    unique: bool,
    #[serde(default)]
    cache: Option<usize>,
}

/// A `seed:` (a number or a string), kept as text.
struct Seed(String);

impl<'de> Deserialize<'de> for Seed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(text) => Ok(Seed(text)),
            Value::Number(number) => Ok(Seed(number.to_string())),
            other => Err(de::Error::custom(format!(
                "`seed` must be a number or a string, not {}",
                describe(&other)
            ))),
        }
    }
}

/// A YAML map read in file order.
struct Ordered<T>(Vec<(String, T)>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for OrderedVisitor<T> {
            type Value = Ordered<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered<T>, A::Error> {
                let mut entries: Vec<(String, T)> = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if entries.iter().any(|(k, _)| *k == key) {
                        return Err(de::Error::custom(format!("`{key}` appears twice")));
                    }
                    entries.push((key, map.next_value()?));
                }
                Ok(Ordered(entries))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Ordered<T>, E> {
                Ok(Ordered(Vec::new()))
            }
        }
        deserializer.deserialize_map(OrderedVisitor(std::marker::PhantomData))
    }
}

impl<'de> Deserialize<'de> for RawFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FileVisitor;
        impl<'de> Visitor<'de> for FileVisitor {
            type Value = RawFile;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of `strategies:`, `tables:` or table names")
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawFile, E> {
                Ok(RawFile {
                    strategies: Vec::new(),
                    tables: Vec::new(),
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawFile, A::Error> {
                let mut file = self.visit_unit::<A::Error>()?;
                let mut seen: Vec<String> = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if seen.contains(&key) {
                        return Err(de::Error::custom(format!("`{key}` appears twice")));
                    }
                    seen.push(key.clone());
                    match key.as_str() {
                        "strategies" => file.strategies = map.next_value::<Ordered<RawNamed>>()?.0,
                        "tables" => file.tables.extend(
                            map.next_value::<Ordered<Vec<RawRule>>>()?
                                .0
                                .into_iter()
                                .map(|(table, rules)| (Some("tables"), table, rules)),
                        ),
                        _ => {
                            let rules = map.next_value::<Vec<RawRule>>()?;
                            file.tables.push((None, key, rules));
                        }
                    }
                }
                Ok(file)
            }
        }
        deserializer.deserialize_map(FileVisitor)
    }
}

/// One step of a path into the document.
#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The 1-based line where the node at `steps` starts. serde_yaml_ng only reports positions
/// on errors, so this re-reads the document and fails on purpose at that node.
fn line_of(text: &str, steps: &[Step<'_>]) -> Option<usize> {
    let error = Seek(steps)
        .deserialize(serde_yaml_ng::Deserializer::from_str(text))
        .err()?;
    (error.to_string().contains(FOUND)).then(|| error.location().map(|at| at.line()))?
}

const FOUND: &str = "confiture: node found";

struct Seek<'s, 'a>(&'s [Step<'a>]);

impl<'de> DeserializeSeed<'de> for Seek<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seek<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any node")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((Step::Key(wanted), rest)) = self.0.split_first() else {
            return Err(de::Error::custom(FOUND));
        };
        let key = KeySeek {
            wanted,
            here: rest.is_empty(),
        };
        while let Some(hit) = map.next_key_seed(key)? {
            if hit {
                return map.next_value_seed(Seek(rest));
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((Step::Index(wanted), rest)) = self.0.split_first() else {
            return Err(de::Error::custom(FOUND));
        };
        for _ in 0..*wanted {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(Seek(rest)).map(|_| ())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(de::Error::custom(FOUND))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(de::Error::custom(FOUND))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(de::Error::custom(FOUND))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(de::Error::custom(FOUND))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(de::Error::custom(FOUND))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(de::Error::custom(FOUND))
    }
}

/// Reads a map key: true when it is `wanted`; fails with [`FOUND`] (at the key's position)
/// when it is and the path ends `here`.
#[derive(Clone, Copy)]
struct KeySeek<'a> {
    wanted: &'a str,
    here: bool,
}

impl<'de> DeserializeSeed<'de> for KeySeek<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        // The error must come from inside the visitor to carry the key's position.
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeySeek<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map key")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        match key == self.wanted {
            true if self.here => Err(de::Error::custom(FOUND)),
            matched => Ok(matched),
        }
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AnonymizationConfig> {
        AnonymizationConfig::parse(text, Path::new("db/sync/anonymization.yaml"))
    }

    const NESTED: &str = "\
strategies:
  corporate_email: {strategy: email, params: {domain: corp.example}}
tables:
  users:
    - {column: email, strategy: corporate_email}
    - {column: phone, strategy: phone, params: {keep_last: 2}}
    - column: ssn
      strategy: redact
      seed: 42
  billing.invoices:
    - {column: card, strategy: credit_card, unique: true}
";

    #[test]
    fn parses_the_nested_shape_with_lines() {
        let config = parse(NESTED).unwrap();
        let named = &config.strategies["corporate_email"];
        assert_eq!((named.strategy.as_str(), named.line), ("email", 2));
        assert_eq!(named.params["domain"], Value::String("corp.example".into()));
        let users = &config.tables[0];
        assert_eq!(
            (users.schema.as_str(), users.table.as_str(), users.line),
            ("public", "users", 4)
        );
        let lines: Vec<usize> = users.columns.iter().map(|c| c.line).collect();
        assert_eq!(lines, [5, 6, 7]);
        assert_eq!(
            users.columns[1].params["keep_last"],
            Value::Number(2.into())
        );
        assert_eq!(users.columns[2].seed.as_deref(), Some("42"));
        let invoices = &config.tables[1];
        assert_eq!(
            (invoices.schema.as_str(), invoices.table.as_str()),
            ("billing", "invoices")
        );
        assert!(invoices.columns[0].unique);
        assert_eq!(invoices.columns[0].line, 11);
        assert_eq!(config.location(11), "db/sync/anonymization.yaml:11");
    }

    #[test]
    fn parses_tables_at_the_top_level() {
        let config = parse(
            "# comment\nusers:\n  - {column: email, strategy: email, seed: abc}\n\
             audit.log:\n  - {column: ip, strategy: ip}\n",
        )
        .unwrap();
        assert_eq!(config.tables.len(), 2);
        assert_eq!(config.tables[0].columns[0].line, 3);
        assert_eq!(config.tables[0].columns[0].seed.as_deref(), Some("abc"));
        assert_eq!(config.tables[1].schema, "audit");
        assert_eq!(config.tables[1].columns[0].line, 5);
        assert!(parse("").unwrap().tables.is_empty());
    }

    #[test]
    fn structural_errors_name_file_and_line() {
        let error = parse("tables:\n  users:\n    - {column: email}\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("db/sync/anonymization.yaml:3:"),
            "{error}"
        );
        assert!(error.contains("missing field `strategy`"), "{error}");

        let error =
            parse("users:\n  - {column: a, strategy: email}\n  - {colum: b, strategy: email}\n")
                .unwrap_err()
                .to_string();
        assert!(
            error.starts_with("db/sync/anonymization.yaml:3:"),
            "{error}"
        );
        assert!(error.contains("unknown field `colum`"), "{error}");

        let error = parse("users:\n  - {column: a, strategy: email, unique: maybe}\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains(":2:") && error.contains("unique"), "{error}");

        let error = parse("users:\n  - {column: a, strategy: email, seed: [1]}\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(":2:") && error.contains("`seed` must be"),
            "{error}"
        );

        let error = parse("users: email\n").unwrap_err().to_string();
        assert!(error.contains(":1:"), "{error}");

        let error = parse("users:\n  - {column: a, strategy: email\n")
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("db/sync/anonymization.yaml:"), "{error}");
    }

    #[test]
    fn semantic_errors_name_file_and_line() {
        let error = parse(
            "users:\n  - {column: a, strategy: email}\nx.y.z:\n  - {column: a, strategy: email}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.starts_with("db/sync/anonymization.yaml:3:") && error.contains("x.y.z"),
            "{error}"
        );

        let error =
            parse("users:\n  - {column: a, strategy: email}\n  - {column: a, strategy: hash}\n")
                .unwrap_err()
                .to_string();
        assert!(
            error.starts_with("db/sync/anonymization.yaml:3:") && error.contains("first at line 2"),
            "{error}"
        );

        let error = parse("users:\n  - {column: a, strategy: email}\ntables:\n  public.users:\n    - {column: b, strategy: email}\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(":4:") && error.contains("listed twice"),
            "{error}"
        );
    }

    #[test]
    fn upstream_strategy_names_are_aliases_of_built_ins() {
        let config = parse(
            "strategies:\n  masked: {strategy: masking_retention, params: {preserve_end_chars: 3}}\n\
             users:\n  - {column: name, strategy: name, seed: 7}\n\
             \x20 - {column: born, strategy: date, params: {jitter_days: 10}}\n\
             \x20 - {column: ip, strategy: ip_address}\n\
             \x20 - {column: notes, strategy: text_redaction, params: {replacement: '[gone]'}}\n\
             \x20 - {column: street, strategy: address}\n\
             \x20 - {column: token, strategy: salted_hashing, params: {length: 12}}\n\
             \x20 - {column: card, strategy: masking_retention}\n\
             \x20 - {column: salary, strategy: differential_privacy}\n\
             \x20 - {column: pin, strategy: masked}\n\
             \x20 - {column: bio, strategy: redact, params: {replacement: x}}\n",
        )
        .unwrap();
        let rules: Vec<(String, String)> = config.tables[0]
            .columns
            .iter()
            .map(|c| {
                let params: Vec<String> = c
                    .params
                    .iter()
                    .map(|(k, v)| format!("{k}={}", serde_yaml_ng::to_string(v).unwrap().trim()))
                    .collect();
                (c.strategy.clone(), params.join(","))
            })
            .collect();
        let expected: Vec<(String, String)> = [
            ("full_name", ""),
            ("date_shift", "max_days=10"),
            ("ip", ""),
            ("redact", "with='[gone]'"),
            ("redact", ""),
            ("hash", "length=12"),
            ("partial_mask", "keep_last=0"),
            ("numeric_noise", ""),
            ("masked", ""),
            ("redact", "with=x"),
        ]
        .iter()
        .map(|(s, p)| (s.to_string(), p.to_string()))
        .collect();
        assert_eq!(rules, expected);
        let named = &config.strategies["masked"];
        assert_eq!(named.strategy, "partial_mask");
        assert_eq!(named.params["keep_last"], Value::Number(3.into()));
        assert_eq!(config.tables[0].columns[0].seed.as_deref(), Some("7"));
    }

    #[test]
    fn a_defined_strategy_wins_over_an_upstream_name() {
        let config = parse(
            "strategies:\n  date: {strategy: redact}\nusers:\n  - {column: d, strategy: date}\n",
        )
        .unwrap();
        assert_eq!(config.tables[0].columns[0].strategy, "date");
        assert_eq!(config.strategies["date"].strategy, "redact");
    }

    #[test]
    fn upstream_params_without_an_equivalent_and_python_callables_are_refused() {
        let error = parse("users:\n  - {column: d, strategy: date, params: {preserve: year}}\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("db/sync/anonymization.yaml:2: public.users.d: param `preserve`")
                && error.contains("`date_shift`"),
            "{error}"
        );
        let error = parse("strategies:\n  x: {strategy: custom_lambda}\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(":2: strategies.x:") && error.contains("plugins new"),
            "{error}"
        );
    }

    #[test]
    fn missing_file_says_what_it_is() {
        let error =
            AnonymizationConfig::load(Path::new("/nonexistent/anonymization.yaml")).unwrap_err();
        assert!(error.to_string().contains("which columns"), "{error}");
    }
}
