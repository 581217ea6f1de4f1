//! Strategy names to strategies: the built-ins, the `strategies:` section of the file, and
//! whatever the host registers (WebAssembly plugins' strategies).

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};

use super::builtin;
use super::cache::Cached;
use super::config::{AnonymizationConfig, ColumnRule, TableRules};
use super::keys::seeded;
use super::params::Params;
use super::{KeyedHasher, Strategy};

/// The column a strategy is built for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSite {
    /// Schema.
    pub schema: String,
    /// Table.
    pub table: String,
    /// Column.
    pub column: String,
}

/// Builds a strategy for one column from its params and the deployment hasher (already mixed
/// with the column's `seed`; `None` when no secret is set). Closures of that shape are
/// factories too.
pub trait StrategyFactory: Send + Sync {
    /// The strategy for the column at `site`.
    fn build(
        &self,
        site: &ColumnSite,
        params: &Params,
        hasher: Option<KeyedHasher>,
    ) -> Result<Arc<dyn Strategy>>;
}

impl<F> StrategyFactory for F
where
    F: Fn(&ColumnSite, &Params, Option<KeyedHasher>) -> Result<Arc<dyn Strategy>> + Send + Sync,
{
    fn build(
        &self,
        site: &ColumnSite,
        params: &Params,
        hasher: Option<KeyedHasher>,
    ) -> Result<Arc<dyn Strategy>> {
        self(site, params, hasher)
    }
}

/// One configured column and the strategy that fills it.
#[derive(Clone)]
pub struct ResolvedColumn {
    /// Schema.
    pub schema: String,
    /// Table.
    pub table: String,
    /// Column.
    pub column: String,
    /// The strategy, ready to run.
    pub strategy: Arc<dyn Strategy>,
    /// Everything in the file that decides the strategy's output for this column — the
    /// strategy it builds on, the merged params, seed, `unique` — as text (no secret in it):
    /// what a sync checkpoint compares.
    pub settings: String,
}

impl std::fmt::Debug for ResolvedColumn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}.{}.{} -> {}",
            self.schema,
            self.table,
            self.column,
            self.strategy.name()
        )
    }
}

/// Strategy names to strategies: built-ins plus registered ones.
#[derive(Default)]
pub struct Registry {
    registered: BTreeMap<String, Arc<dyn StrategyFactory>>,
}

impl Registry {
    /// A registry of the built-ins only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `factory` under `name` (e.g. a plugin's strategy). Fails when a built-in or
    /// an earlier registration has that name.
    pub fn register_factory(
        &mut self,
        name: &str,
        factory: Arc<dyn StrategyFactory>,
    ) -> Result<()> {
        if builtin::names().any(|builtin| builtin == name) {
            bail!("strategy `{name}` is a built-in; give the plugin's strategy another name");
        }
        if self.registered.contains_key(name) {
            bail!("strategy `{name}` is registered twice (two plugins provide it); rename one");
        }
        self.registered.insert(name.to_string(), factory);
        Ok(())
    }

    /// Registers a ready strategy under `name`; columns using it may give no params.
    pub fn register(&mut self, name: &str, strategy: Arc<dyn Strategy>) -> Result<()> {
        let owned = name.to_string();
        self.register_factory(
            name,
            Arc::new(
                move |_: &ColumnSite, params: &Params, _: Option<KeyedHasher>| {
                    if let Some(param) = params.keys().next() {
                        bail!("strategy `{owned}` takes no params, yet `{param}` is given");
                    }
                    Ok(strategy.clone())
                },
            ),
        )
    }

