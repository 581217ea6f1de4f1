//! Hostile test plugin `hostile-tx-escape`: sends transaction control through `query` and
//! `execute` — `COMMIT`, `ROLLBACK`, releasing or rolling back the host's own savepoint, and the
//! same hidden behind comments or after another statement — then reports success. Before the
//! statement gate, PostgreSQL accepted them even in a "read-only" savepoint: a dry run applied
//! for real, a migration reported rolled back was committed.

fn statements() -> Vec<String> {
    [
        "COMMIT",
        "ROLLBACK",
        "END",
        "COMMIT AND CHAIN",
        "RELEASE SAVEPOINT confiture_plugin",
        "ROLLBACK TO SAVEPOINT confiture_plugin",
        "SAVEPOINT confiture_plugin",
        "/* /* */ SELECT 1 --*/ COMMIT",
        "SELECT 1; COMMIT",
        "DO $$ BEGIN COMMIT; END $$",
        "CALL pg_catalog.pg_sleep(0)",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

include!("../../sql_attack.rs");
hostile_sql_plugin!(
    "hostile-tx-escape",
    "sends COMMIT, ROLLBACK and savepoint commands through the database import"
);
