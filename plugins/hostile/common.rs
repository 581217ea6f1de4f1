// Shared by the hostile test plugins that misbehave in `attempt()`: each crate's lib.rs defines
// `fn attempt() -> String`, includes this file, calls `hostile_plugin!` and exports `Hostile`.
// A hook on every event fails with what `attempt()` observed; the strategy returns it as every
// value.

/// Defines `Hostile`, a plugin named `$name` with strategy `$strategy`, whose every call does
/// `attempt()` — `$behaviour` says what that is, for the metadata.
macro_rules! hostile_plugin {
    ($name:literal, $strategy:literal, $behaviour:literal) => {
        /// The plugin.
        #[derive(Default)]
        pub struct Hostile;

        impl confiture_sdk::Plugin for Hostile {
            const NAME: &'static str = $name;
            const VERSION: &'static str = env!("CARGO_PKG_VERSION");
            const DESCRIPTION: &'static str = concat!("Hostile test plugin: ", $behaviour);
        }

        impl confiture_sdk::Hook for Hostile {
            const EVENTS: &'static [confiture_sdk::HookEvent] = &[
                confiture_sdk::HookEvent::PreValidate,
                confiture_sdk::HookEvent::PostValidate,
                confiture_sdk::HookEvent::PreExecute,
                confiture_sdk::HookEvent::PostExecute,
                confiture_sdk::HookEvent::PostRollback,
                confiture_sdk::HookEvent::OnError,
            ];

            fn handle(
                &self,
                _context: &confiture_sdk::HookContext,
                _db: &confiture_sdk::Database,
            ) -> confiture_sdk::Result<()> {
                Err(attempt().into())
            }
        }

        impl confiture_sdk::Strategy for Hostile {
            const STRATEGIES: &'static [confiture_sdk::StrategyInfo] =
                &[confiture_sdk::StrategyInfo {
                    name: $strategy,
                    description: concat!("Hostile test strategy: ", $behaviour),
                    context_columns: &[],
                    accepted_types: &[],
                    deterministic: false,
                }];

            fn anonymize(
                &self,
                batch: &confiture_sdk::Batch<'_>,
            ) -> confiture_sdk::Result<confiture_sdk::TextBatch> {
                let observed = attempt();
                let mut out = confiture_sdk::TextBatchBuilder::new();
                for _ in 0..batch.values.len() {
                    out.push_str(&observed);
                }
                Ok(out.finish())
            }
        }
    };
}
