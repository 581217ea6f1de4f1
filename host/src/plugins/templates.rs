//! The source files `confiture plugins new` writes: one small, working plugin per kind, in Rust
//! (on the SDK) and in Python (on componentize-py's bindings).

use crate::cli::PluginKindArg;

/// "migration hook", "anonymization strategy" or "lint rule".
pub fn kind_word(kind: PluginKindArg) -> &'static str {
    match kind {
        PluginKindArg::Hook => "migration hook",
        PluginKindArg::Strategy => "anonymization strategy",
        PluginKindArg::Lint => "lint rule",
    }
}

/// The contract world of a kind.
pub fn world(kind: PluginKindArg) -> &'static str {
    match kind {
        PluginKindArg::Hook => "hook-plugin",
        PluginKindArg::Strategy => "strategy-plugin",
        PluginKindArg::Lint => "lint-plugin",
    }
}

/// `email-mask-2` → `EmailMask2`.
pub fn type_name(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn description(kind: PluginKindArg) -> &'static str {
    match kind {
        PluginKindArg::Hook => "Logs every migration it sees",
        PluginKindArg::Strategy => "Replaces a value with its keyed hash",
        PluginKindArg::Lint => "Every table should have a comment",
    }
}

/// `src/lib.rs` of a Rust plugin.
pub fn rust_source(name: &str, kind: PluginKindArg) -> String {
    let ty = type_name(name);
    let ident = name.replace('-', "_");
    let head = format!(
        "/// The plugin.\n#[derive(Default)]\npub struct {ty};\n\nimpl Plugin for {ty} {{\n    \
         const NAME: &'static str = \"{name}\";\n    const VERSION: &'static str = \
         env!(\"CARGO_PKG_VERSION\");\n    const DESCRIPTION: &'static str = \"{}\";\n}}\n",
        description(kind)
    );
    let body = match kind {
        PluginKindArg::Strategy => RUST_STRATEGY,
        PluginKindArg::Hook => RUST_HOOK,
        PluginKindArg::Lint => RUST_LINT,
    };
    body.replace("{head}", &head)
        .replace("{ty}", &ty)
        .replace("{ident}", &ident)
}

const RUST_STRATEGY: &str = r##"//! Strategy `{ident}`: replaces each value with the first 16 hex digits of its keyed hash,
//! so equal values stay equal across tables and runs. NULL stays NULL.

use confiture_sdk::{
    Batch, Plugin, Result, Strategy, StrategyInfo, TextBatch, TextBatchBuilder, keyed_hash,
};

{head}
impl Strategy for {ty} {
    const STRATEGIES: &'static [StrategyInfo] = &[StrategyInfo {
        name: "{ident}",
        description: "16 hex digits of the keyed hash of the value",
        context_columns: &[],
        accepted_types: &["text", "character varying"],
        deterministic: true,
    }];

    fn anonymize(&self, batch: &Batch<'_>) -> Result<TextBatch> {
        let mut out = TextBatchBuilder::with_capacity(batch.values.len(), batch.values.len() * 16);
        for value in batch.values.iter() {
            match value {
                None => out.push_null(),
                Some(text) => {
                    let hash = keyed_hash(text.as_bytes())?;
                    let hex: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
                    out.push_str(&hex);
                }
            }
        }
        Ok(out.finish())
    }
}

confiture_sdk::export_plugin!({ty}: strategy);

#[cfg(test)]
mod tests {
    use super::*;
    use confiture_sdk::testing::{self, run_strategy};

    #[test]
    fn equal_values_stay_equal_and_null_stays_null() {
        testing::set_secret(b"test secret");
        let out = run_strategy::<{ty}>("{ident}", &[Some("a"), None, Some("a")]).unwrap();
        assert_eq!(out[0], out[2]);
        assert_eq!(out[1], None);
        assert_eq!(out[0].as_deref().map(str::len), Some(16));
    }
}
"##;

const RUST_HOOK: &str = r##"//! Hook: logs every migration after it ran. To query the database, ask for `db-read` with
//! `const CAPABILITIES` (and grant it in the environment file), then use `db`.

use confiture_sdk::{Database, Hook, HookContext, HookEvent, Plugin, Result};

{head}
impl Hook for {ty} {
    const EVENTS: &'static [HookEvent] = &[HookEvent::PostExecute];

    fn handle(&self, context: &HookContext, _db: &Database) -> Result<()> {
        if let Some(migration) = &context.migration {
            confiture_sdk::info!(
                "{}_{} ran on {}",
                migration.version,
                migration.name,
                context.environment
            );
        }
        Ok(())
    }
}

confiture_sdk::export_plugin!({ty}: hook);
"##;

const RUST_LINT: &str = r##"//! Lint rule `{ident}_table_comment`: every table has a `COMMENT ON TABLE`.

use confiture_sdk::{Lint, LintContext, Plugin, RuleInfo, Severity, Violation};

