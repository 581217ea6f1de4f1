//! The applier's all-or-nothing promise attacked with hostile files and hooks (issue #13):
//! transaction control in files (in the middle, and the accepted outer wrapper), dry runs that
//! try to commit, hooks that try to commit, psql meta-commands, statements that cannot run in a
//! transaction. Each check asserts what the tool printed and what the database holds.

use crate::harness::TestProject;
use crate::hooks_support::{RECORDER, project_with};
use crate::migrate_up::{exists, set_env};

/// Writes `db/migrations/<slug>.up.sql`.
fn migration(p: &TestProject, slug: &str, sql: &str) {
    p.write(&format!("db/migrations/{slug}.up.sql"), sql);
}

/// The versions in the tracking table, in order (none when it does not exist).
pub fn recorded(p: &TestProject) -> Vec<String> {
    if !exists(p, "public.tb_confiture") {
        return Vec::new();
    }
    p.db.scalar("SELECT coalesce(string_agg(version, ',' ORDER BY version), '') FROM tb_confiture")
        .unwrap_or_default()
        .split(',')
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

/// The risk level `migrate status` shows for `version`.
fn risk_of(p: &TestProject, version: &str) -> String {
    let status = p.run(&["migrate", "status", "--format", "json"]).json();
    let row = status["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["version"] == version)
        .unwrap_or_else(|| panic!("no {version} in {status}"))
        .clone();
    row["risk"].as_str().unwrap_or("").to_string()
}

#[test]
fn transaction_control_in_a_file_is_refused_before_anything_runs() {
    let p = TestProject::new();
    migration(&p, "001_first", "CREATE TABLE first (id int);\n");
    let cases = [
        (
            "CREATE TABLE a (id int);\nCOMMIT;\nCREATE TABLE b (x nope);\n",
            2,
            "COMMIT at line 2",
        ),
        (
            "CREATE TABLE a (id int);\nROLLBACK;\nCREATE TABLE b (id int);\n",
            2,
            "ROLLBACK at line 2",
        ),
        ("CREATE TABLE a (id int);\nEND;\n", 2, "COMMIT at line 2"),
        (
            "BEGIN;\nCREATE TABLE a (id int);\nBEGIN;\nSELECT 1;\nCOMMIT;\n",
            3,
            "BEGIN at line 3",
        ),
        // A stray BEGIN never committed (as found in a public sqlx migration set).
        (
            "CREATE TABLE a (id int);\nBEGIN;\nCREATE TABLE b (id int);\n",
            2,
            "BEGIN at line 2",
        ),
        (
            "CREATE TABLE a (id int);\nSAVEPOINT s;\nROLLBACK TO SAVEPOINT s;\n",
            2,
            "SAVEPOINT at line 2",
        ),
        (
            "CREATE TABLE a (id int);\nPREPARE TRANSACTION 'p';\n",
            2,
            "PREPARE TRANSACTION at line 2",
        ),
        // Block comments nest: what looks like a CREATE is inside the comment.
        (
            "CREATE TABLE a (id int);\n/* a /* nested */ CREATE */ COMMIT;\nCREATE TABLE b (id int);\n",
            2,
            "COMMIT at line 2",
        ),
    ];
    for (sql, line, what) in cases {
        migration(&p, "002_bad", sql);
        for args in [
            &["migrate", "up"][..],
            &["migrate", "up", "--dry-run-execute"],
            &["migrate", "up", "--dry-run"],
            &["migrate", "wizard", "--auto"],
        ] {
            let run = p.run(args);
            assert_eq!(run.code, 5, "{args:?} {sql}\n{run:?}");
            assert!(
                run.stderr
                    .contains(&format!("db/migrations/002_bad.up.sql:{line}: {what}")),
                "{args:?} {sql}\n{}",
                run.stderr
            );
            assert!(
                run.stderr.contains("no-transaction") && run.stderr.contains("nothing was run"),
                "{}",
                run.stderr
            );
            // Not even the good migration before it ran: refusals come first.
            assert!(!exists(&p, "first") && !exists(&p, "a"), "{args:?} {sql}");
            assert!(recorded(&p).is_empty(), "{args:?} {sql}");
        }
        assert_eq!(risk_of(&p, "002"), "critical", "{sql}");
    }

    // The same in a rollback.
    std::fs::remove_file(p.root().join("db/migrations/002_bad.up.sql")).unwrap();
    p.run(&["migrate", "up"]).ok();
    p.write(
        "db/migrations/001_first.down.sql",
        "DROP TABLE first;\nCOMMIT;\nSELECT 1;\n",
    );
    let run = p.run(&["migrate", "down"]);
    assert_eq!(run.code, 5, "{run:?}");
    assert!(
        run.stderr
            .contains("db/migrations/001_first.down.sql:2: COMMIT at line 2"),
        "{}",
        run.stderr
    );
    assert!(exists(&p, "first"));
    assert_eq!(recorded(&p), ["001"]);
}

#[test]
fn an_outer_begin_commit_wrapper_runs_in_one_transaction_with_its_row() {
    let p = TestProject::new();
    // Upstream Confiture's style: the whole file wrapped, with a comment before it.
    migration(
        &p,
        "001_wrapped",
        "-- created by hand\nBEGIN;\nCREATE TABLE w (id int);\nINSERT INTO w VALUES (1);\nCOMMIT;\n",
    );
    migration(
        &p,
        "002_wrapped_fails",
        "BEGIN;\nCREATE TABLE half (id int);\nINSERT INTO half VALUES (1);\nSELECT * FROM nope;\nCOMMIT;\n",
    );
    assert_eq!(risk_of(&p, "001"), "low");
    let run = p.run(&["migrate", "up", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let json = run.json();
    assert_eq!(json["applied"][0]["version"], "001", "{json}");
    let failure = &json["failure"];
    assert_eq!(failure["version"], "002");
    assert_eq!(failure["error"]["line"], 4);
    assert_eq!(failure["left"]["left"], "nothing", "{failure}");
    assert!(
        failure["state"]
            .as_str()
            .unwrap()
            .contains("the server confirmed it"),
        "{failure}"
    );
    // The part before the failure (and before the file's own COMMIT) is rolled back with it.
    assert!(exists(&p, "w") && !exists(&p, "half"));
    assert_eq!(
        p.db.scalar("SELECT count(*)::text FROM w"),
        Some("1".into())
    );
    assert_eq!(recorded(&p), ["001"]);

    // The wrapper's transaction modes are kept.
    migration(
        &p,
        "002_wrapped_fails",
        "BEGIN ISOLATION LEVEL SERIALIZABLE;\nCREATE TABLE iso AS SELECT current_setting('transaction_isolation') AS level;\nCOMMIT;\n",
    );
    p.run(&["migrate", "up"]).ok();
    assert_eq!(
        p.db.scalar("SELECT level FROM iso"),
        Some("serializable".into())
    );
    assert_eq!(recorded(&p), ["001", "002"]);
}

#[test]
fn a_no_transaction_file_owns_its_explicit_transactions() {
    let p = TestProject::new();
    migration(&p, "001_table", "CREATE TABLE t (id int, n int);\n");
    migration(
        &p,
        "002_own",
        "-- confiture: no-transaction\nBEGIN;\nINSERT INTO t VALUES (1, 1);\nCOMMIT;\n\
         CREATE INDEX CONCURRENTLY t_n ON t (n);\nBEGIN;\nINSERT INTO t VALUES (2, 2);\nROLLBACK;\n",
    );
    // Its own BEGIN/COMMIT pairs do what they say: explicit control the author owns. But the
    // file commits in three steps (lines 2, 5, 6), so it is not atomic: never low.
    assert_eq!(risk_of(&p, "002"), "high");
    let status = p.run(&["migrate", "status"]);
    status.exits(2);
    assert!(
        status.stdout.contains(
            "HIGH: not atomic: this no-transaction migration commits in 3 separate steps (lines \
             2, 5, 6): if one fails, the steps before it stay committed and the migration is \
             not recorded (line 5)"
        ),
        "{}",
        status.stdout
    );
    // One explicit transaction of its own commits apart from the tracking row: high too.
    migration(
        &p,
        "003_one",
        "-- confiture: no-transaction\nBEGIN;\nINSERT INTO t VALUES (4, 4);\nCOMMIT;\n",
    );
    assert_eq!(risk_of(&p, "003"), "high");
    // One index build, with a lock timeout before it, is one step: low.
    migration(
        &p,
        "003_one",
        "-- confiture: no-transaction\nSET lock_timeout = '5s';\n\
         CREATE INDEX CONCURRENTLY t_id ON t (id);\n",
    );
    assert_eq!(risk_of(&p, "003"), "low");
    std::fs::remove_file(p.root().join("db/migrations/003_one.up.sql")).unwrap();
    let run = p.run(&["migrate", "up"]);
    run.ok();
    assert!(
        run.stdout
            .contains("002_own runs outside a transaction, statement by statement (marked"),
        "{}",
        run.stdout
    );
    assert_eq!(
        p.db.scalar("SELECT string_agg(id::text, ',') FROM t"),
        Some("1".into())
    );
    assert!(exists(&p, "t_n"));
    assert_eq!(recorded(&p), ["001", "002"]);

    migration(
        &p,
        "003_open",
        "-- confiture: no-transaction\nBEGIN;\nINSERT INTO t VALUES (3, 3);\n",
    );
    let run = p.run(&["migrate", "up"]);
    assert_eq!(run.code, 5, "{run:?}");
    assert!(
        run.stderr
            .contains("003_open.up.sql:2: the transaction opened at line 2 is never committed"),
        "{}",
        run.stderr
    );
    assert_eq!(
        p.db.scalar("SELECT count(*)::text FROM t"),
        Some("1".into())
    );
}

#[test]
fn a_dry_run_cannot_persist_anything() {
    let p = project_with(
        &[RECORDER],
        "plugins:\n  hook-recorder:\n    grant: [db-read, db-write]\n    config:\n      execute_sql: COMMIT\n\
         hooks:\n  plugins:\n    hook-recorder:\n      policy: warn\n      events: [pre-execute, post-execute]\n",
    );
    migration(
        &p,
        "001_a",
        "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n",
    );
    migration(&p, "002_b", "CREATE TABLE b (id int);\n");
    let run = p.run(&["migrate", "up", "--dry-run-execute", "--format", "json"]);
    run.ok();
    let json = run.json();
    assert_eq!(json["rolled_back"], true, "{json}");
    assert_eq!(json["applied"].as_array().unwrap().len(), 2);
    // Every hook's COMMIT was refused by the plugin gate, never sent.
    let refusals = run
        .stderr
        .matches("transaction control belongs to the host")
        .count();
    assert_eq!(refusals, 4, "{}", run.stderr);
    assert!(!exists(&p, "a") && !exists(&p, "b") && !exists(&p, "tb_confiture"));

    let text = p.run(&["migrate", "up", "--dry-run-execute"]);
    text.ok();
    assert!(
        text.stdout.contains("2 migration(s) ran in")
            && text.stdout.contains("nothing was changed"),
        "{}",
        text.stdout
    );
    assert!(!exists(&p, "a") && !exists(&p, "tb_confiture"));
}

#[test]
fn a_hook_cannot_end_the_migration_transaction() {
    let config = |policy: &str| {
        format!(
            "plugins:\n  hook-recorder:\n    grant: [db-read, db-write]\n    config:\n      execute_sql: /* sneaky */ commit\n\
             hooks:\n  plugins:\n    hook-recorder:\n      policy: {policy}\n      events: [post-execute]\n"
        )
    };
    let p = project_with(&[RECORDER], &config("abort"));
    migration(&p, "001_a", "CREATE TABLE a (id int);\n");
    let run = p.run(&["migrate", "up"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("transaction control belongs to the host"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("the server confirmed it"),
        "{}",
        run.stderr
    );
    assert!(!exists(&p, "a"));
    assert!(recorded(&p).is_empty());

    // Under `warn` the migration goes on, and commits with its row as one.
    set_env(&p, &config("warn"));
    let run = p.run(&["migrate", "up"]);
    run.ok();
    assert!(exists(&p, "a"));
    assert_eq!(recorded(&p), ["001"]);
}

#[test]
fn psql_meta_commands_are_refused_and_pg_dump_restrict_lines_skipped() {
    let p = TestProject::new();
    p.write(
        "db/migrations/included.sql.txt",
        "CREATE TABLE sneaky (id int);\n",
    );
    migration(&p, "001_first", "CREATE TABLE first (id int);\n");
    for (meta, line) in [
        ("\\i included.sql.txt", 2),
        ("\\ir included.sql.txt", 2),
        ("\\set ON_ERROR_STOP on", 2),
        ("\\connect postgres", 2),
        ("\\copy first from 'x.csv'", 2),
    ] {
        migration(
            &p,
            "002_meta",
            &format!("CREATE TABLE second (id int);\n{meta}\nCREATE TABLE third (id int);\n"),
        );
        let run = p.run(&["migrate", "up"]);
        assert_eq!(run.code, 5, "{meta}: {run:?}");
        assert!(
            run.stderr.contains(&format!(
                "db/migrations/002_meta.up.sql:{line}: psql meta-command `{meta}`"
            )),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("hint:"), "{}", run.stderr);
        assert!(!exists(&p, "first") && !exists(&p, "second") && !exists(&p, "sneaky"));
        assert!(recorded(&p).is_empty());
    }
    // pg_dump 15.14+/17.6+ wraps its output in \restrict … \unrestrict: psql-only, skipped.
    migration(
        &p,
        "002_meta",
        "\\restrict AbC123\nCREATE TABLE second (id int);\n\\unrestrict AbC123\n",
    );
    p.run(&["migrate", "up"]).ok();
    assert!(exists(&p, "first") && exists(&p, "second"));
    assert_eq!(recorded(&p), ["001", "002"]);
}

#[test]
fn every_migration_starts_from_the_same_session_state() {
    let p = TestProject::new();
    p.db.client()
        .batch_execute("CREATE ROLE confiture_test_nobody NOLOGIN")
        .or_else(|_| p.db.client().batch_execute("SELECT 1"))
        .unwrap();
    // pg_dump's preamble as the first migration: an empty search path for the session.
    migration(
        &p,
        "001_dump",
        "SET statement_timeout = 0;\nSELECT pg_catalog.set_config('search_path', '', false);\n\
         CREATE TABLE public.dumped (id integer);\n",
    );
    migration(
        &p,
        "002_leaky",
        "CREATE SCHEMA app;\nSET search_path = app;\nCREATE TABLE inside (id int);\n\
         PREPARE q AS SELECT 1;\nCREATE TEMP TABLE scratch (id int);\n\
         SET ROLE confiture_test_nobody;\n",
    );
    migration(
        &p,
        "003_after",
        "CREATE TABLE after_leak (id int);\nPREPARE q AS SELECT 2;\nCREATE TEMP TABLE scratch (id int);\n\
         CREATE TABLE who AS SELECT current_user::text AS name, current_setting('search_path') AS path;\n",
    );
    // The dry run resets the session between units inside its one transaction too: 003's
    // `PREPARE q` finds 002's deallocated, and nothing stays.
    p.run(&["migrate", "up", "--dry-run-execute"]).ok();
    assert!(!exists(&p, "public.dumped") && !exists(&p, "public.after_leak"));
    assert_eq!(
        p.db.scalar("SELECT to_regclass('public.tb_confiture')::text"),
        None
    );
    let run = p.run(&["migrate", "up"]);
    run.ok();
    assert_eq!(recorded(&p), ["001", "002", "003"]);
    assert!(exists(&p, "public.dumped") && exists(&p, "app.inside"));
    // Created where a run of 003 alone would create it, by the connection's own role.
    assert!(exists(&p, "public.after_leak"), "{}", run.stdout);
    assert!(!exists(&p, "app.after_leak"));
    assert_eq!(
        p.db.scalar("SELECT name || ' / ' || path FROM public.who"),
        Some("postgres / \"$user\", public".into())
    );
    // The tracking rows were written as the connection's role, into public.
    assert_eq!(
        p.db.scalar("SELECT count(*)::text FROM public.tb_confiture"),
        Some("3".into())
    );
    // A unit outside a transaction starts from the same state: 003 left `q` prepared.
    migration(
        &p,
        "004_outside",
        "-- confiture: no-transaction
PREPARE q AS SELECT 4;
\
         CREATE INDEX CONCURRENTLY after_leak_id ON after_leak (id);\n",
    );
    p.run(&["migrate", "up"]).ok();
    assert_eq!(recorded(&p), ["001", "002", "003", "004"]);
    assert!(exists(&p, "public.after_leak_id"));

    // A database whose search path is empty: the tool's own SQL still finds its tables.
    let empty = TestProject::new();
    empty
        .db
        .client()
        .batch_execute(&format!(
            "ALTER DATABASE \"{}\" SET search_path = ''",
            empty.db.name
        ))
        .unwrap();
    migration(&empty, "001_q", "CREATE TABLE public.q (id int);\n");
    empty.run(&["migrate", "up"]).ok();
    let status = empty.run(&["migrate", "status", "--format", "json"]);
    status.ok();
    assert_eq!(status.json()["counts"]["applied"], 1);
    assert_eq!(
        empty
            .db
            .scalar("SELECT count(*)::text FROM public.tb_confiture"),
        Some("1".into())
    );
}

/// The reset between migrations, attacked directly: everything a migration can leave in its
/// session is gone after it (settings, role, prepared statements, temporary tables, `LISTEN`s,
/// session advisory locks), the tool's own idle timeouts are set again over the database's,
/// and a transaction left open is an error (25001), not carried into the next migration.
#[test]
fn the_session_reset_clears_what_a_migration_leaves_and_refuses_an_open_transaction() {
    use confiture::db::ConnectionSpec;
    use confiture::migrate::apply::SessionReset;

    let db = crate::harness::TestDb::new();
    db.client()
        .batch_execute(&format!(
            "ALTER DATABASE \"{0}\" SET idle_in_transaction_session_timeout = '7s'",
            db.name
        ))
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = ConnectionSpec::from_url(&db.url)
            .unwrap()
            .connect()
            .await
            .unwrap();
        let reset = SessionReset::for_server(&client).await.unwrap();
        let one = |sql: &'static str| {
            let client = &client;
            async move {
                let rows = client.simple_query(sql).await.unwrap();
                confiture::db::first_value(&rows)
            }
        };
        let work_mem = one("SHOW work_mem").await;
        client
            .batch_execute(
                "SET search_path = pg_catalog; SET work_mem = '77MB'; \
                 PREPARE leftover AS SELECT 1; CREATE TEMP TABLE scratch (id int); \
                 LISTEN leftover_channel; SELECT pg_advisory_lock(4242); \
                 SET ROLE pg_read_all_data",
            )
            .await
            .unwrap();
        reset.run(&client).await.unwrap();
        assert_eq!(
            one("SHOW search_path").await.as_deref(),
            Some("\"$user\", public")
        );
        assert_eq!(one("SHOW work_mem").await, work_mem);
        assert_eq!(
            one("SELECT (current_user = session_user)::text")
                .await
                .as_deref(),
            Some("true")
        );
        assert_eq!(
            one("SELECT count(*)::text FROM pg_prepared_statements")
                .await
                .as_deref(),
            Some("0")
        );
        assert_eq!(
            one("SELECT to_regclass('pg_temp.scratch')::text").await,
            None
        );
        assert_eq!(
            one("SELECT count(*)::text FROM pg_listening_channels()")
                .await
                .as_deref(),
            Some("0")
        );
        assert_eq!(
            one(
                "SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' \
                 AND pid = pg_backend_pid()"
            )
            .await
            .as_deref(),
            Some("0")
        );
        // RESET ALL brought the database's 7 s back; the reset set the tool's own 0 again.
        assert_eq!(
            one("SHOW idle_in_transaction_session_timeout")
                .await
                .as_deref(),
            Some("0")
        );

        // A transaction left open: the reset fails with 25001 and commits nothing of it.
        client
            .batch_execute("BEGIN; CREATE TABLE left_open (id int)")
            .await
            .unwrap();
        let error = reset.run(&client).await.expect_err("a transaction is open");
        assert_eq!(
            error.code(),
            Some(&tokio_postgres::error::SqlState::ACTIVE_SQL_TRANSACTION),
            "{error}"
        );
        client.batch_execute("ROLLBACK").await.unwrap();
    });
    assert_eq!(
        db.scalar("SELECT to_regclass('public.left_open')::text"),
        None
    );
}

#[test]
fn constructs_psql_accepts_apply_as_written() {
    let p = TestProject::new();
    // A byte order mark and CRLF line ends (Windows editors).
    migration(
        &p,
        "001_bom",
        "\u{feff}CREATE TABLE notes (id int PRIMARY KEY, body text);\r\n-- a comment\r\nINSERT INTO notes VALUES (1, 'x');\r\n",
    );
    // pg_dump's data format: COPY … FROM stdin with inline rows, non-ASCII included; the
    // statement after the data runs too.
    migration(
        &p,
        "002_copy",
        "COPY public.notes (id, body) FROM stdin;\n2\tcafé ☕; -- not a comment\n3\t'quoted' \\\\N\n4\t\\N\n\\.\nINSERT INTO notes VALUES (9, 'after the copy');\n",
    );
    // A SQL-standard function body and a multi-action rule keep their inner semicolons.
    migration(
        &p,
        "003_bodies",
        "CREATE FUNCTION add_one(n int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT n + 1;\nEND;\n\
         CREATE TABLE log (n int);\n\
         CREATE RULE notes_log AS ON INSERT TO notes DO ALSO (\n  INSERT INTO log VALUES (NEW.id);\n  INSERT INTO log VALUES (NEW.id * 10);\n);\n",
    );
    // Dollar tags, E'' strings and nested comments holding semicolons.
    migration(
        &p,
        "004_quotes",
        "/* outer /* inner; */ still; */\nDO $do$ BEGIN PERFORM 1; END $do$;\n\
         INSERT INTO notes VALUES (5, E'it\\'s; fine');\nINSERT INTO notes VALUES (6, $t$a;b$t$);\n",
    );
    let run = p.run(&["migrate", "up"]);
    run.ok();
    assert_eq!(recorded(&p), ["001", "002", "003", "004"]);
    assert_eq!(
        p.db.scalar(
            "SELECT string_agg(id || '=' || coalesce(body, 'NULL'), '|' ORDER BY id) FROM notes"
        ),
        Some("1=x|2=café ☕; -- not a comment|3='quoted' \\N|4=NULL|5=it's; fine|6=a;b|9=after the copy".into())
    );
    assert_eq!(p.db.scalar("SELECT add_one(41)::text"), Some("42".into()));
    assert_eq!(
        p.db.scalar("SELECT string_agg(n::text, ',' ORDER BY n) FROM log"),
        Some("5,6,50,60".into())
    );

    // An unterminated quote is refused at the line where it opens, before anything runs.
    migration(
        &p,
        "005_open",
        "CREATE TABLE fine (id int);\nINSERT INTO notes VALUES (7, 'oops);\nCREATE TABLE later (id int);\n",
    );
    let run = p.run(&["migrate", "up"]);
    assert_eq!(run.code, 5, "{run:?}");
    assert!(
        run.stderr
            .contains("005_open.up.sql:2: unterminated quoted string starting at line 2"),
        "{}",
        run.stderr
    );
    assert!(!exists(&p, "fine"));
}

#[test]
fn statements_that_cannot_run_in_a_transaction_run_outside_one() {
    let p = TestProject::new();
    migration(&p, "001_t", "CREATE TABLE t (id int, n int);\n");
    migration(
        &p,
        "002_index",
        "CREATE INDEX CONCURRENTLY t_n ON t (n);\nCREATE UNIQUE INDEX CONCURRENTLY t_id ON t (id);\n",
    );
    migration(
        &p,
        "003_mixed",
        "ALTER TABLE t ADD COLUMN m int;\nCREATE INDEX CONCURRENTLY t_m ON t (m);\n",
    );
    // Two index builds commit one by one: not atomic, so high (one alone would be low).
    assert_eq!(risk_of(&p, "002"), "high");
    assert_eq!(risk_of(&p, "003"), "critical");
    let run = p.run(&["migrate", "up"]);
    assert_eq!(run.code, 5, "{run:?}");
    assert!(
        run.stderr.contains(
            "003_mixed.up.sql:2: CREATE INDEX CONCURRENTLY at line 2 cannot run inside a transaction block"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("migration of its own"),
        "{}",
        run.stderr
    );
    assert!(recorded(&p).is_empty() && !exists(&p, "t"));

    std::fs::remove_file(p.root().join("db/migrations/003_mixed.up.sql")).unwrap();
    let run = p.run(&["migrate", "up"]);
    run.ok();
    assert!(
        run.stdout.contains(
            "002_index runs outside a transaction, statement by statement (CREATE INDEX CONCURRENTLY cannot run inside a transaction block)"
        ),
        "{}",
        run.stdout
    );
    assert!(exists(&p, "t_n") && exists(&p, "t_id"));
    assert_eq!(recorded(&p), ["001", "002"]);
    // The old marker still works.
    migration(
        &p,
        "003_marked",
        "-- confiture: no-transaction\nDROP INDEX CONCURRENTLY t_n;\n",
    );
    p.run(&["migrate", "up"]).ok();
    assert!(!exists(&p, "t_n"));
}

#[test]
fn a_failed_concurrent_index_is_named_and_blocks_a_rerun_until_fixed() {
    let p = TestProject::new();
    migration(
        &p,
        "001_t",
        "CREATE TABLE t (id int, email text);\nINSERT INTO t VALUES (1, 'a@x'), (2, 'a@x');\n",
    );
    migration(
        &p,
        "002_unique",
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_email ON t (email);\n",
    );
    let run = p.run(&["migrate", "up", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let failure = &run.json()["failure"];
    assert_eq!(failure["version"], "002", "{failure}");
    assert_eq!(failure["error"]["sqlstate"], "23505");
    assert_eq!(failure["left"]["left"], "partial");
    assert_eq!(
        failure["left"]["invalid_indexes"][0]["name"], "public.t_email",
        "{failure}"
    );
    assert_eq!(
        failure["left"]["invalid_indexes"][0]["cleanup"],
        "DROP INDEX CONCURRENTLY IF EXISTS public.t_email;"
    );
    assert_eq!(recorded(&p), ["001"]);
    assert_eq!(
        p.db.scalar("SELECT indisvalid::text FROM pg_index WHERE indexrelid = 't_email'::regclass"),
        Some("false".into())
    );

    // A re-run would "apply" in 0 ms over the invalid index (IF NOT EXISTS): refused.
    let rerun = p.run(&["migrate", "up"]);
    assert_eq!(rerun.code, 7, "{rerun:?}");
    assert!(
        rerun.stderr.contains(
            "db/migrations/002_unique.up.sql:1: index public.t_email exists but is INVALID"
        ),
        "{}",
        rerun.stderr
    );
    assert!(
        rerun
            .stderr
            .contains("DROP INDEX CONCURRENTLY IF EXISTS public.t_email;"),
        "{}",
        rerun.stderr
    );
    assert_eq!(recorded(&p), ["001"]);
    let verify = p.run(&["migrate", "verify"]);
    assert_eq!(verify.code, 1, "{verify:?}");
    assert!(
        verify
            .stdout
            .contains("invalid index public.t_email on public.t"),
        "{}",
        verify.stdout
    );

    // Fixed: the duplicate removed and the invalid index dropped.
    p.db.client()
        .batch_execute("DELETE FROM t WHERE id = 2; DROP INDEX t_email;")
        .unwrap();
    p.run(&["migrate", "up"]).ok();
    assert_eq!(recorded(&p), ["001", "002"]);
    assert_eq!(
        p.db.scalar("SELECT indisvalid::text FROM pg_index WHERE indexrelid = 't_email'::regclass"),
        Some("true".into())
    );
    p.run(&["migrate", "verify"]).ok();
}

#[test]
fn server_errors_are_shown_whole_and_a_failing_commit_leaves_nothing() {
    let p = TestProject::new();
    migration(&p, "001_t", "CREATE TABLE t (id int);\n");
    p.run(&["migrate", "up"]).ok();
    // The tracking-table write fails: the server's message, SQLSTATE, detail and hint show,
    // and the migration is rolled back with it.
    p.db.client()
        .batch_execute(
            "CREATE FUNCTION no_more() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
               RAISE EXCEPTION 'tracking is frozen' USING DETAIL = 'ops froze it', \
                 HINT = 'ask ops', ERRCODE = 'P0001'; END $$; \
             CREATE TRIGGER frozen BEFORE INSERT ON tb_confiture FOR EACH ROW EXECUTE FUNCTION no_more();",
        )
        .unwrap();
    migration(&p, "002_u", "CREATE TABLE u (id int);\n");
    let run = p.run(&["migrate", "up"]);
    assert_eq!(run.code, 1, "{run:?}");
    for part in [
        "recording 002_u in tb_confiture",
        "ERROR P0001: tracking is frozen",
        "DETAIL: ops froze it",
        "HINT: ask ops",
        "the server confirmed it",
    ] {
        assert!(run.stderr.contains(part), "{part}: {}", run.stderr);
    }
    assert!(!run.stderr.contains("db error"), "{}", run.stderr);
    assert!(!exists(&p, "u"));
    p.db.client()
        .batch_execute("DROP TRIGGER frozen ON tb_confiture")
        .unwrap();

    // A deferred constraint that fails at COMMIT: the COMMIT fails, nothing is left.
    migration(
        &p,
        "002_u",
        "CREATE TABLE u (id int);\nCREATE FUNCTION veto() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         RAISE EXCEPTION 'vetoed at commit'; END $$;\n\
         CREATE CONSTRAINT TRIGGER veto AFTER INSERT ON u DEFERRABLE INITIALLY DEFERRED \
         FOR EACH ROW EXECUTE FUNCTION veto();\nINSERT INTO u VALUES (1);\n",
    );
    let run = p.run(&["migrate", "up", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let failure = &run.json()["failure"];
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("COMMIT failed: ERROR P0001: vetoed at commit"),
        "{failure}"
    );
    assert_eq!(failure["left"]["left"], "nothing");
    assert!(!exists(&p, "u"));
    assert_eq!(recorded(&p), ["001"]);
}

/// The transaction guard on its own: units built here without the file checks smuggle a
/// `COMMIT` in; the guard catches it right after the statement, the run stops there, and the
/// report says what the server did — in a real run and in a dry run.
#[test]
fn the_guard_catches_a_commit_the_checks_did_not_see() {
    use confiture::db::ConnectionSpec;
    use confiture::db::lock::{LockWait, MigrationLock};
    use confiture::db::script::Script;
    use confiture::hooks::HookRun;
    use confiture::migrate::apply::{
        Applier, Bookkeeping, Ended, EndedAs, Left, Outcome, Plain, SessionReset, Settings, Unit,
    };
    use confiture::migrate::files::Migration;
    use confiture::migrate::ledger::Ledger;
    use confiture::output::{Format, Output};
    use confiture::plugins::hooks::Direction;
    use confiture::sql::split_statements;
    use confiture::sql::transaction::{Mode, TransactionPlan};

    let db = crate::harness::TestDb::new();
    let sql =
        "CREATE TABLE before_commit (id int);\nCOMMIT;\nCREATE TABLE after_commit (id int);\n";
    let m = Migration {
        version: "001".into(),
        name: "smuggled".into(),
        up_path: "db/migrations/001_smuggled.up.sql".into(),
        down_path: None,
        verify_path: None,
        up_sql: sql.into(),
        checksum: "0".repeat(64),
        no_transaction: false,
    };
    let unchecked = |file: &str, sql: &'static str| Unit {
        version: m.version.clone(),
        name: m.name.clone(),
        checksum: m.checksum.clone(),
        direction: Direction::Up,
        script: Script {
            file: file.into(),
            statements: split_statements(sql),
            plan: TransactionPlan {
                mode: Mode::Transaction,
                wrapper: None,
            },
        },
        sql,
        bookkeeping: Bookkeeping::Record(&m),
        risk: None,
        audit_detail: None,
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let spec = ConnectionSpec::from_url(&db.url).unwrap();
        let client = spec.connect().await.unwrap();
        let ledger = Ledger::new("tb_confiture")
            .qualified(&client)
            .await
            .unwrap();
        let out = Output::new(Format::Text);
        let lock = MigrationLock::acquire(&spec, "tb_confiture", LockWait::NoWait, &out)
            .await
            .unwrap();
        let mut hooks = HookRun::none(Format::Text);
        let settings = Settings {
            lock_timeout_ms: 0,
            statement_timeout_ms: 0,
            lock_retries: 0,
        };
        let mut applier = Applier {
            client: &client,
            ledger: &ledger,
            settings,
            hooks: &mut hooks,
            audit: None,
            out: &out,
            reset: SessionReset::for_server(&client).await.unwrap(),
        };
        let units = [unchecked("001_smuggled.up.sql", sql)];
        let outcomes = applier.apply(&lock, &units, &mut Plain).await.unwrap();
        let Outcome::Failed(failure) = &outcomes[0] else {
            panic!("{outcomes:?}");
        };
        assert_eq!(
            failure.left,
            Left::Lost {
                by: "the statement at 001_smuggled.up.sql:2".into(),
                ended: EndedAs::Committed
            }
        );

        // In a dry run: the report must not say "nothing was changed".
        let units = [unchecked(
            "001_smuggled.up.sql",
            "CREATE TABLE rehearsed (id int);\nCOMMIT;\nCREATE TABLE never (id int);\n",
        )];
        let rehearsal = applier.rehearse(&lock, &units, &mut Plain).await.unwrap();
        assert_eq!(rehearsal.ended, Ended::Committed);
        assert_eq!(
            rehearsal.lost_by.as_deref(),
            Some("the statement at 001_smuggled.up.sql:2")
        );
        assert!(matches!(&rehearsal.outcomes[0], Outcome::Failed(f)
            if matches!(f.left, Left::Lost { ended: EndedAs::Committed, .. })));
        lock.release().await;
    });
    // What the server holds: the part before each COMMIT, nothing after it, no tracking row.
    let exists = |r: &str| {
        db.scalar(&format!("SELECT (to_regclass('{r}') IS NOT NULL)::text"))
            .as_deref()
            == Some("true")
    };
    assert!(exists("before_commit") && !exists("after_commit"));
    assert!(exists("rehearsed") && !exists("never"));
    assert_eq!(
        db.scalar("SELECT count(*)::text FROM tb_confiture"),
        Some("0".into())
    );
}

/// Statements travel to the server in batches (up to 256 per round trip, the guard's check
/// behind those that could end the transaction): a failure deep in a long file is still
/// reported at its own line, with nothing of the file left; rows, `RETURNING`, `DO` blocks and
/// `SELECT`s in the middle of a batch run as written.
#[test]
fn a_long_migration_sent_in_batches_fails_at_its_own_line_and_leaves_nothing() {
    let p = TestProject::new();
    let mut sql = String::from("CREATE TABLE batched (id int PRIMARY KEY, note text);\n");
    for id in 1..600 {
        let statement = match id {
            100 => "SELECT count(*) FROM batched;".to_string(),
            200 => format!("INSERT INTO batched VALUES ({id}, 'é') RETURNING id;"),
            300 => format!("DO $$ BEGIN INSERT INTO batched VALUES ({id}, ';'); END $$;"),
            _ => format!("INSERT INTO batched VALUES ({id}, 'row {id}');"),
        };
        sql.push_str(&statement);
        sql.push('\n');
    }
    migration(&p, "001_long", &sql);
    migration(&p, "002_after", "CREATE TABLE after_long (id int);\n");
    let run = p.run(&["migrate", "up"]);
    run.ok();
    assert_eq!(
        p.db.scalar("SELECT count(*)::text FROM batched"),
        Some("598".into())
    );
    assert_eq!(recorded(&p), ["001", "002"]);

    // Line 551 repeats the id of line 2 (the 550th statement of a file sent in batches of 256).
    let mut bad = sql.replace("batched", "doomed");
    bad.push_str("CREATE TABLE doomed_too (id int);\n");
    let mut lines: Vec<&str> = bad.lines().collect();
    lines[550] = "INSERT INTO doomed VALUES (1, 'a duplicate');";
    migration(&p, "003_doomed", &(lines.join("\n") + "\n"));
    migration(&p, "004_later", "CREATE TABLE later (id int);\n");
    let run = p.run(&["migrate", "up", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let report = run.json();
    let failure = &report["failure"];
    assert_eq!(failure["version"], "003", "{report}");
    assert_eq!(failure["error"]["line"], 551, "{report}");
    assert_eq!(failure["error"]["sqlstate"], "23505", "{report}");
    assert_eq!(failure["left"]["left"], "nothing", "{report}");
    assert!(!exists(&p, "doomed") && !exists(&p, "doomed_too") && !exists(&p, "later"));
    assert_eq!(recorded(&p), ["001", "002"]);
}
