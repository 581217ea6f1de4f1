//! The `confiture sync` data path through the library API (`confiture::sync::{prepare, sync,
//! dry_run}`), on the suite's shared cluster: byte-identical copies, load order, foreign keys
//! across schemas, transforms, rollback of a failing group and resume, sequences, generated
//! columns, CTID-split reads, one snapshot for all tables, and errors before any write.
//!
//! Each test gets fresh source and target databases (`crate::harness::TestDb`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use confiture::db::connect::ConnectionSpec;
use confiture::plugins::TextBatch;
use confiture::sync::catalog::{self, TableFilter};
use confiture::sync::plan::CycleMode;
use confiture::sync::{
    Connector, NoProgress, Progress, SyncOptions, SyncReport, TableName, TableStatus,
    TableTransform, TransformWorker, Transforms, dry_run, prepare, sync,
};
use tokio_postgres::{Client, NoTls};

use crate::harness::TestDb;

/// The test's databases, held for the test's lifetime.
struct Pair {
    _dbs: Vec<TestDb>,
}

/// A fresh database's URL; the database lives as long as `keep`.
async fn fresh_db(keep: &mut Vec<TestDb>) -> String {
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .expect("create a test database");
    let url = db.url.clone();
    keep.push(db);
    url
}

/// Fresh source and target databases, both created with `schema`: their URLs and a client on
/// each. The `Pair` keeps the databases' names for the test's lifetime.
async fn source_and_target(schema: &str) -> (String, String, Client, Client, Pair) {
    let mut keep = Vec::new();
    let src = fresh_db(&mut keep).await;
    let dst = fresh_db(&mut keep).await;
    let s = connect(&src).await;
    let d = connect(&dst).await;
    s.batch_execute(schema).await.expect("source schema");
    d.batch_execute(schema).await.expect("target schema");
    (src, dst, s, d, Pair { _dbs: keep })
}

/// A connection to `url`.
async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    tokio::spawn(connection);
    client
}

/// The sync's connector for `url`.
fn connector(url: &str) -> Arc<dyn Connector> {
    Arc::new(ConnectionSpec::from_url(url).expect("a test URL parses"))
}

/// `url` with another user.
fn as_user(url: &str, user: &str) -> String {
    url.replacen("postgres@", &format!("{user}@"), 1)
}

/// `COPY (query) TO STDOUT` as bytes.
async fn dump(client: &Client, query: &str) -> Vec<u8> {
    use futures_util::StreamExt;
    let stream = client
        .copy_out(&format!("COPY ({query}) TO STDOUT"))
        .await
        .expect("copy out");
    let chunks: Vec<_> = stream.collect().await;
    chunks
        .into_iter()
        .flat_map(|c| c.expect("copy chunk").to_vec())
        .collect()
}

/// Prepares and runs a sync from `src` into `dst`.
async fn run(
    src: &str,
    dst: &str,
    transforms: &Transforms,
    options: &SyncOptions,
) -> anyhow::Result<SyncReport> {
    run_with(src, dst, transforms, options, Arc::new(NoProgress)).await
}

async fn run_with(
    src: &str,
    dst: &str,
    transforms: &Transforms,
    options: &SyncOptions,
    progress: Arc<dyn Progress>,
) -> anyhow::Result<SyncReport> {
    let (source, target) = (connector(src), connector(dst));
    let prepared = prepare(&*source, &*target, options).await?;
    sync(prepared, source, target, transforms, options, progress).await
}

/// A dry run from `src` into `dst`.
async fn plan_only(
    src: &str,
    dst: &str,
    transforms: &Transforms,
    options: &SyncOptions,
) -> anyhow::Result<confiture::sync::DryRunReport> {
    let prepared = prepare(&*connector(src), &*connector(dst), options).await?;
    dry_run(prepared, transforms, options).await
}

/// A transform reversing (by characters) the values of some of its input columns.
struct Reverse {
    /// Columns read: replaced ones and context ones (e.g. the key).
    inputs: Vec<usize>,
    /// Columns replaced (a subset of `inputs`).
    replaced: Vec<usize>,
    /// Fail once a worker has seen more than this many rows, naming the row's key (the first
    /// input column).
    fail_after: Option<usize>,
}

