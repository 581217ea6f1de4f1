//! Hostile test plugin `hostile-panics`: panics in every call. A hook on every event, strategy
//! `hostile_panics` and lint rule `hostile_panics`; the hook fails with what it observed, the
//! strategy returns it as every value. The host's sandbox must contain it (see `plugins/hostile/README.md`).

use confiture_sdk::{Lint, LintContext, RuleInfo, Severity, Violation};

/// What the plugin does in every call; its text is what it observed.
fn attempt() -> String {
    let reason = std::hint::black_box("hostile-panics always panics");
    panic!("{reason}")
}

include!("../../common.rs");
hostile_plugin!("hostile-panics", "hostile_panics", "panics in every call");

impl Lint for Hostile {
    const RULES: &'static [RuleInfo] = &[RuleInfo {
        id: "hostile_panics",
        category: "structure",
        default_severity: Severity::Warning,
        description: "Hostile test rule: panics in every call",
    }];

    fn check(&self, _context: &LintContext) -> Vec<Violation> {
        let observed = attempt();
        unreachable!("{observed}")
    }
}

confiture_sdk::export_plugin!(Hostile: hook, strategy, lint);
