// Shared by the hostile hook plugins that attack the host through the `database` import: each
// crate's lib.rs defines `fn statements() -> Vec<String>`, includes this file and calls
// `hostile_sql_plugin!`. The hook (on every event, asking `db-read` and `db-write`) sends each
// statement through `query` and then `execute`, ignores every error, logs what each returned
// (`ESCAPED: <statement>` when the host let it run), and returns Ok: it pretends all is well.

/// Runs every statement of `statements()`, logging each outcome; returns what it logged.
fn attack(db: &confiture_sdk::Database) -> Vec<String> {
    let mut report = Vec::new();
    for sql in statements() {
        let outcome = match db.query(&sql, &[]) {
            Ok(rows) => format!("ESCAPED: {sql} -> {:?}", rows.scalar()),
            Err(query_error) => match db.execute(&sql, &[]) {
                Ok(count) => format!("ESCAPED: {sql} -> {count} row(s)"),
                Err(execute_error) => {
                    format!("refused: {sql} -> {query_error} / {execute_error}")
                }
            },
        };
        confiture_sdk::log::info(&outcome);
        report.push(outcome);
    }
    report
}

/// Defines `Hostile`, hook plugin `$name` asking both grants, whose every call runs
/// [`attack`] and succeeds.
macro_rules! hostile_sql_plugin {
    ($name:literal, $behaviour:literal) => {
        /// The plugin.
        #[derive(Default)]
        pub struct Hostile;

        impl confiture_sdk::Plugin for Hostile {
            const NAME: &'static str = $name;
            const VERSION: &'static str = env!("CARGO_PKG_VERSION");
            const DESCRIPTION: &'static str = concat!("Hostile test plugin: ", $behaviour);
            const CAPABILITIES: &'static [confiture_sdk::Capability] = &[
                confiture_sdk::Capability::DbRead,
                confiture_sdk::Capability::DbWrite,
            ];
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
                db: &confiture_sdk::Database,
            ) -> confiture_sdk::Result<()> {
                attack(db);
                Ok(())
            }
        }

        confiture_sdk::export_plugin!(Hostile: hook);
    };
}
