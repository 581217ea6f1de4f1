//! Shared by the `confiture sync` tests: a source and a target database with the same schema,
//! and table contents in a comparable form.

// A shared API: not every part is used by every set of tests.
#![allow(dead_code)]

use std::io::Read;

use serde_json::Value;

use crate::harness::{Run, TestDb, TestProject};

/// A fresh source and a fresh target database on the shared cluster, both created with
/// `schema`. Synchronous: call it through `spawn_blocking` from async tests.
pub fn source_and_target(schema: &str) -> (TestDb, TestDb) {
    let source = TestDb::new();
    let target = TestDb::new();
    for db in [&source, &target] {
        db.client()
            .batch_execute(schema)
            .unwrap_or_else(|e| panic!("schema on {}: {e}", db.name));
    }
    (source, target)
}

/// Runs `sql` on `db`, panicking with the statement on error.
pub fn exec(db: &TestDb, sql: &str) {
    db.client()
        .batch_execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// `COPY (query) TO STDOUT` of `db` as text: a byte-exact picture of rows and values.
pub fn dump(db: &TestDb, query: &str) -> String {
    let mut client = db.client();
    let mut reader = client
        .copy_out(&format!("COPY ({query}) TO STDOUT"))
        .unwrap_or_else(|e| panic!("COPY ({query}): {e}"));
    let mut out = String::new();
    reader.read_to_string(&mut out).expect("read COPY output");
    out
}

/// The values of the first column of `query` (text, `None` for NULL).
pub fn column(db: &TestDb, query: &str) -> Vec<Option<String>> {
    db.client()
        .query(query, &[])
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .iter()
        .map(|row| row.get::<_, Option<String>>(0))
        .collect()
}

/// `count(*)` of `table` in `db`.
pub fn count(db: &TestDb, table: &str) -> i64 {
    db.scalar(&format!("SELECT count(*)::text FROM {table}"))
        .expect("count is never NULL")
        .parse()
        .expect("count is a number")
}

/// `confiture sync --from FROM --to TO EXTRA...` in `project`, with `ANONYMIZATION_SECRET` set
/// to `secret` (or removed).
pub fn sync_run(
    project: &TestProject,
    from: &str,
    to: &str,
    extra: &[&str],
    secret: Option<&str>,
) -> Run {
    let mut command = sync_command(project, from, to, extra, secret);
    Run::from(command.output().expect("run confiture sync"))
}

/// [`sync_run`]'s command, not yet run.
pub fn sync_command(
    project: &TestProject,
    from: &str,
    to: &str,
    extra: &[&str],
    secret: Option<&str>,
) -> std::process::Command {
    let mut args = vec!["sync", "--from", from, "--to", to];
    args.extend_from_slice(extra);
    let mut command = project.command(&args);
    match secret {
        Some(secret) => command.env("ANONYMIZATION_SECRET", secret),
        None => command.env_remove("ANONYMIZATION_SECRET"),
    };
    command
}

/// Both streams, for messages that may go to either.
pub fn output(run: &Run) -> String {
    format!("{}\n{}", run.stdout, run.stderr)
}

/// The JSON summary's entry for `table` (`schema.table`).
pub fn table_entry<'a>(summary: &'a Value, table: &str) -> &'a Value {
    summary["tables"]
        .as_array()
        .expect("tables is an array")
        .iter()
        .find(|t| t["table"] == table)
        .unwrap_or_else(|| panic!("{table} is not in the summary: {summary:#}"))
}