impl Reverse {
    /// Reverses `replaced`, reading `key` too.
    fn new(key: usize, replaced: &[usize]) -> Arc<Reverse> {
        let mut inputs = vec![key];
        inputs.extend_from_slice(replaced);
        Arc::new(Reverse {
            inputs,
            replaced: replaced.to_vec(),
            fail_after: None,
        })
    }
}

impl TableTransform for Reverse {
    fn input_columns(&self) -> &[usize] {
        &self.inputs
    }

    fn replaced_columns(&self) -> Vec<usize> {
        self.replaced.clone()
    }

    fn worker(&self) -> anyhow::Result<Box<dyn TransformWorker>> {
        Ok(Box::new(ReverseWorker {
            inputs: self.inputs.clone(),
            replaced: self.replaced.clone(),
            fail_after: self.fail_after,
            seen: 0,
        }))
    }
}

struct ReverseWorker {
    inputs: Vec<usize>,
    replaced: Vec<usize>,
    fail_after: Option<usize>,
    seen: usize,
}

impl TransformWorker for ReverseWorker {
    fn apply(&mut self, inputs: &[TextBatch]) -> anyhow::Result<Vec<(usize, TextBatch)>> {
        let rows = inputs[0].len();
        if let Some(limit) = self.fail_after
            && self.seen + rows > limit
        {
            let key = inputs[0].get(limit - self.seen).unwrap_or("");
            anyhow::bail!("cannot mask column email of row id={key}");
        }
        self.seen += rows;
        let mut out = Vec::with_capacity(self.replaced.len());
        let mut scratch = String::new();
        for &column in &self.replaced {
            let input = &inputs[self.inputs.iter().position(|&c| c == column).unwrap()];
            let mut batch = TextBatch::with_capacity(rows, input.data.len());
            for i in 0..rows {
                match input.get_bytes(i) {
                    None => batch.push(None),
                    Some(v) => {
                        scratch.clear();
                        scratch.extend(std::str::from_utf8(v)?.chars().rev());
                        batch.push(Some(scratch.as_bytes()));
                    }
                }
            }
            out.push((column, batch));
        }
        Ok(out)
    }
}

fn public(name: &str) -> TableName {
    TableName::new("public", name)
}

fn status_of<'a>(report: &'a SyncReport, table: &TableName) -> &'a TableStatus {
    &report
        .tables
        .iter()
        .find(|t| &t.table == table)
        .expect("table in report")
        .status
}

async fn count(client: &Client, table: &str) -> i64 {
    client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .unwrap()
        .get(0)
}