    /// Every strategy name: built-ins, then registered ones.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = builtin::names().collect();
        names.extend(self.registered.keys().map(String::as_str));
        names
    }

    /// Builds strategy `name` (built-in or registered); `None` when there is none.
    pub fn build(
        &self,
        name: &str,
        site: &ColumnSite,
        params: &Params,
        hasher: Option<KeyedHasher>,
    ) -> Option<Result<Arc<dyn Strategy>>> {
        builtin::build(name, params, hasher.clone()).or_else(|| {
            self.registered
                .get(name)
                .map(|factory| factory.build(site, params, hasher))
        })
    }

    /// Resolves every column rule of `config` to a strategy, checking strategy names and
    /// params. `hasher` is the deployment hasher (`None` without a secret: keyed strategies
    /// then fail, saying to set it). Errors name the column and `file:line`.
    pub fn resolve(
        &self,
        config: &AnonymizationConfig,
        hasher: Option<&KeyedHasher>,
    ) -> Result<Vec<ResolvedColumn>> {
        for (name, named) in &config.strategies {
            if self.build_check(&named.strategy).is_none() {
                bail!(
                    "unknown strategy `{}` for strategies.{name} ({}); known: {}",
                    named.strategy,
                    config.location(named.line),
                    self.names().join(", ")
                );
            }
        }
        let mut resolved = Vec::new();
        for table in &config.tables {
            for rule in &table.columns {
                let strategy = self
                    .resolve_rule(config, table, rule, hasher)
                    .with_context(|| {
                        format!(
                            "{}.{}.{} ({})",
                            table.schema,
                            table.table,
                            rule.column,
                            config.location(rule.line)
                        )
                    })?;
                resolved.push(ResolvedColumn {
                    schema: table.schema.clone(),
                    table: table.table.clone(),
                    column: rule.column.clone(),
                    strategy,
                    settings: settings(config, rule),
                });
            }
        }
        Ok(resolved)
    }

    fn build_check(&self, name: &str) -> Option<()> {
        (builtin::names().any(|b| b == name) || self.registered.contains_key(name)).then_some(())
    }

    fn resolve_rule(
        &self,
        config: &AnonymizationConfig,
        table: &TableRules,
        rule: &ColumnRule,
        hasher: Option<&KeyedHasher>,
    ) -> Result<Arc<dyn Strategy>> {
        let (base, params) = match config.strategies.get(&rule.strategy) {
            Some(named) => {
                let mut params = named.params.clone();
                params.extend(rule.params.clone());
                (named.strategy.as_str(), params)
            }
            None => (rule.strategy.as_str(), rule.params.clone()),
        };
        if self.build_check(base).is_none() {
            let mut known = self.names();
            known.extend(config.strategies.keys().map(String::as_str));
            known.sort_unstable();
            bail!(
                "unknown strategy `{}` for {}.{} ({}); known: {}",
                rule.strategy,
                table.table,
                rule.column,
                config.location(rule.line),
                known.join(", ")
            );
        }
        let hasher = hasher.map(|h| match &rule.seed {
            Some(seed) => seeded(h, seed),
            None => h.clone(),
        });
        let built = if rule.unique {
            builtin::unique(base, &params, hasher).unwrap_or_else(|| {
                Err(anyhow!(
                    "`unique: true` works with built-in strategies only; `{base}` is a plugin's \
                     (make the plugin's strategy bijective itself, or use `unique_preserving`)"
                ))
            })
        } else {
            let site = ColumnSite {
                schema: table.schema.clone(),
                table: table.table.clone(),
                column: rule.column.clone(),
            };
            self.build(base, &site, &params, hasher)
                .expect("the name was checked above")
        };
        let built = match rule.cache {
            Some(capacity) => built.and_then(|strategy| Cached::wrap(strategy, capacity)),
            None => built,
        };
        match config.strategies.get(&rule.strategy) {
            Some(named) => built.with_context(|| {
                format!(
                    "strategy `{}` defined at {}",
                    rule.strategy,
                    config.location(named.line)
                )
            }),
            None => built,
        }
    }
}

