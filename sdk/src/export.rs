//! The glue `export_plugin!` expands to: conversions between the generated bindings and the
//! SDK's types, and the calls into the author's traits. Hidden from the docs; not a stable API.

use crate::bindings::confiture::plugin::types;
use crate::bindings::exports::confiture::plugin::{hooks, lint, metadata, strategy};
use crate::{
    Capability, Database, Direction, Hook, HookContext, HookEvent, Lint, LintContext, Migration,
    PluginInfo, RuleInfo, Severity, Strategy, StrategyInfo, TextBatchView, lint as sdk_lint,
    strategy as sdk_strategy,
};

/// The generated bindings, for the macros.
pub use crate::bindings;
/// The runtime the generated bindings use.
pub use wit_bindgen;

/// Component types of each combination of kinds (see `build.rs`).
pub mod worlds {
    include!(concat!(env!("OUT_DIR"), "/worlds.rs"));
}

/// `describe`: the metadata of `info` in the contract's types.
pub fn describe(info: &PluginInfo) -> metadata::PluginInfo {
    let strings = |items: &[&str]| items.iter().map(|item| item.to_string()).collect();
    metadata::PluginInfo {
        name: info.name.to_string(),
        version: info.version.to_string(),
        description: info.description.to_string(),
        capabilities: info.capabilities.iter().map(|c| capability(*c)).collect(),
        hooks: info.hooks.iter().map(|event| hook_event(*event)).collect(),
        strategies: info
            .strategies
            .iter()
            .map(|s: &StrategyInfo| metadata::StrategyInfo {
                name: s.name.to_string(),
                description: s.description.to_string(),
                context_columns: strings(s.context_columns),
                accepted_types: strings(s.accepted_types),
                deterministic: s.deterministic,
            })
            .collect(),
        rules: info
            .rules
            .iter()
            .map(|r: &RuleInfo| metadata::RuleInfo {
                id: r.id.to_string(),
                category: r.category.to_string(),
                default_severity: severity_out(r.default_severity),
                description: r.description.to_string(),
            })
            .collect(),
    }
}

fn capability(capability: Capability) -> types::Capability {
    match capability {
        Capability::DbRead => types::Capability::DbRead,
        Capability::DbWrite => types::Capability::DbWrite,
    }
}

fn hook_event(event: HookEvent) -> types::HookEvent {
    match event {
        HookEvent::PreValidate => types::HookEvent::PreValidate,
        HookEvent::PostValidate => types::HookEvent::PostValidate,
        HookEvent::PreExecute => types::HookEvent::PreExecute,
        HookEvent::PostExecute => types::HookEvent::PostExecute,
        HookEvent::PostRollback => types::HookEvent::PostRollback,
        HookEvent::OnError => types::HookEvent::OnError,
    }
}

fn hook_event_in(event: types::HookEvent) -> HookEvent {
    match event {
        types::HookEvent::PreValidate => HookEvent::PreValidate,
        types::HookEvent::PostValidate => HookEvent::PostValidate,
        types::HookEvent::PreExecute => HookEvent::PreExecute,
        types::HookEvent::PostExecute => HookEvent::PostExecute,
        types::HookEvent::PostRollback => HookEvent::PostRollback,
        types::HookEvent::OnError => HookEvent::OnError,
    }
}

fn severity_out(severity: Severity) -> types::Severity {
    match severity {
        Severity::Info => types::Severity::Info,
        Severity::Warning => types::Severity::Warning,
        Severity::Critical => types::Severity::Critical,
    }
}

fn pairs(entries: Vec<types::KeyValue>) -> Vec<(String, String)> {
    entries.into_iter().map(|e| (e.key, e.value)).collect()
}

/// `handle`: converts the context and calls [`Hook::handle`].
pub fn handle<T: Hook>(plugin: &T, context: hooks::HookContext) -> Result<(), String> {
    plugin
        .handle(&hook_context(context), &Database::new())
        .map_err(crate::Error::into_message)
}

/// The SDK's view of a hook context.
pub fn hook_context(context: hooks::HookContext) -> HookContext {
    HookContext {
        event: hook_event_in(context.event),
        migration: context.migration.map(|m| Migration {
            version: m.version,
            name: m.name,
            checksum: m.checksum,
            direction: match m.direction {
                hooks::Direction::Up => Direction::Up,
                hooks::Direction::Down => Direction::Down,
            },
            path: m.path,
            sql: m.sql,
        }),
        environment: context.environment,
        status: context.status,
        duration_ms: context.duration_ms,
        error: context.error,
        metadata: pairs(context.metadata),
    }
}

