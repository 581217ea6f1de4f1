//! The source files `confiture plugins new` writes: one small, working plugin per kind, with
//! its native tests, in Rust, Python and JavaScript (each on its SDK), and a strategy in C (on
//! wit-bindgen's bindings and `confiture.h`).

use super::component::Kind;

/// "migration hook", "anonymization strategy" or "lint rule".
pub fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Hook => "migration hook",
        Kind::Strategy => "anonymization strategy",
        Kind::Lint => "lint rule",
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

fn description(kind: Kind) -> &'static str {
    match kind {
        Kind::Hook => "Logs every migration it sees",
        Kind::Strategy => "Replaces a value with its keyed hash",
        Kind::Lint => "Every table should have a comment",
    }
}

/// `src/lib.rs` of a Rust plugin.
pub fn rust_source(name: &str, kind: Kind) -> String {
    let ty = type_name(name);
    let ident = name.replace('-', "_");
    let head = format!(
        "/// The plugin.\n#[derive(Default)]\npub struct {ty};\n\nimpl Plugin for {ty} {{\n    \
         const NAME: &'static str = \"{name}\";\n    const VERSION: &'static str = \
         env!(\"CARGO_PKG_VERSION\");\n    const DESCRIPTION: &'static str = \"{}\";\n}}\n",
        description(kind)
    );
    let body = match kind {
        Kind::Strategy => RUST_STRATEGY,
        Kind::Hook => RUST_HOOK,
        Kind::Lint => RUST_LINT,
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

/// `app.py` of a Python plugin, on the vendored SDK (`confiture_plugin/`).
pub fn python_app(name: &str, kind: Kind) -> String {
    let body = match kind {
        Kind::Strategy => PY_STRATEGY,
        Kind::Hook => PY_HOOK,
        Kind::Lint => PY_LINT,
    };
    fill(body, name, kind)
}

/// `test_app.py`: its native tests (pytest), on the SDK's test doubles.
pub fn python_test(name: &str, kind: Kind) -> String {
    let body = match kind {
        Kind::Strategy => PY_STRATEGY_TEST,
        Kind::Hook => PY_HOOK_TEST,
        Kind::Lint => PY_LINT_TEST,
    };
    fill(body, name, kind)
}

/// `app.js` of a JavaScript plugin, on the vendored SDK (`confiture/confiture.js`).
pub fn js_app(name: &str, kind: Kind) -> String {
    let body = match kind {
        Kind::Strategy => JS_STRATEGY,
        Kind::Hook => JS_HOOK,
        Kind::Lint => JS_LINT,
    };
    fill(body, name, kind)
}

/// `app.test.js`: its native tests (Node's test runner), on the SDK's test doubles.
pub fn js_test(name: &str, kind: Kind) -> String {
    let body = match kind {
        Kind::Strategy => JS_STRATEGY_TEST,
        Kind::Hook => JS_HOOK_TEST,
        Kind::Lint => JS_LINT_TEST,
    };
    fill(body, name, kind)
}

/// `plugin.c` of a C strategy, on wit-bindgen's bindings and `confiture.h`.
pub fn c_strategy(name: &str) -> String {
    fill(C_STRATEGY, name, Kind::Strategy)
}

fn fill(template: &str, name: &str, kind: Kind) -> String {
    template
        .replace("{kind}", kind_word(kind))
        .replace("{description}", description(kind))
        .replace("{name}", name)
        .replace("{ident}", &name.replace('-', "_"))
}

const PY_STRATEGY: &str = r##""""Confiture {kind} plugin `{name}` (see README.md): strategy `{ident}`."""
import confiture_plugin as confiture
from confiture_plugin.exports import Metadata, Strategy  # noqa: F401  (what the component exports)

confiture.plugin("{name}", "0.1.0", "{description}")


@confiture.strategy("{ident}", "16 hex digits of the keyed hash of the value")
def {ident}(values, call):
    present = [v for v in values if v is not None]
    digests = iter(confiture.keyed_hash_batch(v.encode() for v in present))
    return [None if v is None else next(digests)[:8].hex() for v in values]
"##;

const PY_STRATEGY_TEST: &str = r##""""Native tests of `{name}`: `python -m pytest` (confiture_plugin.testing doubles the host)."""
import app  # noqa: F401  (declares the plugin)
from confiture_plugin import testing


def test_equal_values_stay_equal_and_null_stays_null():
    testing.reset()
    testing.set_secret(b"test secret")
    out = testing.run_strategy("{ident}", ["a", None, "a"])
    assert out[0] == out[2] and out[1] is None and len(out[0]) == 16
"##;

const PY_HOOK: &str = r##""""Confiture {kind} plugin `{name}` (see README.md). To query the database, ask for
`db-read` in confiture.plugin(...), grant it in the environment file, and use `db.query`."""
import confiture_plugin as confiture
from confiture_plugin.exports import Hooks, Metadata  # noqa: F401  (what the component exports)

confiture.plugin("{name}", "0.1.0", "{description}")


@confiture.hook("post-execute")
def log_migration(context, db):
    m = context.migration
    confiture.log("info", f"{m.version}_{m.name} ran on {context.environment}")
"##;

const PY_HOOK_TEST: &str = r##""""Native tests of `{name}`: `python -m pytest` (confiture_plugin.testing doubles the host)."""
import app  # noqa: F401  (declares the plugin)
from confiture_plugin import HookContext, Migration, testing


def test_logs_the_migration():
    testing.reset()
    migration = Migration("20261206000000", "add_index", "0" * 64, "up", "m.up.sql", "")
    testing.run_hook(HookContext("post-execute", migration, environment="staging"))
    assert testing.logs() == [("info", "20261206000000_add_index ran on staging")]
"##;

const PY_LINT: &str = r##""""Confiture {kind} plugin `{name}` (see README.md): rule `{ident}_table_comment`."""
import confiture_plugin as confiture
from confiture_plugin.exports import Lint, Metadata  # noqa: F401  (what the component exports)

confiture.plugin("{name}", "0.1.0", "{description}")


@confiture.rule("{ident}_table_comment", "Every table should say what it holds in a COMMENT ON TABLE",
                category="structure", severity="info")
def table_comment(context):
    for t in context.tables:
        if t.comment is None:
            yield confiture.Violation(f"table {t.schema}.{t.name} has no comment", location=t.location,
                                      fix=f"COMMENT ON TABLE {t.schema}.{t.name} IS '...';")
"##;

const PY_LINT_TEST: &str = r##""""Native tests of `{name}`: `python -m pytest` (confiture_plugin.testing doubles the host)."""
import app  # noqa: F401  (declares the plugin)
from confiture_plugin import LintContext, testing
from confiture_plugin.types import Table


def test_reports_tables_without_a_comment():
    testing.reset()
    found = testing.run_lint(LintContext(tables=[Table("users"), Table("t", comment="x")]))
    assert [v.message for _, _, v in found] == ["table public.users has no comment"]
"##;

const JS_STRATEGY: &str = r##"// Confiture {kind} plugin `{name}` (see README.md): strategy `{ident}`.
import host from "confiture:plugin/host@0.2.0";
import * as confiture from "./confiture/confiture.js";

confiture.plugin({ host, name: "{name}", version: "0.1.0", description: "{description}" });

const hex = (digest) => Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");

confiture.strategy("{ident}", "16 hex digits of the keyed hash of the value", (values) => {
  const digests = confiture.keyedHashBatch(values.filter((v) => v !== null));
  let next = 0;
  return values.map((v) => (v === null ? null : hex(digests[next++])));
});

export const { metadata, strategy } = confiture.exports;
"##;

const JS_STRATEGY_TEST: &str = r##"// Native tests of `{name}`: `node --import ./confiture/testing.js --test app.test.js`.
import assert from "node:assert/strict";
import { test } from "node:test";

import * as testing from "./confiture/testing.js";
import "./app.js";

test("equal values stay equal and null stays null", () => {
  testing.reset();
  testing.setSecret("test secret");
  const out = testing.runStrategy("{ident}", ["a", null, "a"]);
  assert.equal(out[0], out[2]);
  assert.equal(out[1], null);
  assert.equal(out[0].length, 16);
});
"##;

const JS_HOOK: &str = r##"// Confiture {kind} plugin `{name}` (see README.md). To query the database, import
// `confiture:plugin/database@0.2.0`, pass it as `database` with capabilities ["db-read"], grant
// it in the environment file, and use `db.query`.
import host from "confiture:plugin/host@0.2.0";
import * as confiture from "./confiture/confiture.js";

confiture.plugin({ host, name: "{name}", version: "0.1.0", description: "{description}" });

confiture.hook(["post-execute"], (context) => {
  const m = context.migration;
  confiture.log("info", `${m.version}_${m.name} ran on ${context.environment}`);
});

export const { metadata, hooks } = confiture.exports;
"##;

const JS_HOOK_TEST: &str = r##"// Native tests of `{name}`: `node --import ./confiture/testing.js --test app.test.js`.
import assert from "node:assert/strict";
import { test } from "node:test";

import * as testing from "./confiture/testing.js";
import "./app.js";

test("logs the migration", () => {
  testing.reset();
  testing.runHook({ event: "post-execute", environment: "staging", migration: { version: "20261206000000", name: "add_index" } });
  assert.deepEqual(testing.logs(), [["info", "20261206000000_add_index ran on staging"]]);
});
"##;

const JS_LINT: &str = r##"// Confiture {kind} plugin `{name}` (see README.md): rule `{ident}_table_comment`.
import host from "confiture:plugin/host@0.2.0";
import * as confiture from "./confiture/confiture.js";

confiture.plugin({ host, name: "{name}", version: "0.1.0", description: "{description}" });

confiture.rule("{ident}_table_comment", "Every table should say what it holds in a COMMENT ON TABLE", (context) =>
  context.tables
    .filter((t) => t.comment === null || t.comment === undefined)
    .map((t) => ({ message: `table ${t.schema}.${t.name} has no comment`, location: t.location, fix: `COMMENT ON TABLE ${t.schema}.${t.name} IS '...';` })),
  { category: "structure", severity: "info" });

export const { metadata, lint } = confiture.exports;
"##;

const JS_LINT_TEST: &str = r##"// Native tests of `{name}`: `node --import ./confiture/testing.js --test app.test.js`.
import assert from "node:assert/strict";
import { test } from "node:test";

import * as testing from "./confiture/testing.js";
import "./app.js";

test("reports tables without a comment", () => {
  const where = { file: "db/schema/t.sql", line: 1, column: 1 };
  const found = testing.runLint({ tables: [{ schema: "public", name: "users", comment: null, location: where }] });
  assert.deepEqual(found.map((v) => v.message), ["table public.users has no comment"]);
});
"##;

const C_STRATEGY: &str = r##"/* Confiture {kind} plugin `{name}` (see README.md): strategy `{ident}` replaces each
 * value with 16 hex digits of its keyed hash (one host call per batch); NULL stays NULL. */
#include "strategy_plugin.h"
#include "confiture.h"

static void set(strategy_plugin_string_t *s, const char *text) { strategy_plugin_string_dup(s, text); }

void exports_confiture_plugin_metadata_describe(exports_confiture_plugin_metadata_plugin_info_t *ret) {
    /* Allocated: the bindings free what describe returns once the host has read it. */
    exports_confiture_plugin_metadata_strategy_info_t *strategy = calloc(1, sizeof *strategy);
    strategy_plugin_string_t *types = calloc(2, sizeof *types);
    set(&ret->name, "{name}");
    set(&ret->version, "0.1.0");
    set(&ret->description, "{description}");
    set(&strategy->name, "{ident}");
    set(&strategy->description, "16 hex digits of the keyed hash of the value");
    set(&types[0], "text");
    set(&types[1], "character varying");
    strategy->accepted_types = (strategy_plugin_list_string_t){types, 2};
    strategy->deterministic = true;
    ret->strategies = (exports_confiture_plugin_metadata_list_strategy_info_t){strategy, 1};
}

bool exports_confiture_plugin_strategy_anonymize(exports_confiture_plugin_strategy_batch_t *batch,
                                                 exports_confiture_plugin_strategy_text_batch_t *ret,
                                                 strategy_plugin_string_t *err) {
    confiture_view in;
    const char *problem = CONFITURE_VIEW(&in, batch->values);
    strategy_plugin_list_u8_t digests = {0};
    strategy_plugin_string_t host_error = {0};
    confiture_builder out;
    bool begun = !problem && confiture_builder_begin(&out, in.count, in.count * 16);
    bool ok = begun;
    if (ok && !CONFITURE_HASH_BATCH(strategy_plugin, in.data, in.offsets[in.count], in.offsets,
                                    in.count, &digests, &host_error)) {
        CONFITURE_ERROR(err, "keyed-hash-batch failed (is ANONYMIZATION_SECRET set?)");
        strategy_plugin_string_free(&host_error);
        ok = false;
    } else if (!ok) {
        CONFITURE_ERROR(err, problem ? problem : "out of memory");
    }
    for (size_t i = 0; ok && i < in.count; i++) {
        size_t len;
        if (!confiture_value(&in, i, &len)) {
            confiture_builder_push_null(&out);
            continue;
        }
        uint8_t *hex = confiture_builder_reserve(&out, 16);
        for (size_t k = 0; hex && k < 8; k++) {
            hex[2 * k] = "0123456789abcdef"[digests.ptr[32 * i + k] >> 4];
            hex[2 * k + 1] = "0123456789abcdef"[digests.ptr[32 * i + k] & 15];
        }
        if (hex) confiture_builder_commit(&out, 16);
        else { CONFITURE_ERROR(err, "out of memory"); ok = false; }
    }
    strategy_plugin_list_u8_free(&digests);
    exports_confiture_plugin_strategy_batch_free(batch);
    if (ok) CONFITURE_FINISH(&out, ret);
    else if (begun) confiture_builder_discard(&out);
    return ok;
}
"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_placeholders() {
        assert_eq!(type_name("email-mask-2"), "EmailMask2");
        let source = rust_source("email-mask", Kind::Strategy);
        assert!(source.contains("pub struct EmailMask;"));
        assert!(source.contains("name: \"email_mask\""));
        assert!(source.contains("format!(\"{b:02x}\")"));
        assert!(!source.contains("{ty}") && !source.contains("{head}"));
        for kind in Kind::ALL {
            for text in [
                python_app("email-mask", kind),
                python_test("email-mask", kind),
                js_app("email-mask", kind),
                js_test("email-mask", kind),
            ] {
                assert!(
                    !text.contains("{name}") && !text.contains("{ident}"),
                    "{text}"
                );
            }
        }
        let app = python_app("email-mask", Kind::Lint);
        assert!(app.contains("@confiture.rule(\"email_mask_table_comment\""));
        assert!(app.contains("f\"table {t.schema}.{t.name} has no comment\""));
        assert!(c_strategy("email-mask").contains("set(&strategy->name, \"email_mask\");"));
    }
}