/// The rule's strategy, merged params, seed and `unique`, as text.
fn settings(config: &AnonymizationConfig, rule: &ColumnRule) -> String {
    let (base, mut params) = match config.strategies.get(&rule.strategy) {
        Some(named) => (named.strategy.as_str(), named.params.clone()),
        None => (rule.strategy.as_str(), Params::new()),
    };
    params.extend(rule.params.clone());
    format!(
        "{base} {} seed={:?} unique={}",
        serde_json::to_string(&params).unwrap_or_default(),
        rule.seed,
        rule.unique
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::anonymize::TextBatch;
    use crate::anonymize::builtin::Preserve;
    use crate::anonymize::column::ColumnType;
    use crate::anonymize::testing::hasher;

    fn config(text: &str) -> AnonymizationConfig {
        AnonymizationConfig::parse(text, Path::new("anonymization.yaml")).unwrap()
    }

    fn run(column: &ResolvedColumn, type_name: &str, value: &str) -> String {
        let batch = TextBatch::from_values([Some(value)]);
        let out = column
            .strategy
            .anonymize(&ColumnType::parse(type_name), &batch)
            .unwrap();
        out.get(0).unwrap().to_string()
    }

    const FILE: &str = "\
strategies:
  corporate_email: {strategy: email, params: {domain: corp.example}}
tables:
  users:
    - {column: email, strategy: corporate_email}
    - {column: phone, strategy: phone, params: {keep_last: 2}}
    - {column: ssn, strategy: hash}
    - {column: ssn2, strategy: hash, seed: 42}
    - {column: alt_email, strategy: corporate_email, params: {domain: other.example}}
  billing.invoices:
    - {column: card, strategy: credit_card, unique: true}
";

    #[test]
    fn resolves_builtins_named_and_seeds() {
        let registry = Registry::new();
        let columns = registry
            .resolve(&config(FILE), hasher("s").as_ref())
            .unwrap();
        assert_eq!(columns.len(), 6);
        assert!(run(&columns[0], "text", "a@b.c").ends_with("@corp.example"));
        assert!(
            run(&columns[4], "text", "a@b.c").ends_with("@other.example"),
            "rule params override"
        );
        assert_eq!(run(&columns[1], "text", "555-1234")[6..], *"34");
        assert_ne!(
            run(&columns[2], "text", "x"),
            run(&columns[3], "text", "x"),
            "seed decorrelates"
        );
        assert_eq!(columns[5].strategy.name(), "unique_preserving");
        assert_eq!(
            (columns[5].schema.as_str(), columns[5].table.as_str()),
            ("billing", "invoices")
        );
    }

    #[test]
    fn unknown_strategies_name_column_file_line_and_choices() {
        let registry = Registry::new();
        let error = registry
            .resolve(&config("users:\n  - {column: a, strategy: hash}\n  - {column: email, strategy: emial}\n"), hasher("s").as_ref())
            .unwrap_err();
        let message = format!("{error:#}");
        assert!(
            message.contains("unknown strategy `emial` for users.email (anonymization.yaml:3)"),
            "{message}"
        );
        assert!(
            message.contains("known: ") && message.contains("email, first_name"),
            "{message}"
        );

        let error = registry
            .resolve(
                &config("strategies:\n  x: {strategy: nope}\nusers: []\n"),
                None,
            )
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("strategies.x (anonymization.yaml:2)"),
            "{error}"
        );
    }

    #[test]
    fn param_errors_and_missing_secret_name_the_rule() {
        let registry = Registry::new();
        let error = registry
            .resolve(
                &config("users:\n  - {column: phone, strategy: phone, params: {keep_lats: 2}}\n"),
                hasher("s").as_ref(),
            )
            .unwrap_err();
        let message = format!("{error:#}");
        assert!(
            message.contains("public.users.phone (anonymization.yaml:2)"),
            "{message}"
        );
        assert!(message.contains("no param `keep_lats`"), "{message}");

        let error = registry
            .resolve(
                &config("users:\n  - {column: phone, strategy: phone, params: {keep_last: two}}\n"),
                hasher("s").as_ref(),
            )
            .unwrap_err();
        assert!(
            format!("{error:#}").contains("param `keep_last` must be"),
            "{error:#}"
        );

        let error = registry
            .resolve(&config("strategies:\n  e: {strategy: email, params: {domain: 1}}\nusers:\n  - {column: a, strategy: e}\n"), hasher("s").as_ref())
            .unwrap_err();
        let message = format!("{error:#}");
        assert!(
            message.contains("defined at anonymization.yaml:2") && message.contains(":4)"),
            "{message}"
        );

        let error = registry.resolve(&config(FILE), None).unwrap_err();
        assert!(
            format!("{error:#}").contains("set ANONYMIZATION_SECRET"),
            "{error:#}"
        );
        registry
            .resolve(&config("users:\n  - {column: a, strategy: redact}\n"), None)
            .expect("unkeyed strategies need no secret");
    }

    #[test]
    fn registered_strategies_resolve_by_name() {
        let mut registry = Registry::new();
        registry.register("wasm_keep", Arc::new(Preserve)).unwrap();
        assert!(registry.register("email", Arc::new(Preserve)).is_err());
        assert!(registry.register("wasm_keep", Arc::new(Preserve)).is_err());
        assert!(registry.names().contains(&"wasm_keep"));
        let columns = registry
            .resolve(
                &config("users:\n  - {column: a, strategy: wasm_keep}\n"),
                None,
            )
            .unwrap();
        assert_eq!(run(&columns[0], "text", "kept"), "kept");
        let error = registry
            .resolve(
                &config("users:\n  - {column: a, strategy: wasm_keep, unique: true}\n"),
                None,
            )
            .unwrap_err();
        assert!(
            format!("{error:#}").contains("built-in strategies only"),
            "{error:#}"
        );
        let error = registry
            .resolve(
                &config("users:\n  - {column: a, strategy: wasm_keep, params: {x: 1}}\n"),
                None,
            )
            .unwrap_err();
        assert!(
            format!("{error:#}").contains("takes no params"),
            "{error:#}"
        );
    }
}
