use super::*;
use crate::sql::split_statements;

fn plan(sql: &str) -> Result<TransactionPlan, Refusal> {
    TransactionPlan::of(&split_statements(sql), has_no_transaction_marker(sql))
}

#[test]
fn control_statements_by_their_leading_keywords() {
    let cases = [
        ("BEGIN", Control::Begin),
        ("begin work", Control::Begin),
        ("BEGIN ISOLATION LEVEL SERIALIZABLE", Control::Begin),
        ("START TRANSACTION READ WRITE", Control::Begin),
        ("COMMIT", Control::Commit),
        ("end transaction", Control::Commit),
        ("COMMIT AND CHAIN", Control::Commit),
        ("ROLLBACK", Control::Rollback),
        ("abort", Control::Rollback),
        ("ROLLBACK TO SAVEPOINT s", Control::RollbackTo),
        ("rollback work to s", Control::RollbackTo),
        ("SAVEPOINT s", Control::Savepoint),
        ("RELEASE SAVEPOINT s", Control::Release),
        ("PREPARE TRANSACTION 'x'", Control::PrepareTransaction),
        ("COMMIT PREPARED 'x'", Control::CommitPrepared),
        ("ROLLBACK PREPARED 'x'", Control::RollbackPrepared),
        ("/* why */ COMMIT", Control::Commit),
        ("/* a /* nested */ CREATE */ COMMIT", Control::Commit),
    ];
    for (sql, control) in cases {
        assert_eq!(classify(sql), TransactionRole::Control(control), "{sql}");
    }
    for sql in [
        "PREPARE q AS SELECT 1",
        "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END",
        "SELECT 'COMMIT'",
        "UPDATE t SET commit = true",
        "CREATE INDEX i ON t (a)",
        "/* a /* nested */ COMMIT */ CREATE TABLE t (a int)",
    ] {
        assert_eq!(classify(sql), TransactionRole::Ordinary, "{sql}");
    }
}

#[test]
fn only_statements_whose_keyword_cannot_end_a_transaction_are_trusted_to_keep_it() {
    for sql in [
        "CREATE TABLE t (id int PRIMARY KEY)",
        "/* first */ ALTER TABLE t ADD COLUMN b int",
        "INSERT INTO t VALUES (1)",
        "INSERT INTO t VALUES (1) RETURNING id",
        "update t set b = 2",
        "DO $$ BEGIN COMMIT; END $$",
        "CALL p()",
        "SELECT 1",
        "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
        "SET search_path = app",
        "GRANT SELECT ON t TO PUBLIC",
    ] {
        assert!(cannot_end_transaction(sql), "{sql}");
    }
    for sql in [
        "COMMIT",
        "/* a /* nested */ CREATE */ COMMIT",
        "-- a comment\rCOMMIT",
        "END",
        "SAVEPOINT s",
        "PREPARE TRANSACTION 'p'",
        "COPY t FROM STDIN",
        "CREATE INDEX CONCURRENTLY i ON t (a)",
        "ALTER SYSTEM SET work_mem = '1MB'",
        "DISCARD ALL",
        "EXPLAIN ANALYZE INSERT INTO t VALUES (1)",
        "",
    ] {
        assert!(!cannot_end_transaction(sql), "{sql}");
    }
}

