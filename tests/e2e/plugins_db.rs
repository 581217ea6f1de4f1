//! The `database` import against a real PostgreSQL, through [`HookSession`]: the statement
//! gate, the plugin's role, the read-only savepoint, writes that stay in the caller's
//! transaction, text-form parameters and results, the refusals of a grant on a superuser
//! connection, and the integrity check after every statement.
//!
//! Each test gets a fresh database on the suite's shared cluster (`crate::harness::TestDb`).

use std::time::{Duration, Instant};

use confiture::plugins::database::{DbFuture, DbReply, DbRequest, HookSession, Mode, SessionStop};
use confiture::plugins::hooks::{HookEvent, Migration};
use confiture::plugins::log::LogSource;
use confiture::plugins::{
    CallFailure, HookCallError, HookContext, HookDatabase, PgDatabase, PluginSet, PluginSources,
    Rows, call_hook,
};
use confiture::project::settings::plugins::Grant;

use crate::harness::TestDb;
use crate::plugins_support::{
    PLUGIN_ROLE, STRATEGY_PLUGIN, component, engine, grant_plugin_role, load, settings,
};

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
}

/// A fresh database whose plugins run as [`PLUGIN_ROLE`], and a client on it.
async fn database() -> (TestDb, tokio_postgres::Client) {
    // The harness's client is synchronous: create the database off the async thread.
    let db = tokio::task::spawn_blocking(|| {
        let db = TestDb::new();
        grant_plugin_role(&db);
        db
    })
    .await
    .expect("create a test database");
    let client = connect(&db.url).await;
    (db, client)
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

fn query(sql: &str, mode: Mode) -> DbRequest {
    DbRequest::Query {
        sql: sql.into(),
        params: vec![],
        mode,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_import_against_postgres() {
    let (_db, mut client) = database().await;
    client
        .batch_execute(
            "CREATE TABLE users (id int PRIMARY KEY, email text, born date);
             CREATE SEQUENCE user_ids;
             INSERT INTO users VALUES (1, 'a@x.org', '1990-01-02'), (2, NULL, NULL);",
        )
        .await
        .unwrap();

    let tx = client.transaction().await.unwrap();
    let mut db = PgDatabase::transaction(&tx);
    let mut session = HookSession::new(&mut db, "test-plugin", Some(PLUGIN_ROLE));

    // Text parameters bind to any type; every column comes back in text form; the statement
    // runs as the plugin's role.
    let got = session
        .serve(
            DbRequest::Query {
                sql: "SELECT id, email, born, born + 1 AS next, current_user::text AS who \
                      FROM users WHERE id >= $1 ORDER BY id;"
                    .into(),
                params: vec![Some("1".into())],
                mode: Mode::ReadOnly,
            },
            later(),
        )
        .await
        .unwrap();
    let got = rows(got);
    assert_eq!(got.columns, ["id", "email", "born", "next", "who"]);
    assert_eq!(
        got.values,
        vec![
            vec![
                Some("1".into()),
                Some("a@x.org".into()),
                Some("1990-01-02".into()),
                Some("1990-01-03".into()),
                Some(PLUGIN_ROLE.into()),
            ],
            vec![Some("2".into()), None, None, None, Some(PLUGIN_ROLE.into())],
        ]
    );

    // db-read: a write is refused before it runs; one hidden in a query fails in the read-only
    // savepoint. Nothing survives and the transaction stays usable.
    let refused = session
        .serve(
            query(
                "INSERT INTO users VALUES (3, 'c@x.org') RETURNING id",
                Mode::ReadOnly,
            ),
            later(),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code, "refused", "{refused:?}");
    let hidden = session
        .serve(query("SELECT nextval('user_ids')", Mode::ReadOnly), later())
        .await
        .unwrap_err();
    assert_eq!(hidden.code, "25006", "{hidden:?}"); // read_only_sql_transaction

    // db-write: writes stay in the caller's transaction, through query (RETURNING) and execute.
    let inserted = session
        .serve(
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
    let updated = session
        .serve(
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
    let failed = session
        .serve(
            DbRequest::Execute {
                sql: "INSERT INTO users VALUES (1, 'duplicate')".into(),
                params: vec![],
            },
            later(),
        )
        .await
        .unwrap_err();
    assert_eq!(failed.code, "23505");
    // Only the refusal decides the call's outcome; failed statements do not.
    assert!(
        matches!(session.stopped(), Some(SessionStop::Refused(why)) if why.contains("only `db-read`")),
        "{:?}",
        session.stopped()
    );
    drop(session);
    let count = tx
        .query_one("SELECT count(*)::int FROM users", &[])
        .await
        .unwrap()
        .get::<_, i32>(0);
    assert_eq!(count, 3, "rows 1, 2 and 4; 3 was never written");
    // The host's role and settings are back after the writes.
    let who: String = tx
        .query_one("SELECT current_user::text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(who, "postgres");
    tx.rollback().await.unwrap();

    // Outside a transaction, db-read runs in a read-only transaction that is rolled back.
    let mut auto = PgDatabase::autocommit(&client);
    assert!(!auto.in_transaction());
    let mut session = HookSession::new(&mut auto, "test-plugin", Some(PLUGIN_ROLE));
    let refused = session
        .serve(query("SELECT nextval('user_ids')", Mode::ReadOnly), later())
        .await
        .unwrap_err();
    assert_eq!(refused.code, "25006");
    // db-write in autocommit: the statement commits on its own.
    session
        .serve(
            DbRequest::Execute {
                sql: "DELETE FROM users WHERE id = 2".into(),
                params: vec![],
            },
            later(),
        )
        .await
        .unwrap();
    assert!(session.stopped().is_none());
    let count = client
        .query_one("SELECT count(*)::int FROM users", &[])
        .await
        .unwrap()
        .get::<_, i32>(0);
    assert_eq!(count, 1, "the read rolled back, the write committed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_on_a_superuser_connection_need_a_least_privilege_role() {
    let (_db, client) = database().await;
    let mut auto = PgDatabase::autocommit(&client);
    let cases = [
        (None, "the connection's user `postgres` has SUPERUSER"),
        (Some("no_such_confiture_role"), "does not exist"),
        (Some("postgres"), "has SUPERUSER"),
        (Some("pg_read_server_files"), "has pg_read_server_files"),
    ];
    for (role, expected) in cases {
        let mut session = HookSession::new(&mut auto, "test-plugin", role);
        let err = session
            .serve(query("SELECT 1", Mode::ReadOnly), later())
            .await
            .unwrap_err();
        assert_eq!(err.code, "refused", "{role:?}: {err:?}");
        assert!(err.message.contains(expected), "{role:?}: {}", err.message);
    }
}

/// A driver that commits behind the host's back after each plugin statement: what a
/// statement the gate failed to recognise as transaction control would do.
struct CommitsBehindTheHost<'c>(PgDatabase<'c, tokio_postgres::Transaction<'c>>);

impl HookDatabase for CommitsBehindTheHost<'_> {
    fn query<'a>(&'a mut self, sql: &'a str, params: &'a [Option<String>]) -> DbFuture<'a, Rows> {
        Box::pin(async move {
            let rows = self.0.query(sql, params).await?;
            self.0.batch("COMMIT").await?;
            Ok(rows)
        })
    }
    fn execute<'a>(&'a mut self, sql: &'a str, params: &'a [Option<String>]) -> DbFuture<'a, u64> {
        self.0.execute(sql, params)
    }
    fn batch<'a>(&'a mut self, sql: &'a str) -> DbFuture<'a, ()> {
        self.0.batch(sql)
    }
    fn simple<'a>(&'a mut self, sql: &'a str) -> DbFuture<'a, Vec<Vec<Option<String>>>> {
        self.0.simple(sql)
    }
    fn in_transaction(&self) -> bool {
        true
    }
    fn cancel_token(&self) -> Option<tokio_postgres::CancelToken> {
        self.0.cancel_token()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integrity_is_checked_after_every_statement() {
    let (_db, mut client) = database().await;
    client
        .batch_execute(
            "CREATE TABLE t (id int);
             CREATE FUNCTION leak_lock() RETURNS void LANGUAGE sql AS $$ SELECT pg_advisory_lock(77) $$;
             CREATE FUNCTION leak_setting() RETURNS text LANGUAGE sql
                 AS $$ SELECT set_config('search_path', 'leaked', false) $$;",
        )
        .await
        .unwrap();

    // A function the migration defined passes the statement check and takes a session lock:
    // the check after the statement finds it, and the session refuses any further statement.
    let tx = client.transaction().await.unwrap();
    let mut db = PgDatabase::transaction(&tx);
    let mut session = HookSession::new(&mut db, "test-plugin", Some(PLUGIN_ROLE));
    let err = session
        .serve(query("SELECT leak_lock()", Mode::ReadOnly), later())
        .await
        .unwrap_err();
    assert!(err.message.contains("host integrity failure"), "{err:?}");
    let Some(SessionStop::Breach(breach)) = session.stopped() else {
        panic!("{:?}", session.stopped())
    };
    assert_eq!(breach.what, "advisory locks are held that were not before");
    assert!(!breach.transaction_lost);
    let after = session
        .serve(query("SELECT 1", Mode::ReadOnly), later())
        .await
        .unwrap_err();
    assert!(after.message.contains("stopped"), "{after:?}");
    drop(session);
    tx.rollback().await.unwrap();

    // A setting changed for the session by a db-write statement.
    let tx = client.transaction().await.unwrap();
    let mut db = PgDatabase::transaction(&tx);
    let mut session = HookSession::new(&mut db, "test-plugin", Some(PLUGIN_ROLE));
    session
        .serve(query("SELECT leak_setting()", Mode::Write), later())
        .await
        .unwrap_err();
    let Some(SessionStop::Breach(breach)) = session.stopped() else {
        panic!("{:?}", session.stopped())
    };
    assert_eq!(breach.what, "session settings changed");
    drop(session);
    tx.rollback().await.unwrap();

    // The transaction ended behind the host's back: its savepoint is gone, and the breach says
    // the transaction was lost (what ran before may be committed).
    let tx = client.transaction().await.unwrap();
    tx.batch_execute("INSERT INTO t VALUES (1)").await.unwrap();
    let mut db = CommitsBehindTheHost(PgDatabase::transaction(&tx));
    let mut session = HookSession::new(&mut db, "test-plugin", Some(PLUGIN_ROLE));
    session
        .serve(query("SELECT 1", Mode::ReadOnly), later())
        .await
        .unwrap_err();
    let Some(SessionStop::Breach(breach)) = session.stopped() else {
        panic!("{:?}", session.stopped())
    };
    assert!(breach.transaction_lost, "{breach:?}");
    assert!(breach.what.contains("confiture_plugin"), "{breach:?}");
    drop(session);
    let _ = tx.rollback().await;
    let committed = client
        .query_one("SELECT count(*)::int FROM t", &[])
        .await
        .unwrap()
        .get::<_, i32>(0);
    assert_eq!(committed, 1, "the driver did commit: the breach is real");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_statement_is_stopped_on_the_server_at_the_deadline() {
    let (_db, mut client) = database().await;
    let tx = client.transaction().await.unwrap();
    let mut db = PgDatabase::transaction(&tx);
    let mut session = HookSession::new(&mut db, "test-plugin", Some(PLUGIN_ROLE));
    let started = Instant::now();
    let err = session
        .serve(
            query("SELECT pg_sleep(60)", Mode::ReadOnly),
            Instant::now() + Duration::from_millis(300),
        )
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.code, "57014", "{err:?}"); // query_canceled: statement_timeout
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(session.stopped().is_none(), "{:?}", session.stopped());
    // The transaction is usable, and nothing of the statement runs on.
    drop(session);
    let n: i64 = tx.query_one("SELECT 1::int8", &[]).await.unwrap().get(0);
    assert_eq!(n, 1);
    tx.rollback().await.unwrap();
}

fn with_role(
    settings: confiture::project::settings::plugins::PluginSettings,
) -> confiture::project::settings::plugins::PluginSettings {
    confiture::project::settings::plugins::PluginSettings {
        role: Some(PLUGIN_ROLE.into()),
        ..settings
    }
}

fn context(event: HookEvent) -> HookContext {
    HookContext {
        event: event.into(),
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
    let (_db, mut client) = database().await;
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
    let granted = load(&engine, &file, with_role(settings(&[], &[Grant::DbRead])));
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
    assert!(
        matches!(&err, HookCallError::Plugin(e) if e.failure == CallFailure::Returned),
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
        with_role(settings(&[("table", "orders")], &[Grant::DbRead])),
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
    assert!(
        err.to_string().contains("\"orders\" does not exist"),
        "{err}"
    );
    tx.rollback().await.unwrap();
}
