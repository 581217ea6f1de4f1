//! Metadata, the host-function doubles and the export glue, natively.

use confiture_sdk::__private::bindings::confiture::plugin::types;
use confiture_sdk::__private::bindings::exports::confiture::plugin::{hooks, lint, strategy};
use confiture_sdk::{
    Batch, Capability, Database, Hook, HookContext, HookEvent, Level, Lint, LintContext, Plugin,
    PluginInfo, Result, Rows, RuleInfo, Severity, Strategy, StrategyInfo, TextBatch,
    TextBatchBuilder, Violation, testing,
};

#[derive(Default)]
struct Everything;

impl Plugin for Everything {
    const NAME: &'static str = "everything";
    const VERSION: &'static str = "1.2.3";
    const DESCRIPTION: &'static str = "Every kind";
    const CAPABILITIES: &'static [Capability] = &[Capability::DbRead];
}

const RULE: RuleInfo = RuleInfo {
    id: "no_x",
    category: "naming",
    default_severity: Severity::Warning,
    description: "No table named x",
};

impl Hook for Everything {
    const EVENTS: &'static [HookEvent] = &[HookEvent::PostExecute, HookEvent::OnError];

    fn handle(&self, context: &HookContext, db: &Database) -> Result<()> {
        let rows = db.query("SELECT $1::int", &[confiture_sdk::param(7)])?;
        confiture_sdk::info!("{:?} saw {:?}", context.event, rows.scalar());
        match rows.scalar() {
            Some("0") => Ok(()),
            other => Err(format!("count is {other:?}").into()),
        }
    }
}

impl Strategy for Everything {
    const STRATEGIES: &'static [StrategyInfo] = &[StrategyInfo {
        name: "reverse",
        description: "Reverses text",
        context_columns: &["id"],
        accepted_types: &[],
        deterministic: true,
    }];

    fn anonymize(&self, batch: &Batch<'_>) -> Result<TextBatch> {
        let suffix = batch.param("suffix").unwrap_or("");
        let ids = batch.context("id").ok_or("no id context")?;
        let mut out = TextBatchBuilder::new();
        for (value, id) in batch.values.iter().zip(ids.iter()) {
            match value {
                Some(text) => out.push_with(|w| {
                    w.push_str(&text.chars().rev().collect::<String>());
                    w.push_str(suffix);
                    w.push_str(id.unwrap_or("?"));
                }),
                None => out.push_null(),
            }
        }
        if batch.param("drop-one") == Some("yes") {
            return Ok(TextBatch::from_values([Some("only one")]));
        }
        Ok(out.finish())
    }
}

impl Lint for Everything {
    const RULES: &'static [RuleInfo] = &[RULE];

    fn check(&self, context: &LintContext) -> Vec<Violation> {
        context
            .tables
            .iter()
            .filter(|t| t.name == "x" && context.is_enabled(RULE.id))
            .map(|t| {
                Violation::new(&RULE, "x")
                    .at(&t.location)
                    .fix("DROP TABLE x")
            })
            .collect()
    }
}

#[test]
fn plugin_info_collects_the_traits_constants() {
    let info = PluginInfo::of::<Everything>();
    assert_eq!((info.name, info.version), ("everything", "1.2.3"));
    assert!(info.hooks.is_empty() && info.strategies.is_empty() && info.rules.is_empty());

    let full = PluginInfo {
        hooks: Everything::EVENTS,
        strategies: Everything::STRATEGIES,
        rules: Everything::RULES,
        ..info
    };
    let described = confiture_sdk::__private::describe(&full);
    assert_eq!(described.name, "everything");
    assert_eq!(described.capabilities, [types::Capability::DbRead]);
    assert_eq!(
        described.hooks,
        [types::HookEvent::PostExecute, types::HookEvent::OnError]
    );
    assert_eq!(described.strategies[0].name, "reverse");
    assert_eq!(described.strategies[0].context_columns, ["id"]);
    assert!(described.strategies[0].deterministic);
    assert_eq!(described.rules[0].id, "no_x");
    assert_eq!(
        described.rules[0].default_severity,
        types::Severity::Warning
    );
}