{head}
/// The rule.
pub const TABLE_COMMENT: RuleInfo = RuleInfo {
    id: "{ident}_table_comment",
    category: "structure",
    default_severity: Severity::Info,
    description: "Every table should say what it holds in a COMMENT ON TABLE",
};

impl Lint for {ty} {
    const RULES: &'static [RuleInfo] = &[TABLE_COMMENT];

    fn check(&self, context: &LintContext) -> Vec<Violation> {
        context
            .tables
            .iter()
            .filter(|table| table.comment.is_none())
            .map(|table| {
                let name = table.qualified_name();
                Violation::new(&TABLE_COMMENT, format!("table {name} has no comment"))
                    .at(&table.location)
                    .fix(format!("COMMENT ON TABLE {name} IS '...';"))
            })
            .collect()
    }
}

confiture_sdk::export_plugin!({ty}: lint);
"##;

/// `app.py` of a Python plugin.
pub fn python_app(name: &str, kind: PluginKindArg) -> String {
    let body = match kind {
        PluginKindArg::Strategy => PY_STRATEGY,
        PluginKindArg::Hook => PY_HOOK,
        PluginKindArg::Lint => PY_LINT,
    };
    PY_HEAD
        .replace("{body}", body)
        .replace("{kind}", kind_word(kind))
        .replace("{description}", description(kind))
        .replace("{name}", name)
        .replace("{ident}", &name.replace('-', "_"))
}

const PY_HEAD: &str = r##""""Confiture {kind} plugin `{name}`, built with componentize-py (see README.md)."""

from wit_world import exports
from wit_world.exports import metadata
from wit_world.imports import host, types

{body}

class Metadata(exports.Metadata):
    def describe(self) -> metadata.PluginInfo:
        return INFO
"##;

const PY_STRATEGY: &str = r##"from wit_world.exports import strategy as api


class Strategy(exports.Strategy):
    def anonymize(self, batch: api.Batch) -> api.TextBatch:
        values = batch.values
        count = len(values.offsets) - 1
        data, offsets, nulls = bytearray(), [0], bytearray((count + 7) // 8)
        for i in range(count):
            if values.nulls[i // 8] & (1 << (i % 8)):
                nulls[i // 8] |= 1 << (i % 8)
            else:
                value = bytes(values.data[values.offsets[i]:values.offsets[i + 1]])
                data += bytes(host.keyed_hash(value))[:8].hex().encode()
            offsets.append(len(data))
        return api.TextBatch(bytes(data), offsets, bytes(nulls))


INFO = metadata.PluginInfo(
    name="{name}",
    version="0.1.0",
    description="{description}",
    capabilities=[],
    hooks=[],
    strategies=[
        metadata.StrategyInfo(
            name="{ident}",
            description="16 hex digits of the keyed hash of the value",
            context_columns=[],
            accepted_types=["text", "character varying"],
            deterministic=True,
        )
    ],
    rules=[],
)"##;

const PY_HOOK: &str = r##"from wit_world.exports import hooks as api


class Hooks(exports.Hooks):
    def handle(self, context: api.HookContext) -> None:
        if context.migration is not None:
            m = context.migration
            host.log(host.LogLevel.INFO, f"{m.version}_{m.name} ran on {context.environment}")


INFO = metadata.PluginInfo(
    name="{name}",
    version="0.1.0",
    description="{description}",
    capabilities=[],
    hooks=[types.HookEvent.POST_EXECUTE],
    strategies=[],
    rules=[],
)"##;

const PY_LINT: &str = r##"from wit_world.exports import lint as api


class Lint(exports.Lint):
    def check(self, context: api.LintContext) -> list[api.Violation]:
        return [
            api.Violation(
                rule_id="{ident}_table_comment",
                severity=types.Severity.INFO,
                message=f"table {t.schema}.{t.name} has no comment",
                location=t.location,
                suggestion=None,
                fix=f"COMMENT ON TABLE {t.schema}.{t.name} IS '...';",
            )
            for t in context.tables
            if t.comment is None
        ]


INFO = metadata.PluginInfo(
    name="{name}",
    version="0.1.0",
    description="{description}",
    capabilities=[],
    hooks=[],
    strategies=[],
    rules=[
        metadata.RuleInfo(
            id="{ident}_table_comment",
            category="structure",
            default_severity=types.Severity.INFO,
            description="Every table should say what it holds in a COMMENT ON TABLE",
        )
    ],
)"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_placeholders() {
        assert_eq!(type_name("email-mask-2"), "EmailMask2");
        let source = rust_source("email-mask", PluginKindArg::Strategy);
        assert!(source.contains("pub struct EmailMask;"));
        assert!(source.contains("name: \"email_mask\""));
        assert!(source.contains("format!(\"{b:02x}\")"));
        assert!(!source.contains("{ty}") && !source.contains("{head}"));
        let app = python_app("email-mask", PluginKindArg::Lint);
        assert!(app.contains("rule_id=\"email_mask_table_comment\""));
        assert!(app.contains("f\"table {t.schema}.{t.name} has no comment\""));
    }
}
