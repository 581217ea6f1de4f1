//! The `database` import against a real PostgreSQL: grants, the read-only savepoint, writes
//! that stay in the caller's transaction, and text-form parameters and results.
//!
//! Each test gets a fresh database on the suite's shared cluster (`crate::harness::TestDb`).

use std::time::{Duration, Instant};

use confiture::plugins::database::{DbReply, DbRequest, Mode, serve};
use confiture::plugins::hooks::{HookEvent, Migration};
use confiture::plugins::log::LogSource;
use confiture::plugins::{
    HookContext, HookDatabase, PgDatabase, PluginSet, PluginSources, Rows, call_hook,
};
use confiture::project::Grant;

use crate::harness::TestDb;
use crate::plugins_support::{STRATEGY_PLUGIN, component, engine, load, settings};

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
}

fn later() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

fn rows(reply: DbReply) -> Rows {
    match reply {
        DbReply::Rows(rows) => rows,
        other => panic!("expected rows, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_import_against_postgres() {
    // The harness's client is synchronous: create the database off the async thread.
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .expect("create a test database");
    let mut client = connect(&db.url).await;
    client
        .batch_execute(
            "CREATE TABLE users (id int PRIMARY KEY, email text, born date);
             INSERT INTO users VALUES (1, 'a@x.org', '1990-01-02'), (2, NULL, NULL);",
        )
        .await
        .unwrap();

    let tx = client.transaction().await.unwrap();
    let mut db = PgDatabase::transaction(&tx);

    // Text parameters bind to any type; every column comes back in text form.
    let got = serve(
        &mut db,
        DbRequest::Query {
            sql: "SELECT id, email, born, born + 1 AS next FROM users WHERE id >= $1 ORDER BY id;"
                .into(),
            params: vec![Some("1".into())],
            mode: Mode::ReadOnly,
        },
        later(),
    )
    .await
    .unwrap();
    let got = rows(got);
    assert_eq!(got.columns, ["id", "email", "born", "next"]);
    assert_eq!(
        got.values,
        vec![
            vec![
                Some("1".into()),
                Some("a@x.org".into()),
                Some("1990-01-02".into()),
                Some("1990-01-03".into())
            ],
            vec![Some("2".into()), None, None, None],
        ]
    );

    // db-read: a write through `query` fails, and nothing survives; the transaction is usable.
    let refused = serve(
        &mut db,
        DbRequest::Query {
            sql: "INSERT INTO users VALUES (3, 'c@x.org') RETURNING id".into(),
            params: vec![],
            mode: Mode::ReadOnly,
        },
        later(),
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code, "25006", "{refused:?}"); // read_only_sql_transaction

    // db-write: writes stay in the caller's transaction, through query (RETURNING) and execute.
    let inserted = serve(
        &mut db,
        DbRequest::Query {
            sql: "INSERT INTO users VALUES ($1, $2) RETURNING id, email".into(),
            params: vec![Some("4".into()), None],
            mode: Mode::Write,
        },
        later(),
    )
    .await
    .unwrap();
    assert_eq!(rows(inserted).values, vec![vec![Some("4".into()), None]]);
    let updated = serve(
        &mut db,
        DbRequest::Execute {
            sql: "UPDATE users SET email = $1 WHERE email IS NULL".into(),
            params: vec![Some("n@x.org".into())],
        },
        later(),
    )
    .await
    .unwrap();
    assert_eq!(updated, DbReply::Count(2));

    // A failing write is rolled back to its savepoint: the transaction stays usable.
    let failed = serve(
        &mut db,
        DbRequest::Execute {
            sql: "INSERT INTO users VALUES (1, 'duplicate')".into(),
            params: vec![],
        },
        later(),
    )
    .await
    .unwrap_err();
    assert_eq!(failed.code, "23505");
    let count = tx
        .query_one("SELECT count(*)::int FROM users", &[])
        .await
        .unwrap()
        .get::<_, i32>(0);
    assert_eq!(count, 3, "rows 1, 2 and 4; 3 was never written");
    tx.rollback().await.unwrap();

    // Outside a transaction, db-read runs in a read-only transaction that is rolled back.
    let mut auto = PgDatabase::autocommit(&client);
    assert!(!auto.in_transaction());
    let refused = serve(
        &mut auto,
        DbRequest::Query {
            sql: "DELETE FROM users RETURNING id".into(),
            params: vec![],
            mode: Mode::ReadOnly,
        },
        later(),
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code, "25006");
    let count = client
        .query_one("SELECT count(*)::int FROM users", &[])
        .await
        .unwrap()
        .get::<_, i32>(0);
    assert_eq!(count, 2, "the caller's transaction was rolled back");
}

fn context(event: HookEvent) -> HookContext {
    HookContext {
        event,
        migration: Some(Migration {
            version: "20261125093000".into(),
            name: "add_users_email_index".into(),
            checksum: "0".repeat(64),
            direction: confiture::plugins::hooks::Direction::Up,
            path: "db/migrations/20261125093000_add_users_email_index.up.sql".into(),
            sql: "CREATE INDEX ON users (email);".into(),
        }),
        environment: "test".into(),
        status: "running".into(),
        duration_ms: None,
        error: None,
        metadata: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hook_needs_its_grant_and_reads_inside_the_migration() {
    // The harness's client is synchronous: create the database off the async thread.
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .expect("create a test database");
    let mut client = connect(&db.url).await;
    client
        .batch_execute("CREATE TABLE users (id int PRIMARY KEY, email text)")
        .await
        .unwrap();
    let (engine, logs) = engine(None, None);
    let file = component(crate::plugins_support::HOOK_PLUGIN);

    // Not granted: the database call is refused, naming the plugin and the grant.
    let ungranted = load(&engine, &file, settings(&[], &[]));
    let tx = client.transaction().await.unwrap();
    let mut db = PgDatabase::transaction(&tx);
    let err = call_hook(&ungranted, context(HookEvent::PostExecute), Some(&mut db))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains(ungranted.name()), "{text}");
    assert!(text.contains("not granted `db-read`"), "{text}");
    tx.rollback().await.unwrap();

    // Granted: it sees the migration's uncommitted rows and fails on a NULL email.
    let granted = load(&engine, &file, settings(&[], &[Grant::DbRead]));
    let tx = client.transaction().await.unwrap();
    tx.batch_execute("INSERT INTO users VALUES (1, 'a@x.org')")
        .await
        .unwrap();
    let mut db = PgDatabase::transaction(&tx);
    call_hook(&granted, context(HookEvent::PostExecute), Some(&mut db))
        .await
        .expect("no NULL emails: the hook passes");
    tx.batch_execute("INSERT INTO users VALUES (2, NULL)")
        .await
        .unwrap();
    let mut db = PgDatabase::transaction(&tx);
    let err = call_hook(&granted, context(HookEvent::PostExecute), Some(&mut db))
        .await
        .unwrap_err();
    assert_eq!(
        err.failure,
        confiture::plugins::CallFailure::Returned,
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("handle(post-execute 20261125093000_add_users_email_index)"),
        "{err}"
    );
    // The hook's read left the transaction usable.
    let n: i64 = tx
        .query_one("SELECT count(*) FROM users", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
    tx.rollback().await.unwrap();
    // Its `log` lines reach the host log under its name.
    assert!(
        logs.records()
            .iter()
            .any(|r| r.plugin == granted.name() && r.source == LogSource::Log),
        "{:?}",
        logs.records()
    );

    // Each plugin sees its own config, and only its own: the set hands the hook the `table`
    // configured for it, not the one configured for the strategy.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&file, dir.path().join("hook.wasm")).unwrap();
    std::fs::copy(component(STRATEGY_PLUGIN), dir.path().join("strategy.wasm")).unwrap();
    let mut sources = PluginSources {
        dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    sources.settings.insert(
        granted.name().to_string(),
        settings(&[("table", "orders")], &[Grant::DbRead]),
    );
    sources
        .settings
        .insert(STRATEGY_PLUGIN.into(), settings(&[("table", "users")], &[]));
    let set = PluginSet::load(&engine, &sources).unwrap();
    let hook = set.get(granted.name()).unwrap();
    let tx = client.transaction().await.unwrap();
    let mut db = PgDatabase::transaction(&tx);
    let err = call_hook(hook, context(HookEvent::PostExecute), Some(&mut db))
        .await
        .unwrap_err();
    assert!(err.detail.contains("\"orders\" does not exist"), "{err}");
    tx.rollback().await.unwrap();
}