#[test]
fn config_and_logs_come_from_the_doubles() {
    assert_eq!(confiture_sdk::config("table"), None);
    assert_eq!(confiture_sdk::config_or("table", "users"), "users");
    testing::set_config("table", "accounts");
    assert_eq!(confiture_sdk::config("table").as_deref(), Some("accounts"));
    confiture_sdk::log::warn("careful");
    assert_eq!(testing::logs(), [(Level::Warn, "careful".to_string())]);
    testing::reset();
    assert_eq!(confiture_sdk::config("table"), None);
}

#[test]
fn keyed_hash_is_hmac_sha256_under_the_secret() {
    assert!(confiture_sdk::keyed_hash(b"x").is_err());
    // RFC 4231, test case 2.
    testing::set_secret(b"Jefe");
    let hash = confiture_sdk::keyed_hash(b"what do ya want for nothing?").unwrap();
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    // RFC 4231, test case 6: a key longer than the block is hashed first.
    let long_key = [0xaa; 131];
    let hash = testing::hmac_sha256(
        &long_key,
        b"Test Using Larger Than Block-Size Key - Hash Key First",
    );
    assert_eq!(hash[..4], [0x60, 0xe4, 0x31, 0x59]);
}

#[test]
fn keyed_hash_batch_gives_the_digests_of_keyed_hash() {
    assert!(confiture_sdk::keyed_hash_batch(["x"]).is_err());
    testing::set_secret(b"Jefe");
    let inputs = ["what do ya want for nothing?", "", "é"];
    let digests = confiture_sdk::keyed_hash_batch(inputs).unwrap();
    assert_eq!(digests.len(), 3);
    for (input, digest) in inputs.iter().zip(&digests) {
        assert_eq!(
            *digest,
            confiture_sdk::keyed_hash(input.as_bytes()).unwrap()
        );
    }
    assert!(
        confiture_sdk::keyed_hash_batch(Vec::<&[u8]>::new())
            .unwrap()
            .is_empty()
    );
}

fn hook_context(event: types::HookEvent) -> hooks::HookContext {
    hooks::HookContext {
        event,
        migration: Some(hooks::Migration {
            version: "1".into(),
            name: "m".into(),
            checksum: "c".into(),
            direction: hooks::Direction::Down,
            path: "db/migrations/1_m.down.sql".into(),
            sql: "SELECT 1".into(),
        }),
        environment: "test".into(),
        status: "running".into(),
        duration_ms: Some(5),
        error: None,
        metadata: vec![types::KeyValue {
            key: "dry-run".into(),
            value: "true".into(),
        }],
    }
}

#[test]
fn hooks_reach_the_database_double_and_report_errors() {
    testing::with_rows(Rows::single("count", Some("0")));
    let ok =
        confiture_sdk::__private::handle(&Everything, hook_context(types::HookEvent::PostExecute));
    assert_eq!(ok, Ok(()));
    assert_eq!(
        testing::db_calls(),
        [("SELECT $1::int".to_string(), vec![Some("7".to_string())])]
    );
    assert!(testing::logs()[0].1.contains("PostExecute"));

    testing::with_rows(Rows::single("count", Some("3")));
    let failed =
        confiture_sdk::__private::handle(&Everything, hook_context(types::HookEvent::OnError));
    assert_eq!(failed, Err("count is Some(\"3\")".to_string()));

    testing::reset();
    let error = testing::database().query("SELECT 1", &[]).unwrap_err();
    assert!(error.message.contains("testing::with_rows"), "{error}");
}

#[test]
fn hook_context_converts_every_field() {
    let context = hook_context(types::HookEvent::PreValidate);
    let converted = confiture_sdk::__private::hook_context(context);
    assert_eq!(converted.event, HookEvent::PreValidate);
    assert!(converted.dry_run());
    let migration = converted.migration.unwrap();
    assert_eq!(migration.direction, confiture_sdk::Direction::Down);
    assert_eq!(migration.path, "db/migrations/1_m.down.sql");
    assert_eq!(converted.duration_ms, Some(5));
}

