//! Shared by the `confiture sync` tests: a source and a target database with the same schema,
//! and table contents in a comparable form.

// A shared API: not every part is used by every set of tests.
#![allow(dead_code)]

use std::io::Read;

use crate::harness::TestDb;

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