#[test]
fn statements_that_cannot_run_in_a_transaction() {
    let cases = [
        (
            "CREATE INDEX CONCURRENTLY i ON t (a)",
            "CREATE INDEX CONCURRENTLY",
        ),
        (
            "create unique index concurrently if not exists i on t (a)",
            "CREATE INDEX CONCURRENTLY",
        ),
        (
            "DROP INDEX CONCURRENTLY IF EXISTS i",
            "DROP INDEX CONCURRENTLY",
        ),
        ("REINDEX (CONCURRENTLY) INDEX i", "REINDEX CONCURRENTLY"),
        ("REINDEX TABLE CONCURRENTLY t", "REINDEX CONCURRENTLY"),
        ("REINDEX SCHEMA app", "REINDEX SCHEMA"),
        ("REINDEX (VERBOSE) DATABASE db", "REINDEX DATABASE"),
        ("VACUUM (ANALYZE) t", "VACUUM"),
        ("CREATE DATABASE x", "CREATE DATABASE"),
        ("DROP DATABASE IF EXISTS x", "DROP DATABASE"),
        (
            "ALTER DATABASE x SET TABLESPACE fast",
            "ALTER DATABASE … SET TABLESPACE",
        ),
        ("CREATE TABLESPACE fast LOCATION '/x'", "CREATE TABLESPACE"),
        ("DROP TABLESPACE fast", "DROP TABLESPACE"),
        ("ALTER SYSTEM SET work_mem = '64MB'", "ALTER SYSTEM"),
        ("CLUSTER", "CLUSTER (every table)"),
        ("DISCARD ALL", "DISCARD ALL"),
        (
            "ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY",
            "ALTER TABLE … DETACH PARTITION … CONCURRENTLY",
        ),
    ];
    for (sql, what) in cases {
        assert_eq!(classify(sql), TransactionRole::OutsideOnly(what), "{sql}");
    }
    for sql in [
        "CREATE INDEX i ON t (a)",
        "REINDEX TABLE t",
        "CLUSTER t USING i",
        "ALTER DATABASE x SET work_mem = '1MB'",
        "DISCARD TEMP",
        "ALTER TABLE p DETACH PARTITION p1",
        "REFRESH MATERIALIZED VIEW CONCURRENTLY m",
        "ALTER TYPE mood ADD VALUE 'meh'",
    ] {
        assert_eq!(classify(sql), TransactionRole::Ordinary, "{sql}");
    }
}

#[test]
fn the_marker_is_the_first_line() {
    assert!(has_no_transaction_marker(
        "-- confiture: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);"
    ));
    assert!(has_no_transaction_marker(
        "\u{feff}  -- Confiture: No-Transaction  \r\nSELECT 1;"
    ));
    assert!(!has_no_transaction_marker(
        "SELECT 1;\n-- confiture: no-transaction\n"
    ));
}

#[test]
fn plain_files_run_in_a_transaction() {
    let p = plan("CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);").unwrap();
    assert_eq!(p.mode, Mode::Transaction);
    assert_eq!(p.wrapper, None);
    assert_eq!(plan("").unwrap().mode, Mode::Transaction);
}

#[test]
fn an_outer_wrapper_is_accepted_and_its_modes_kept() {
    let sql = "-- upstream style\nBEGIN;\nCREATE TABLE t (id int);\nCOMMIT;\n";
    let p = plan(sql).unwrap();
    assert_eq!(p.mode, Mode::Transaction);
    assert_eq!(
        p.wrapper,
        Some(Wrapper {
            begin: 0,
            commit: 2,
            modes: String::new()
        })
    );
    let statements = split_statements(sql);
    assert_eq!(
        p.roles(&statements),
        vec![
            TransactionRole::Wrapper(Control::Begin),
            TransactionRole::Ordinary,
            TransactionRole::Wrapper(Control::Commit)
        ]
    );
    let p = plan("BEGIN ISOLATION LEVEL SERIALIZABLE;\nSELECT 1;\nEND;").unwrap();
    assert_eq!(p.wrapper.unwrap().modes, "ISOLATION LEVEL SERIALIZABLE");
    let p = plan("START TRANSACTION;\nSELECT 1;\nCOMMIT WORK;").unwrap();
    assert_eq!(p.wrapper.unwrap().modes, "");
}

#[test]
fn other_transaction_control_is_refused_at_its_line() {
    let r = plan("CREATE TABLE a (id int);\nCOMMIT;\nCREATE TABLE b (x nope);").unwrap_err();
    assert_eq!(r.line, 2);
    assert!(r.message.starts_with("COMMIT at line 2"), "{}", r.message);
    assert!(r.hint.contains("no-transaction"), "{}", r.hint);
    for (sql, line, keyword) in [
        ("SELECT 1;\nROLLBACK;\nSELECT 2;", 2, "ROLLBACK"),
        ("SELECT 1;\nEND;", 2, "COMMIT"),
        ("SAVEPOINT s;\nSELECT 1;", 1, "SAVEPOINT"),
        ("BEGIN;\nSELECT 1;\nBEGIN;\nSELECT 2;\nCOMMIT;", 3, "BEGIN"),
        ("BEGIN;\nSELECT 1;\nCOMMIT;\nSELECT 2;", 1, "BEGIN"),
        (
            "SELECT 1;\nPREPARE TRANSACTION 'x';",
            2,
            "PREPARE TRANSACTION",
        ),
        ("BEGIN;\nSELECT 1;\nCOMMIT AND CHAIN;", 1, "BEGIN"),
        ("BEGIN;\nSELECT 1;\nROLLBACK;", 1, "BEGIN"),
    ] {
        let r = plan(sql).unwrap_err();
        assert_eq!(r.line, line, "{sql}: {}", r.message);
        assert!(r.message.starts_with(keyword), "{sql}: {}", r.message);
    }
}