fn packed(values: &[Option<&str>]) -> strategy::TextBatch {
    let batch = TextBatch::from_values(values.iter().copied());
    strategy::TextBatch {
        data: batch.data,
        offsets: batch.offsets,
        nulls: batch.nulls,
    }
}

fn strategy_batch(values: &[Option<&str>], params: &[(&str, &str)]) -> strategy::Batch {
    strategy::Batch {
        strategy: "reverse".into(),
        column: strategy::Column {
            schema: "public".into(),
            table: "users".into(),
            name: "name".into(),
            type_name: "text".into(),
        },
        params: params
            .iter()
            .map(|(k, v)| types::KeyValue {
                key: k.to_string(),
                value: v.to_string(),
            })
            .collect(),
        values: packed(values),
        context: vec![strategy::ContextColumn {
            name: "id".into(),
            values: packed(&[Some("1"), Some("2"), Some("3")]),
        }],
    }
}

#[test]
fn strategies_get_params_context_and_packed_values() {
    let out = confiture_sdk::__private::anonymize(
        &Everything,
        strategy_batch(&[Some("abc"), None, Some("été")], &[("suffix", "-")]),
    )
    .unwrap();
    let view = confiture_sdk::TextBatchView::new(&out.data, &out.offsets, &out.nulls).unwrap();
    assert_eq!(view.to_vec(), [Some("cba-1"), None, Some("été-3")]);
}

#[test]
fn a_wrong_number_of_values_or_a_bad_layout_is_refused() {
    let error = confiture_sdk::__private::anonymize(
        &Everything,
        strategy_batch(&[Some("a"), Some("b")], &[("drop-one", "yes")]),
    )
    .unwrap_err();
    assert_eq!(
        error,
        "strategy reverse: returned 1 values for a batch of 2"
    );

    let mut batch = strategy_batch(&[Some("a")], &[]);
    batch.values.offsets = vec![0, 9];
    let error = confiture_sdk::__private::anonymize(&Everything, batch).unwrap_err();
    assert!(
        error.starts_with("strategy reverse: value 0 spans 0..9"),
        "{error}"
    );
}

#[test]
fn lint_rules_see_the_schema_and_return_violations() {
    let location = lint::Location {
        file: "db/schema/x.sql".into(),
        line: 3,
        column: 1,
    };
    let table = |name: &str| lint::Table {
        schema: "public".into(),
        name: name.into(),
        columns: vec![],
        primary_key: vec![],
        unique_keys: vec![],
        foreign_keys: vec![],
        checks: vec![],
        comment: None,
        location: location.clone(),
    };
    let context = lint::LintContext {
        tables: vec![table("x"), table("y")],
        indexes: vec![],
        statements: vec![],
        enabled_rules: vec!["no_x".into()],
    };
    let violations = confiture_sdk::__private::check(&Everything, context);
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].rule_id, "no_x");
    assert_eq!(violations[0].severity, types::Severity::Warning);
    assert_eq!(violations[0].location.as_ref().unwrap().line, 3);
    assert_eq!(violations[0].fix.as_deref(), Some("DROP TABLE x"));
}

#[test]
fn run_strategy_runs_a_strategy_natively() {
    #[derive(Default)]
    struct Upper;
    impl Plugin for Upper {
        const NAME: &'static str = "upper";
        const VERSION: &'static str = "0.0.0";
        const DESCRIPTION: &'static str = "Upper-cases";
    }
    impl Strategy for Upper {
        const STRATEGIES: &'static [StrategyInfo] = &[];
        fn anonymize(&self, batch: &Batch<'_>) -> Result<TextBatch> {
            let mut out = TextBatchBuilder::new();
            for value in batch.values.iter() {
                out.push(value.map(str::to_uppercase).as_deref());
            }
            Ok(out.finish())
        }
    }
    let out = testing::run_strategy::<Upper>("upper", &[Some("ab"), None]).unwrap();
    assert_eq!(out, [Some("AB".to_string()), None]);
}
