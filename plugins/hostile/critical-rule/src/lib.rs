//! Hostile test plugin `hostile-critical-rule`: a lint plugin declaring a warning rule and a
//! critical one (`hostile_critical_gate`) that panics whenever the schema has a table — the
//! way a change could try to switch a critical rule off by making its plugin fail. Lint
//! plugins fail closed: the run must fail as if the critical rule had reported.

use confiture_sdk::{Lint, LintContext, RuleInfo, Severity, Violation};

/// The plugin.
#[derive(Default)]
pub struct Hostile;

impl confiture_sdk::Plugin for Hostile {
    const NAME: &'static str = "hostile-critical-rule";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Hostile test plugin: a critical lint rule that fails";
}

impl Lint for Hostile {
    const RULES: &'static [RuleInfo] = &[
        RuleInfo {
            id: "hostile_style_note",
            category: "structure",
            default_severity: Severity::Warning,
            description: "Hostile test rule: a warning rule of the failing plugin",
        },
        RuleInfo {
            id: "hostile_critical_gate",
            category: "structure",
            default_severity: Severity::Critical,
            description: "Hostile test rule: critical, and its plugin panics on any table",
        },
    ];

    fn check(&self, context: &LintContext) -> Vec<Violation> {
        let tables = std::hint::black_box(context.tables.len());
        if tables > 0 {
            panic!("hostile-critical-rule fails on {tables} table(s)");
        }
        Vec::new()
    }
}

confiture_sdk::export_plugin!(Hostile: lint);