fn view(batch: &strategy::TextBatch) -> Result<TextBatchView<'_>, crate::Error> {
    TextBatchView::new(&batch.data, &batch.offsets, &batch.nulls)
}

/// `anonymize`: views the packed batch in place, calls [`Strategy::anonymize`] and checks the
/// output has one value per input.
pub fn anonymize<T: Strategy>(
    plugin: &T,
    batch: strategy::Batch,
) -> Result<strategy::TextBatch, String> {
    let name = batch.strategy.as_str();
    let fail = |error: crate::Error| format!("strategy {name}: {error}");
    let column = sdk_strategy::Column {
        schema: batch.column.schema.clone(),
        table: batch.column.table.clone(),
        name: batch.column.name.clone(),
        type_name: batch.column.type_name.clone(),
    };
    let params: Vec<(String, String)> = batch
        .params
        .iter()
        .map(|kv| (kv.key.clone(), kv.value.clone()))
        .collect();
    let mut context = Vec::with_capacity(batch.context.len());
    for column in &batch.context {
        let values = view(&column.values).map_err(|e| {
            fail(crate::Error::new(format!(
                "context column {}: {e}",
                column.name
            )))
        })?;
        context.push((column.name.as_str(), values));
    }
    let values = view(&batch.values).map_err(fail)?;
    let sdk_batch = sdk_strategy::Batch {
        strategy: name,
        column: &column,
        params: &params,
        values,
        context,
    };
    let output = plugin.anonymize(&sdk_batch).map_err(fail)?;
    if output.len() != values.len() {
        return Err(fail(crate::Error::new(format!(
            "returned {} values for a batch of {}",
            output.len(),
            values.len()
        ))));
    }
    Ok(strategy::TextBatch {
        data: output.data,
        offsets: output.offsets,
        nulls: output.nulls,
    })
}

fn location(l: lint::Location) -> sdk_lint::Location {
    sdk_lint::Location {
        file: l.file,
        line: l.line,
        column: l.column,
    }
}

fn lint_context(context: lint::LintContext) -> LintContext {
    LintContext {
        tables: context
            .tables
            .into_iter()
            .map(|t| sdk_lint::Table {
                schema: t.schema,
                name: t.name,
                columns: t
                    .columns
                    .into_iter()
                    .map(|c| sdk_lint::Column {
                        name: c.name,
                        type_name: c.type_name,
                        nullable: c.nullable,
                        default: c.default,
                        comment: c.comment,
                        location: location(c.location),
                    })
                    .collect(),
                primary_key: t.primary_key,
                unique_keys: t.unique_keys,
                foreign_keys: t
                    .foreign_keys
                    .into_iter()
                    .map(|f| sdk_lint::ForeignKey {
                        name: f.name,
                        columns: f.columns,
                        referenced_table: f.referenced_table,
                        referenced_columns: f.referenced_columns,
                    })
                    .collect(),
                checks: t.checks,
                comment: t.comment,
                location: location(t.location),
            })
            .collect(),
        indexes: context
            .indexes
            .into_iter()
            .map(|i| sdk_lint::Index {
                name: i.name,
                table: i.table,
                columns: i.columns,
                unique: i.unique,
                predicate: i.predicate,
                location: location(i.location),
            })
            .collect(),
        statements: context
            .statements
            .into_iter()
            .map(|s| sdk_lint::Statement {
                kind: s.kind,
                text: s.text,
                location: location(s.location),
                parsed: s.parsed,
                in_migration: s.in_migration,
                no_transaction: s.no_transaction,
            })
            .collect(),
        enabled_rules: context.enabled_rules,
    }
}

/// `check`: converts the schema model and calls [`Lint::check`].
pub fn check<T: Lint>(plugin: &T, context: lint::LintContext) -> Vec<lint::Violation> {
    let location_out = |l: sdk_lint::Location| lint::Location {
        file: l.file,
        line: l.line,
        column: l.column,
    };
    plugin
        .check(&lint_context(context))
        .into_iter()
        .map(|v| lint::Violation {
            rule_id: v.rule_id,
            severity: severity_out(v.severity),
            message: v.message,
            location: v.location.map(location_out),
            suggestion: v.suggestion,
            fix: v.fix,
        })
        .collect()
}
