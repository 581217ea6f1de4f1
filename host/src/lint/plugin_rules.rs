//! WASM lint rules: every rule a lint plugin declares becomes a [`Rule`] in the registry, so its
//! findings take the same severity, suppression, exclusion and output path as the built-ins.
//! A plugin is called once per run for all of its rules. Lint plugins fail closed: when the
//! plugin traps, times out, runs out of memory or answers garbage, each of its rules reports
//! that it did not run as a finding at the rule's own severity, so a critical rule's failure
//! fails the run as its finding would have (a change cannot switch a rule off by making its
//! plugin fail).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use super::registry::Registry;
use super::rule::{Category, LintContext, Rule, Severity, Violation};
use crate::context::Globals;
use crate::error::Failure;
use crate::plugins::lint as wit;
use crate::plugins::{Kind, Plugin, PluginSources, run_lint};
use crate::project::Project;
use crate::sql::{self, Location};

/// Loads the lint plugins of the project's plugins directory, of `--plugin`, and of every
/// `--rules PATH` (a component or a directory of them) into `registry`. Starts no WebAssembly
/// engine when there is no component at all.
pub fn load(
    g: &Globals,
    project: &Project,
    rules_paths: &[PathBuf],
    registry: &mut Registry,
) -> anyhow::Result<()> {
    let mut extra = g.plugin_files.clone();
    for path in rules_paths {
        extra.extend(components_at(path)?);
    }
    let sources = PluginSources::from_project(project, &extra);
    if sources.discover()?.is_empty() {
        return Ok(());
    }
    let set = crate::plugins::run::load(g, &sources)?;
    for plugin in set.of_kind(Kind::Lint) {
        let call = Arc::new(PluginCall {
            plugin: plugin.clone(),
            result: OnceLock::new(),
        });
        for info in &plugin.info.rules {
            let rule = PluginRule::new(&call, info)?;
            registry.add(Box::new(rule)).map_err(|clash| {
                Failure::config(format!("plugin {} ({}): {clash}", plugin.name(), plugin.shown))
                    .hint("rule ids must be unique across built-in and plugin rules; rename the plugin's rule")
            })?;
        }
    }
    Ok(())
}

/// `path` itself when it is a file, else the `*.wasm` files directly inside it.
fn components_at(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path).map_err(|e| {
        Failure::config(format!("--rules {}: {e}", path.display()))
            .hint("give a lint plugin (.wasm) or a directory of them")
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    files.sort();
    Ok(files)
}

/// One plugin's `check` call, made once and shared by its rules.
struct PluginCall {
    plugin: Arc<Plugin>,
    result: OnceLock<Result<Vec<Violation>, String>>,
}

impl PluginCall {
    fn violations(&self, ctx: &LintContext<'_>) -> &Result<Vec<Violation>, String> {
        self.result.get_or_init(|| {
            let context = wit_context(ctx, &self.plugin);
            run_lint(&self.plugin, &context)
                .map(|found| found.into_iter().map(from_wit).collect())
                .map_err(|err| err.to_string())
        })
    }
}

/// One rule of a plugin.
struct PluginRule {
    call: Arc<PluginCall>,
    id: String,
    category: Category,
    severity: Severity,
    description: String,
}

impl PluginRule {
    fn new(
        call: &Arc<PluginCall>,
        info: &crate::plugins::metadata::RuleInfo,
    ) -> anyhow::Result<Self> {
        let plugin = &call.plugin;
        let category = Category::parse(&info.category).ok_or_else(|| {
            let names: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
            Failure::config(format!(
                "plugin {} ({}): rule `{}` has unknown category `{}`",
                plugin.name(),
                plugin.shown,
                info.id,
                info.category
            ))
            .hint(format!("declare one of: {}", names.join(", ")))
        })?;
        Ok(PluginRule {
            call: call.clone(),
            id: info.id.clone(),
            category,
            severity: info.default_severity,
            description: info.description.clone(),
        })
    }
}

impl Rule for PluginRule {
    fn id(&self) -> &str {
        &self.id
    }

    fn category(&self) -> Category {
        self.category
    }

    fn default_severity(&self) -> Severity {
        self.severity
    }

    fn description(&self) -> &str {
        &self.description
    }

    fn check(&self, ctx: &LintContext<'_>) -> Vec<Violation> {
        match self.call.violations(ctx) {
            Ok(found) => found
                .iter()
                .filter(|v| v.rule_id == self.id)
                .cloned()
                .collect(),
            Err(err) => vec![Violation {
                rule_id: self.id.clone(),
                severity: self.severity,
                message: format!(
                    "rule {} of plugin {} did not run: {err}",
                    self.id,
                    self.call.plugin.name()
                ),
                location: None,
                suggestion: Some(format!(
                    "fix or disable the plugin ({}), or raise its `timeout_ms`",
                    self.call.plugin.shown
                )),
                fix: None,
            }],
        }
    }
}

/// The schema model and statements as the WIT `lint-context`.
fn wit_context(ctx: &LintContext<'_>, plugin: &Plugin) -> crate::plugins::LintContext {
    crate::plugins::LintContext {
        tables: ctx.model.tables.iter().map(wit_table).collect(),
        indexes: ctx
            .model
            .indexes
            .iter()
            .map(|i| wit::Index {
                name: i.name.clone(),
                table: i.table.clone(),
                columns: i.columns.clone(),
                unique: i.unique,
                predicate: i.predicate.clone(),
                location: wit_location(&i.location),
            })
            .collect(),
        statements: ctx.statements().map(wit_statement).collect(),
        enabled_rules: plugin.info.rules.iter().map(|r| r.id.clone()).collect(),
    }
}

fn wit_table(t: &sql::Table) -> wit::Table {
    wit::Table {
        schema: t.schema.clone(),
        name: t.name.clone(),
        columns: t
            .columns
            .iter()
            .map(|c| wit::Column {
                name: c.name.clone(),
                type_name: c.type_name.clone(),
                nullable: c.nullable,
                default: c.default.clone(),
                comment: c.comment.clone(),
                location: wit_location(&c.location),
            })
            .collect(),
        primary_key: t.primary_key.clone(),
        unique_keys: t.unique_keys.clone(),
        foreign_keys: t
            .foreign_keys
            .iter()
            .map(|fk| wit::ForeignKey {
                name: fk.name.clone(),
                columns: fk.columns.clone(),
                referenced_table: fk.referenced_table.clone(),
                referenced_columns: fk.referenced_columns.clone(),
            })
            .collect(),
        checks: t.checks.clone(),
        comment: t.comment.clone(),
        location: wit_location(&t.location),
    }
}

fn wit_statement(s: &sql::Statement) -> wit::Statement {
    let parsed = s.kind != sql::StatementKind::Unparsed;
    wit::Statement {
        kind: if parsed {
            s.kind.as_str().to_string()
        } else {
            s.guessed_kind.clone().unwrap_or_else(|| "unparsed".into())
        },
        text: s.text.clone(),
        location: wit_location(&s.location),
        parsed,
        in_migration: s.in_migration,
        no_transaction: s.no_transaction,
    }
}

fn wit_location(l: &Location) -> wit::Location {
    wit::Location {
        file: l.file.clone(),
        line: l.line,
        column: l.column,
    }
}

fn from_wit(v: crate::plugins::Violation) -> Violation {
    Violation {
        rule_id: v.rule_id,
        severity: v.severity.into(),
        message: v.message,
        location: v.location.map(|l| Location {
            file: l.file,
            line: l.line,
            column: l.column,
        }),
        suggestion: v.suggestion,
        fix: v.fix,
    }
}
