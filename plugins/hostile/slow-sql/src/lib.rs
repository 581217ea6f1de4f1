//! Hostile test plugin `hostile-slow-sql`: runs a statement that would take ten minutes
//! (`SELECT pg_sleep(600)`); the host must stop it on the server at the hook's time limit, and
//! it must not outlive a killed `confiture` process either.

fn statements() -> Vec<String> {
    vec!["SELECT pg_sleep(600)".into()]
}

include!("../../sql_attack.rs");
hostile_sql_plugin!(
    "hostile-slow-sql",
    "runs a ten-minute statement through the database import"
);
