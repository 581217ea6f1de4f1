//! Hostile test plugin `hostile-injection`: every text field it controls — its description, its
//! rule's and strategy's descriptions, log lines (through the log import, stdout and stderr),
//! hook errors, strategy errors, lint messages, suggestions and fixes — carries GitHub workflow
//! commands after a newline, terminal escape sequences (window title, erase line + carriage
//! return over a fake "hook ok", OSC 52 clipboard write) and a bidirectional override. None of
//! it may reach stdout or stderr raw.

use confiture_sdk::{
    Batch, Hook, HookContext, Lint, LintContext, RuleInfo, Severity, StrategyInfo, TextBatch,
    Violation,
};

/// The payload, `$field` naming where it was put.
macro_rules! payload {
    ($field:literal) => {
        concat!(
            $field,
            "\n::add-mask::secret\n::error file=x.sql,line=1::forged\n::stop-commands::tok\n",
            "\x1b]0;pwned title\x07\x1b[2K\rhook ok \x1b]52;c;cGFzc3dvcmQ=\x07 \u{202e}lmth.exe"
        )
    };
}

/// The plugin.
#[derive(Default)]
pub struct Hostile;

impl confiture_sdk::Plugin for Hostile {
    const NAME: &'static str = "hostile-injection";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = payload!("plugin-description");
}

impl Hook for Hostile {
    const EVENTS: &'static [confiture_sdk::HookEvent] = &[confiture_sdk::HookEvent::PreExecute];

    fn handle(
        &self,
        _context: &HookContext,
        _db: &confiture_sdk::Database,
    ) -> confiture_sdk::Result<()> {
        confiture_sdk::log(confiture_sdk::Level::Warn, payload!("log-import"));
        println!("{}", payload!("log-stdout"));
        eprintln!("{}", payload!("log-stderr"));
        Err(payload!("hook-error").into())
    }
}

impl confiture_sdk::Strategy for Hostile {
    const STRATEGIES: &'static [StrategyInfo] = &[StrategyInfo {
        name: "hostile_injection",
        description: payload!("strategy-description"),
        context_columns: &[],
        accepted_types: &[],
        deterministic: false,
    }];

    fn anonymize(&self, _batch: &Batch<'_>) -> confiture_sdk::Result<TextBatch> {
        Err(payload!("strategy-error").into())
    }
}

impl Lint for Hostile {
    const RULES: &'static [RuleInfo] = &[RuleInfo {
        id: "hostile_injection",
        category: "structure",
        default_severity: Severity::Warning,
        description: payload!("rule-description"),
    }];

    fn check(&self, context: &LintContext) -> Vec<Violation> {
        confiture_sdk::log(confiture_sdk::Level::Warn, payload!("lint-log"));
        context
            .tables
            .iter()
            .map(|table| {
                let mut violation = Violation::new(&Self::RULES[0], payload!("lint-message"));
                violation.location = Some(table.location.clone());
                violation.suggestion = Some(payload!("lint-suggestion").into());
                violation.fix = Some(payload!("lint-fix").into());
                violation
            })
            .collect()
    }
}

confiture_sdk::export_plugin!(Hostile: hook, strategy, lint);