#[test]
fn files_of_outside_only_statements_run_outside_and_mixes_are_refused() {
    let p = plan("CREATE INDEX CONCURRENTLY a ON t (x);\nDROP INDEX CONCURRENTLY b;").unwrap();
    assert_eq!(p.mode, Mode::OutsideDetected("CREATE INDEX CONCURRENTLY"));
    let r = plan("CREATE TABLE t (x int);\nCREATE INDEX CONCURRENTLY a ON t (x);").unwrap_err();
    assert_eq!(r.line, 2);
    assert!(
        r.message
            .contains("CREATE INDEX CONCURRENTLY at line 2 cannot run inside a transaction block"),
        "{}",
        r.message
    );
    assert!(r.message.contains("line 1"), "{}", r.message);
    let r = plan("BEGIN;\nVACUUM t;\nCOMMIT;").unwrap_err();
    assert_eq!(r.line, 2);
    assert!(
        r.message.contains("inside the BEGIN at line 1"),
        "{}",
        r.message
    );
}

#[test]
fn a_marked_file_owns_its_transactions_when_they_are_balanced() {
    let m = "-- confiture: no-transaction\n";
    let p = plan(&format!(
        "{m}BEGIN;\nUPDATE t SET a = 1;\nCOMMIT;\nCREATE INDEX CONCURRENTLY i ON t (a);\nBEGIN;\nSELECT 1;\nROLLBACK;"
    ))
    .unwrap();
    assert_eq!(p.mode, Mode::OutsideMarked);
    let r = plan(&format!("{m}BEGIN;\nUPDATE t SET a = 1;")).unwrap_err();
    assert_eq!(r.line, 2);
    assert!(r.message.contains("never committed"), "{}", r.message);
    let r = plan(&format!("{m}BEGIN;\nVACUUM t;\nCOMMIT;")).unwrap_err();
    assert_eq!(r.line, 3);
    let r = plan(&format!("{m}BEGIN;\nBEGIN;\nCOMMIT;")).unwrap_err();
    assert_eq!(r.line, 3);
    let r = plan(&format!("{m}BEGIN;\nPREPARE TRANSACTION 'p';")).unwrap_err();
    assert!(
        r.message.starts_with("PREPARE TRANSACTION"),
        "{}",
        r.message
    );
}

#[test]
fn commit_steps_of_a_file_run_outside_a_transaction() {
    let steps = |sql: &str| {
        let statements = split_statements(sql);
        CommitSteps::of(statements.iter().map(|s| (s.text, classify(s.text))))
    };
    // One statement, or session settings around it: one step, atomic.
    let one = steps(
        "SET lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY i ON t (a);\nRESET lock_timeout;",
    );
    assert_eq!(one.starts, [1]);
    assert!(one.is_atomic() && one.first_explicit.is_none());
    // Two index builds: two steps.
    let two = steps("CREATE INDEX CONCURRENTLY i ON t (a);\nCREATE INDEX CONCURRENTLY j ON t (b);");
    assert_eq!(two.starts, [0, 1]);
    assert!(!two.is_atomic());
    // An explicit transaction is one step, whatever it holds.
    let block = steps("BEGIN;\nINSERT INTO t VALUES (1);\nUPDATE t SET a = 2;\nCOMMIT;");
    assert_eq!(block.starts, [0]);
    assert!(block.is_atomic());
    assert_eq!(block.first_explicit, Some(0));
    // A transaction, then an index build, then another transaction: three steps.
    let mixed = steps(
        "BEGIN;\nINSERT INTO t VALUES (1);\nCOMMIT;\nCREATE INDEX CONCURRENTLY i ON t (a);\n\
         START TRANSACTION;\nDELETE FROM t;\nROLLBACK;",
    );
    assert_eq!(mixed.starts, [0, 3, 4]);
    assert_eq!(mixed.first_explicit, Some(0));
    // A stray COMMIT with nothing open is no step of its own.
    assert_eq!(
        steps("COMMIT;\nCREATE INDEX CONCURRENTLY i ON t (a);").starts,
        [1]
    );
}