const TYPES_SCHEMA: &str = "CREATE TABLE t (
    id int PRIMARY KEY, b bigint, n numeric, s text, v varchar(20), d date, ts timestamptz,
    u uuid, j jsonb, ia int[], ta text[], by bytea)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_sync_is_byte_identical_and_replaces_target_rows() {
    let (src, dst, s, d, _dbs) = source_and_target(TYPES_SCHEMA).await;
    s.batch_execute(
        r#"INSERT INTO t VALUES
        (1, 9223372036854775807, 12345678901234567890.123456789, E'tab\there\nnew line\\back\rcr',
         'héllo 日本 🦀', '2024-02-29', '2024-01-01 12:34:56.789+05:30',
         'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": "x\ty\nz", "b": [1, 2, null], "c": "\\"}',
         '{1,NULL,-3}', ARRAY[E'a\tb', 'c"d', NULL, E'back\\slash', '{}', ''], '\x00ff5c0a09'),
        (2, NULL, 'NaN', '', '', 'infinity', '-infinity', NULL, 'null', '{}', '{}', ''),
        (3, -1, -0.5, E'\\N', E'\\N', NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        INSERT INTO t SELECT g, g::int8 * 1000000007, g / 7.0, md5(g::text) || E'\t' || g, left(md5(g::text), 20),
            '2000-01-01'::date + g, '2000-01-01'::timestamptz + g * interval '1 minute',
            md5(g::text)::uuid, jsonb_build_object('g', g, 's', E'q\\"' || g), ARRAY[g, g + 1],
            ARRAY['x' || g, E'\n'], decode(md5(g::text), 'hex')
        FROM generate_series(5, 20000) g;"#,
    )
    .await
    .unwrap();
    d.batch_execute("INSERT INTO t (id, s) SELECT g, 'old' FROM generate_series(1, 30000, 3) g")
        .await
        .unwrap();
    let report = run(&src, &dst, &HashMap::new(), &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(report.failures().count(), 0, "{report:?}");
    assert_eq!(report.tables[0].rows_read, 20000);
    assert_eq!(report.tables[0].rows_written, 20000);
    let query = "SELECT * FROM t ORDER BY id";
    assert_eq!(dump(&s, query).await, dump(&d, query).await);
}

const FAMILY_SCHEMA: &str = "
    CREATE TABLE cc_parent (id int PRIMARY KEY, name text);
    CREATE TABLE bb_child (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES cc_parent, note text);
    CREATE TABLE aa_grandchild (id int PRIMARY KEY, child_id int NOT NULL REFERENCES bb_child, v text);
    CREATE TABLE zz_alone (id int PRIMARY KEY, v text);";

async fn fill_family(s: &Client, d: &Client) {
    s.batch_execute(
        "INSERT INTO cc_parent SELECT g, 'p' || g FROM generate_series(1, 100) g;
         INSERT INTO bb_child SELECT g, 1 + g % 100, 'c' || g FROM generate_series(1, 2000) g;
         INSERT INTO aa_grandchild SELECT g, 1 + g % 2000, 'g' || g FROM generate_series(1, 30000) g;
         INSERT INTO zz_alone SELECT g, 'z' || g FROM generate_series(1, 500) g;",
    )
    .await
    .unwrap();
    d.batch_execute(
        "INSERT INTO cc_parent SELECT g, 'old' FROM generate_series(1, 200) g;
         INSERT INTO bb_child SELECT g, 150, 'old' FROM generate_series(1, 10) g;
         INSERT INTO aa_grandchild SELECT g, 1, 'old' FROM generate_series(1, 10) g;
         INSERT INTO zz_alone SELECT g, 'old' FROM generate_series(1, 5) g;",
    )
    .await
    .unwrap();
}

async fn family_dump(c: &Client) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for t in ["cc_parent", "bb_child", "aa_grandchild", "zz_alone"] {
        out.push(dump(c, &format!("SELECT * FROM {t} ORDER BY id")).await);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parents_load_before_children_and_target_rows_are_replaced() {
    let (src, dst, s, d, _dbs) = source_and_target(FAMILY_SCHEMA).await;
    fill_family(&s, &d).await;
    let report = run(&src, &dst, &HashMap::new(), &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(report.failures().count(), 0, "{report:?}");
    let order: Vec<&str> = report
        .tables
        .iter()
        .map(|t| t.table.name.as_str())
        .collect();
    assert_eq!(
        order,
        ["cc_parent", "bb_child", "aa_grandchild", "zz_alone"]
    );
    assert_eq!(family_dump(&s).await, family_dump(&d).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_reference_and_cross_schema_foreign_keys() {
    let schema = "CREATE SCHEMA hr; CREATE SCHEMA sales;
        CREATE TABLE hr.employees (id int PRIMARY KEY, manager_id int REFERENCES hr.employees, name text);
        CREATE TABLE sales.customers (id int PRIMARY KEY, account_manager int NOT NULL REFERENCES hr.employees);";
    let (src, dst, s, d, _dbs) = source_and_target(schema).await;
    s.batch_execute(
        "INSERT INTO hr.employees SELECT g, NULL, 'e' || g FROM generate_series(1, 1000) g;
         UPDATE hr.employees SET manager_id = id + 1 WHERE id < 1000;
         INSERT INTO sales.customers SELECT g, 1 + g % 1000 FROM generate_series(1, 3000) g;",
    )
    .await
    .unwrap();
    d.batch_execute(
        "INSERT INTO hr.employees VALUES (5000, NULL, 'old'), (5001, 5000, 'old');
         INSERT INTO sales.customers VALUES (1, 5001);",
    )
    .await
    .unwrap();
    let report = run(&src, &dst, &HashMap::new(), &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(report.failures().count(), 0, "{report:?}");
    let order: Vec<String> = report.tables.iter().map(|t| t.table.to_string()).collect();
    assert_eq!(order, ["hr.employees", "sales.customers"]);
    for q in [
        "SELECT * FROM hr.employees ORDER BY id",
        "SELECT * FROM sales.customers ORDER BY id",
    ] {
        assert_eq!(dump(&s, q).await, dump(&d, q).await);
    }
}

const USERS_SCHEMA: &str = "
    CREATE TABLE users (id int PRIMARY KEY, email text, name text);
    CREATE TABLE orders (id int PRIMARY KEY, user_id int NOT NULL REFERENCES users, total int);
    CREATE TABLE other (id int PRIMARY KEY, v text);";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_transform_rolls_back_its_group_and_resume_skips_committed_groups() {
    let (src, dst, s, d, _dbs) = source_and_target(USERS_SCHEMA).await;
    s.batch_execute(
        "INSERT INTO users SELECT g, 'user' || g || '@example.com', 'Name ' || g FROM generate_series(1, 50000) g;
         INSERT INTO orders SELECT g, 1 + g % 50000, g FROM generate_series(1, 100000) g;
         INSERT INTO other SELECT g, 'o' || g FROM generate_series(1, 100) g;",
    )
    .await
    .unwrap();
    d.batch_execute(
        "INSERT INTO users SELECT g, 'old', 'old' FROM generate_series(1, 10) g;
         INSERT INTO orders SELECT g, 1 + g % 10, 0 FROM generate_series(1, 20) g;",
    )
    .await
    .unwrap();
    let before = dump(&d, "SELECT * FROM users ORDER BY id").await;
    let orders_before = dump(&d, "SELECT * FROM orders ORDER BY id").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let checkpoint = dir.path().join("checkpoint.json");
    let mut failing = Reverse::new(0, &[1]);
    Arc::get_mut(&mut failing).unwrap().fail_after = Some(25_000);
    let mut transforms: Transforms = HashMap::new();
    transforms.insert(public("users"), failing);
    let options = SyncOptions {
        jobs: 1,
        batch_size: 1000,
        checkpoint: Some(checkpoint.clone()),
        ..SyncOptions::default()
    };
    let report = run(&src, &dst, &transforms, &options).await.unwrap();
    assert_eq!(report.failed_groups, 1);
    let TableStatus::Failed { error } = status_of(&report, &public("users")) else {
        panic!("users should fail: {report:?}");
    };
    assert!(error.contains("public.users"), "{error}");
    assert!(error.contains("row id=25001"), "{error}");
    assert!(matches!(
        status_of(&report, &public("orders")),
        TableStatus::Failed { .. }
    ));
    assert_eq!(status_of(&report, &public("other")), &TableStatus::Copied);
    // The failed group is exactly as it was.
    assert_eq!(dump(&d, "SELECT * FROM users ORDER BY id").await, before);
    assert_eq!(
        dump(&d, "SELECT * FROM orders ORDER BY id").await,
        orders_before
    );
    assert_eq!(count(&d, "other").await, 100);

    // Resume: the committed group is skipped (a marker row shows it is left alone).
    d.batch_execute("INSERT INTO other VALUES (-1, 'marker')")
        .await
        .unwrap();
    transforms.insert(public("users"), Reverse::new(0, &[1]));
    let report = run(
        &src,
        &dst,
        &transforms,
        &SyncOptions {
            resume: true,
            ..options
        },
    )
    .await
    .unwrap();
    assert_eq!(report.skipped_groups, 1);
    assert_eq!(report.failed_groups, 0);
    assert_eq!(status_of(&report, &public("other")), &TableStatus::Skipped);
    assert_eq!(status_of(&report, &public("users")), &TableStatus::Copied);
    assert_eq!(count(&d, "other").await, 101);
    assert_eq!(count(&d, "orders").await, 100000);
    assert_eq!(
        dump(&d, "SELECT id, email, name FROM users ORDER BY id").await,
        dump(&s, "SELECT id, reverse(email), name FROM users ORDER BY id").await
    );
    drop(dir);
}

#[derive(Default)]
struct Counting {
    rows: AtomicU64,
    events: Mutex<Vec<String>>,
}

impl Progress for Counting {
    fn on_table_start(&self, table: &TableName, _estimated_rows: u64) {
        self.events.lock().unwrap().push(format!("start {table}"));
    }
    fn on_rows(&self, _table: &TableName, n: u64) {
        self.rows.fetch_add(n, Ordering::Relaxed);
    }
    fn on_table_done(&self, table: &TableName, rows: u64, _elapsed: Duration) {
        self.events
            .lock()
            .unwrap()
            .push(format!("done {table} {rows}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transform_replaces_columns_and_leaves_the_others_intact() {
    let schema = "CREATE TABLE people (id int PRIMARY KEY, email text, note text, name text)";
    let (src, dst, s, d, _dbs) = source_and_target(schema).await;
    s.batch_execute(
        r#"INSERT INTO people VALUES (1, E'a\tb\nc\\d', E'keep\tme\\', 'Zoë 日本'), (2, NULL, NULL, NULL),
             (3, '', E'\\N', E'\\N');
           INSERT INTO people SELECT g, 'u' || g || E'@x\t', E'n\n' || g, 'Ñame ' || g FROM generate_series(4, 25000) g;"#,
    )
    .await
    .unwrap();
    d.batch_execute("INSERT INTO people VALUES (1, 'old', 'old', 'old')")
        .await
        .unwrap();
    let mut transforms: Transforms = HashMap::new();
    transforms.insert(public("people"), Reverse::new(0, &[1, 3]));
    let progress = Arc::new(Counting::default());
    let options = SyncOptions {
        batch_size: 777,
        ..SyncOptions::default()
    };
    let report = run_with(&src, &dst, &transforms, &options, progress.clone())
        .await
        .unwrap();
    assert_eq!(report.failures().count(), 0, "{report:?}");
    assert_eq!(progress.rows.load(Ordering::Relaxed), 25000);
    assert_eq!(
        *progress.events.lock().unwrap(),
        ["start public.people", "done public.people 25000"]
    );
    assert_eq!(
        dump(&d, "SELECT * FROM people ORDER BY id").await,
        dump(
            &s,
            "SELECT id, reverse(email), note, reverse(name) FROM people ORDER BY id"
        )
        .await
    );

    // A dry run shows five rows before and after, and writes nothing.
    d.batch_execute("TRUNCATE people").await.unwrap();
    let report = plan_only(&src, &dst, &transforms, &options).await.unwrap();
    assert_eq!(report.plan.groups.len(), 1);
    assert_eq!(report.plan.groups[0].tables, [public("people")]);
    let sample = &report.samples[0];
    assert_eq!(sample.columns, ["email", "name"]);
    assert_eq!(sample.rows.len(), 5);
    let first = sample
        .rows
        .iter()
        .find(|r| r.before[0].as_deref() == Some("a\tb\nc\\d"))
        .expect("row 1 sampled");
    assert_eq!(first.after[0].as_deref(), Some("d\\c\nb\ta"));
    assert_eq!(first.after[1].as_deref(), Some("本日 ëoZ"));
    assert_eq!(count(&d, "people").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequences_are_set_past_the_copied_values() {
    let schema = "CREATE TABLE s1 (id serial PRIMARY KEY, v text);
        CREATE TABLE s2 (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);
        CREATE TABLE s3 (id serial PRIMARY KEY, v text);";
    let (src, dst, s, d, _dbs) = source_and_target(schema).await;
    s.batch_execute(
        "INSERT INTO s1 (v) SELECT 'a' FROM generate_series(1, 100); DELETE FROM s1 WHERE id > 90;
         INSERT INTO s2 (v) SELECT 'b' FROM generate_series(1, 50);",
    )
    .await
    .unwrap();
    d.batch_execute("INSERT INTO s3 (v) SELECT 'old' FROM generate_series(1, 10)")
        .await
        .unwrap();
    let report = run(&src, &dst, &HashMap::new(), &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(report.failures().count(), 0, "{report:?}");
    let seq = |t: &str| {
        report
            .tables
            .iter()
            .find(|r| r.table.name == t)
            .unwrap()
            .sequences[0]
            .clone()
    };
    assert_eq!((seq("s1").value, seq("s1").is_called), (90, true));
    assert_eq!((seq("s2").value, seq("s2").is_called), (50, true));
    assert_eq!((seq("s3").value, seq("s3").is_called), (1, false));
    assert_eq!(seq("s1").sequence, public("s1_id_seq"));
    for (table, next) in [("s1", 91i64), ("s2", 51), ("s3", 1)] {
        let id: i64 = d
            .query_one(
                &format!("INSERT INTO {table} (v) VALUES ('new') RETURNING id::int8"),
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(id, next, "{table}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_columns_are_skipped_and_recomputed() {
    let schema = "CREATE TABLE g (id int PRIMARY KEY, a int, b int,
        total int GENERATED ALWAYS AS (a * b) STORED, c text)";
    let (src, dst, s, d, _dbs) = source_and_target(schema).await;
    s.batch_execute(
        "INSERT INTO g (id, a, b, c) SELECT x, x, 2, 'c' FROM generate_series(1, 1000) x",
    )
    .await
    .unwrap();
    let catalog = catalog::discover(&s, &TableFilter::default())
        .await
        .unwrap();
    let columns: Vec<&str> = catalog.tables[0]
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(columns, ["id", "a", "b", "c"]);
    assert_eq!(catalog.tables[0].primary_key, [0]);
    run(&src, &dst, &HashMap::new(), &SyncOptions::default())
        .await
        .unwrap();
    let q = "SELECT * FROM g ORDER BY id";
    assert_eq!(dump(&s, q).await, dump(&d, q).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctid_split_reads_exactly_the_same_rows() {
    let schema = "CREATE TABLE big (id int PRIMARY KEY, email text, pad text)";
    let mut keep = Vec::new();
    let src = fresh_db(&mut keep).await;
    let s = connect(&src).await;
    s.batch_execute(schema).await.unwrap();
    s.batch_execute(
        "INSERT INTO big SELECT g, 'mail' || g || E'\t@x', repeat(md5(g::text), 3) FROM generate_series(1, 40000) g;
         DELETE FROM big WHERE id % 7 = 0; UPDATE big SET pad = 'moved' WHERE id % 11 = 0;
         ANALYZE big;",
    )
    .await
    .unwrap();
    let mut targets = Vec::new();
    for _ in 0..3 {
        let config = fresh_db(&mut keep).await;
        connect(&config).await.batch_execute(schema).await.unwrap();
        targets.push(config);
    }
    let split = SyncOptions {
        jobs: 4,
        split_min_pages: 1,
        ..SyncOptions::default()
    };
    let unsplit = SyncOptions {
        jobs: 1,
        ..SyncOptions::default()
    };
    // A table copied as it is is never split: the target's single COPY is its limit.
    let report = run(&src, &targets[0], &HashMap::new(), &split)
        .await
        .unwrap();
    assert_eq!(report.tables[0].readers, 1);
    let report = run(&src, &targets[1], &HashMap::new(), &unsplit)
        .await
        .unwrap();
    assert_eq!(report.tables[0].readers, 1);
    let mut transforms: Transforms = HashMap::new();
    transforms.insert(public("big"), Reverse::new(0, &[1]));
    let report = run(&src, &targets[2], &transforms, &split).await.unwrap();
    assert_eq!(report.tables[0].readers, 4);
    assert_eq!(report.tables[0].rows_written, 40000 - 40000 / 7);
    let q = "SELECT * FROM big ORDER BY id";
    let expected = dump(&s, q).await;
    for config in &targets[..2] {
        assert_eq!(dump(&connect(config).await, q).await, expected);
    }
    assert_eq!(
        dump(&connect(&targets[2]).await, q).await,
        dump(&s, "SELECT id, reverse(email), pad FROM big ORDER BY id").await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_tables_come_from_one_snapshot_despite_a_concurrent_writer() {
    let schema = "CREATE TABLE ledger_a (id bigserial PRIMARY KEY, v text);
        CREATE TABLE ledger_b (id bigserial PRIMARY KEY, v text);";
    let (src, dst, s, d, _dbs) = source_and_target(schema).await;
    s.batch_execute(
        "INSERT INTO ledger_a (v) SELECT md5(g::text) FROM generate_series(1, 200000) g;
         INSERT INTO ledger_b (v) SELECT md5(g::text) FROM generate_series(1, 200000) g;",
    )
    .await
    .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let writer = connect(&src).await;
        tokio::spawn(async move {
            let mut commits = 0u64;
            while !stop.load(Ordering::Relaxed) {
                writer
                    .batch_execute(
                        "BEGIN; INSERT INTO ledger_a (v) SELECT 'w' FROM generate_series(1, 50);
                         INSERT INTO ledger_b (v) SELECT 'w' FROM generate_series(1, 50); COMMIT;",
                    )
                    .await
                    .unwrap();
                commits += 1;
            }
            commits
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let options = SyncOptions {
        jobs: 3,
        split_min_pages: 1,
        ..SyncOptions::default()
    };
    // ledger_a is anonymized, so the spare worker splits it: its two readers and ledger_b's
    // reader are three connections importing the one snapshot.
    let mut transforms: Transforms = HashMap::new();
    transforms.insert(public("ledger_a"), Reverse::new(0, &[1]));
    let report = run(&src, &dst, &transforms, &options).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, Ordering::Relaxed);
    let commits = writer.await.unwrap();
    assert!(commits > 2, "the writer committed {commits} times");
    assert_eq!(report.failures().count(), 0, "{report:?}");
    assert!(report.tables.iter().any(|t| t.readers > 1), "{report:?}");
    let a = count(&d, "ledger_a").await;
    let b = count(&d, "ledger_b").await;
    assert_eq!(a, b, "both tables read from the same snapshot");
    assert!(report.tables.iter().all(|t| t.rows_read == a as u64));
    assert!(
        count(&s, "ledger_a").await > a,
        "rows written after the snapshot are not copied"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_tables_and_schema_differences_fail_before_any_write() {
    let (src, dst, s, d, _dbs) = source_and_target(
        "CREATE TABLE t (id int PRIMARY KEY, v text); CREATE TABLE u (id int PRIMARY KEY)",
    )
    .await;
    s.batch_execute("INSERT INTO t VALUES (1, 'new')")
        .await
        .unwrap();
    d.batch_execute("INSERT INTO t VALUES (2, 'old')")
        .await
        .unwrap();
    for filter in [
        TableFilter {
            tables: vec!["public.t".into(), "nope".into()],
            ..TableFilter::default()
        },
        TableFilter {
            exclude: vec!["other.t".into()],
            ..TableFilter::default()
        },
    ] {
        let options = SyncOptions {
            filter,
            ..SyncOptions::default()
        };
        let error = run(&src, &dst, &HashMap::new(), &options)
            .await
            .unwrap_err();
        let text = format!("{error:#}");
        assert!(
            text.contains("no such table") && (text.contains("nope") || text.contains("other.t")),
            "{text}"
        );
    }
    d.batch_execute("ALTER TABLE u ADD COLUMN extra int NOT NULL")
        .await
        .unwrap();
    d.batch_execute("ALTER TABLE t ALTER COLUMN v TYPE varchar(10)")
        .await
        .unwrap();
    let error = run(&src, &dst, &HashMap::new(), &SyncOptions::default())
        .await
        .unwrap_err();
    let text = format!("{error:#}");
    assert!(
        text.contains("public.t: column v is `text` in the source but `character varying(10)`"),
        "{text}"
    );
    assert!(
        text.contains("public.u: the target's column extra is NOT NULL without a default"),
        "{text}"
    );
    assert_eq!(dump(&d, "SELECT * FROM t").await, b"2\told\n");
}

/// A target database (or role) set to `session_replication_role = replica` would skip its
/// triggers and foreign keys for every session, the sync's included: without
/// `--disable-triggers` the sync sets its own sessions back to `origin`, so a target trigger
/// still fires and a row breaking a target foreign key is still refused (its group rolled back).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_set_to_replica_mode_still_fires_triggers_and_checks_foreign_keys() {
    let schema = "CREATE TABLE parent (id int PRIMARY KEY, label text);
                  CREATE TABLE child (id int PRIMARY KEY, parent_id int);";
    let (src, dst, s, d, _dbs) = source_and_target(schema).await;
    s.batch_execute(
        "INSERT INTO parent VALUES (1, 'a');
         INSERT INTO child VALUES (1, 1), (2, 99);",
    )
    .await
    .unwrap();
    // Only the target has the trigger and the foreign key (to a table the sync does not
    // copy), which child 2 breaks.
    d.batch_execute(
        "CREATE FUNCTION mark() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN NEW.label := NEW.label || ' (trigger)'; RETURN NEW; END $$;
         CREATE TRIGGER mark BEFORE INSERT ON parent FOR EACH ROW EXECUTE FUNCTION mark();
         CREATE TABLE allowed (id int PRIMARY KEY);
         INSERT INTO allowed VALUES (1);
         ALTER TABLE child ADD FOREIGN KEY (parent_id) REFERENCES allowed (id);
         INSERT INTO child VALUES (7, NULL);
         DO $$ BEGIN
             EXECUTE format('ALTER DATABASE %I SET session_replication_role = replica',
                            current_database());
         END $$;",
    )
    .await
    .unwrap();
    let fresh = connect(&dst).await;
    let role: String = fresh
        .query_one("SHOW session_replication_role", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        role, "replica",
        "the target's sessions start in replica mode"
    );

    let report = run(&src, &dst, &HashMap::new(), &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(status_of(&report, &public("parent")), &TableStatus::Copied);
    let TableStatus::Failed { error } = status_of(&report, &public("child")) else {
        panic!("child breaks the target's foreign key: {report:?}");
    };
    assert!(error.contains("foreign key"), "{error}");
    assert_eq!(
        dump(&d, "SELECT * FROM parent").await,
        b"1\ta (trigger)\n".to_vec(),
        "the target's trigger fired"
    );
    assert_eq!(
        dump(&d, "SELECT * FROM child").await,
        b"7\t\\N\n".to_vec(),
        "the failed group is rolled back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_key_cycles_need_deferrable_constraints_or_the_replica_role() {
    let cycle = |deferrable: &str| {
        format!(
            "CREATE TABLE x (id int PRIMARY KEY, y_id int);
             CREATE TABLE y (id int PRIMARY KEY, x_id int REFERENCES x {deferrable});
             ALTER TABLE x ADD FOREIGN KEY (y_id) REFERENCES y {deferrable};
             DO $$ BEGIN CREATE ROLE syncer LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
             GRANT ALL ON ALL TABLES IN SCHEMA public TO syncer;"
        )
    };
    let fill = "INSERT INTO x SELECT g, NULL FROM generate_series(1, 100) g;
        INSERT INTO y SELECT g, g FROM generate_series(1, 100) g;
        UPDATE x SET y_id = id;";
    let rows = "SELECT * FROM x ORDER BY id";

    let (src, dst, s, d, _dbs) = source_and_target(&cycle("")).await;
    s.batch_execute(fill).await.unwrap();
    d.batch_execute(fill).await.unwrap();
    d.batch_execute("UPDATE x SET y_id = NULL WHERE id = 1")
        .await
        .unwrap();
    let as_syncer = as_user(&dst, "syncer");
    let error = run(&src, &as_syncer, &HashMap::new(), &SyncOptions::default())
        .await
        .unwrap_err();
    let text = format!("{error:#}");
    assert!(
        text.contains("public.x, public.y") && text.contains("DEFERRABLE"),
        "{text}"
    );
    assert_ne!(dump(&s, rows).await, dump(&d, rows).await);
    // Replica mode is asked for, and needs a role allowed to set it.
    let replica = SyncOptions {
        disable_triggers: true,
        ..SyncOptions::default()
    };
    let error = run(&src, &as_syncer, &HashMap::new(), &replica)
        .await
        .unwrap_err();
    assert!(
        format!("{error:#}").contains("--disable-triggers needs"),
        "{error:#}"
    );
    let error = plan_only(&src, &dst, &HashMap::new(), &SyncOptions::default())
        .await
        .unwrap_err();
    assert!(format!("{error:#}").contains("DEFERRABLE"), "{error:#}");
    let plan = plan_only(&src, &dst, &HashMap::new(), &replica)
        .await
        .unwrap()
        .plan;
    assert_eq!(plan.groups[0].cycle_mode, CycleMode::ReplicaRole);
    let report = run(&src, &dst, &HashMap::new(), &replica).await.unwrap();
    assert_eq!(report.failures().count(), 0, "{report:?}");
    assert_eq!(dump(&s, rows).await, dump(&d, rows).await);
    // An ordinary role granted SET on the parameter (PostgreSQL 15+), as the refusal's hint
    // says, may load in replica mode too.
    d.batch_execute(
        "DO $$ BEGIN CREATE ROLE replica_syncer LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
         GRANT ALL ON ALL TABLES IN SCHEMA public TO replica_syncer;
         GRANT SET ON PARAMETER session_replication_role TO replica_syncer;
         UPDATE x SET y_id = NULL WHERE id = 1;",
    )
    .await
    .unwrap();
    assert_ne!(dump(&s, rows).await, dump(&d, rows).await);
    let as_granted = as_user(&dst, "replica_syncer");
    let report = run(&src, &as_granted, &HashMap::new(), &replica)
        .await
        .unwrap();
    assert_eq!(report.failures().count(), 0, "{report:?}");
    assert_eq!(dump(&s, rows).await, dump(&d, rows).await);

    // Deferrable constraints work for an ordinary role.
    let (src, dst, s, d, _dbs) = source_and_target(&cycle("DEFERRABLE")).await;
    s.batch_execute(fill).await.unwrap();
    let as_syncer = as_user(&dst, "syncer");
    let report = run(&src, &as_syncer, &HashMap::new(), &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(report.failures().count(), 0, "{report:?}");
    assert_eq!(dump(&s, rows).await, dump(&d, rows).await);
}
