use super::*;
use crate::sql::{build_model, parse_file};

fn level(sql: &str) -> Level {
    migration(sql, false).level
}

fn migration(sql: &str, no_transaction: bool) -> MigrationRisk {
    let text = if no_transaction {
        format!("-- confiture: no-transaction\n{sql}")
    } else {
        sql.to_string()
    };
    let file = parse_file("db/migrations/1_m.up.sql", &text, true);
    assess_migration(&file.statements, None, Settings::default())
}

/// One statement classified on its own, without the schema before it.
fn statement_alone(statement: &Statement) -> Assessment {
    let risk = assess_migration(std::slice::from_ref(statement), None, Settings::default());
    risk.statements.into_iter().next().expect("one statement").1
}

fn with_schema(schema: &str, sql: &str) -> Level {
    let before = parse_file("db/schema.sql", schema, false);
    let model = build_model(&[before]);
    let file = parse_file("db/migrations/1_m.up.sql", sql, true);
    assess_migration(&file.statements, Some(&model), Settings::default()).level
}

#[test]
fn create_index_concurrently_or_not() {
    assert_eq!(level("CREATE INDEX i ON t (a)"), Level::High);
    let r = migration("CREATE INDEX CONCURRENTLY i ON t (a)", true);
    assert_eq!(r.level, Level::Low);
    // Alone in its file, it runs outside a transaction without the marker.
    let r = migration("CREATE INDEX CONCURRENTLY i ON t (a)", false);
    assert_eq!(r.level, Level::Low);
    let r = migration("SELECT 1;\nCREATE INDEX CONCURRENTLY i ON t (a)", false);
    assert_eq!(r.level, Level::Critical);
    assert!(r.reasons()[0].contains("cannot run inside a transaction block"));
    let a = statement_alone(&parse_file("m", "CREATE INDEX i ON t (a)", true).statements[0]);
    assert_eq!(a.reasons[0].lock, Some("SHARE"));
}

#[test]
fn drops_and_truncate_destroy_data() {
    for sql in ["DROP TABLE t", "ALTER TABLE t DROP COLUMN c", "TRUNCATE t"] {
        let r = migration(sql, false);
        assert_eq!(r.level, Level::Critical, "{sql}");
        assert!(
            r.statements[0].1.reasons.iter().any(|x| x.destructive),
            "{sql}"
        );
    }
    // Not destructive, but breaks code still using the view.
    assert_eq!(level("DROP VIEW v"), Level::High);
}

#[test]
fn delete_and_update_with_or_without_where() {
    assert_eq!(level("DELETE FROM t"), Level::Critical);
    assert_eq!(level("DELETE FROM t WHERE id = 1"), Level::High);
    assert_eq!(level("UPDATE t SET a = 1"), Level::Critical);
    assert_eq!(level("UPDATE t SET a = 1 WHERE id = 1"), Level::High);
}

#[test]
fn type_changes_and_binary_coercible_widenings() {
    let schema = "CREATE TABLE t (v varchar(20), s varchar(20), n int, x text);";
    assert_eq!(
        with_schema(schema, "ALTER TABLE t ALTER COLUMN v TYPE varchar(50)"),
        Level::High
    );
    assert_eq!(
        with_schema(schema, "ALTER TABLE t ALTER COLUMN v TYPE text"),
        Level::High
    );
    assert_eq!(
        with_schema(schema, "ALTER TABLE t ALTER COLUMN s TYPE varchar(10)"),
        Level::Critical
    );
    assert_eq!(
        with_schema(schema, "ALTER TABLE t ALTER COLUMN n TYPE text"),
        Level::Critical
    );
    assert_eq!(
        with_schema(schema, "ALTER TABLE t ALTER COLUMN n TYPE bigint"),
        Level::Critical
    );
    assert_eq!(
        with_schema(schema, "ALTER TABLE t ALTER COLUMN x TYPE varchar(5)"),
        Level::Critical
    );
    // Without the schema the old type is unknown: assume the worst.
    assert_eq!(
        level("ALTER TABLE t ALTER COLUMN v TYPE text"),
        Level::Critical
    );
    let r = migration("ALTER TABLE t ALTER COLUMN v TYPE bigint", false);
    assert!(r.statements[0].1.reasons[0].rewrites_table);
    assert_eq!(r.statements[0].1.reasons[0].lock, Some("ACCESS EXCLUSIVE"));
    assert!(crate::sql::types::binary_coercible(
        "character varying(3)",
        "character varying"
    ));
    assert!(!crate::sql::types::binary_coercible(
        "integer",
        "character varying"
    ));
}

#[test]
fn add_column_defaults() {
    assert_eq!(level("ALTER TABLE t ADD COLUMN c int"), Level::Low);
    assert_eq!(
        level("ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0"),
        Level::Low
    );
    assert_eq!(
        level("ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now()"),
        Level::Low
    );
    assert_eq!(
        level("ALTER TABLE t ADD COLUMN c float DEFAULT random()"),
        Level::Critical
    );
    assert_eq!(
        level("ALTER TABLE t ADD COLUMN c uuid DEFAULT gen_random_uuid()"),
        Level::Critical
    );
    assert_eq!(
        level("ALTER TABLE t ADD COLUMN c timestamptz DEFAULT clock_timestamp()"),
        Level::Critical
    );
    assert_eq!(
        level("ALTER TABLE t ADD COLUMN c int NOT NULL"),
        Level::Critical
    );
    let r = migration("ALTER TABLE t ADD COLUMN c float DEFAULT random()", false);
    assert!(r.statements[0].1.reasons[0].rewrites_table);
    let r = migration("ALTER TABLE t ADD COLUMN c int", false);
    assert!(!r.statements[0].1.reasons[0].rewrites_table);
}

#[test]
fn not_null_constraints_and_validation() {
    assert_eq!(
        level("ALTER TABLE t ALTER COLUMN c SET NOT NULL"),
        Level::High
    );
    // Instant, but code that relies on the column never being NULL breaks.
    assert_eq!(
        level("ALTER TABLE t ALTER COLUMN c DROP NOT NULL"),
        Level::High
    );
    assert_eq!(
        level("ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (u) REFERENCES u (id)"),
        Level::High
    );
    assert_eq!(
        level("ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (u) REFERENCES u (id) NOT VALID"),
        Level::Low
    );
    assert_eq!(
        level("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)"),
        Level::High
    );
    assert_eq!(
        level("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID"),
        Level::Low
    );
    let r = migration("ALTER TABLE t VALIDATE CONSTRAINT fk", false);
    assert_eq!(r.level, Level::Low);
    assert_eq!(
        r.statements[0].1.reasons[0].lock,
        Some("SHARE UPDATE EXCLUSIVE")
    );
}

#[test]
fn renames_and_drop_index() {
    assert_eq!(level("ALTER TABLE t RENAME TO u"), Level::High);
    assert_eq!(level("ALTER TABLE t RENAME COLUMN a TO b"), Level::High);
    assert_eq!(level("DROP INDEX i"), Level::High);
    assert_eq!(
        migration("DROP INDEX CONCURRENTLY i", true).level,
        Level::Low
    );
    assert_eq!(
        migration("DROP INDEX CONCURRENTLY i", false).level,
        Level::Low,
        "alone, it runs outside a transaction by itself"
    );
    assert_eq!(
        migration("SELECT 1;\nDROP INDEX CONCURRENTLY i", false).level,
        Level::Critical
    );
}

#[test]
fn harmless_statements_are_low() {
    for sql in [
        "CREATE TABLE t (id int)",
        "CREATE VIEW v AS SELECT 1",
        "COMMENT ON TABLE t IS 'x'",
        "GRANT SELECT ON t TO r",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "INSERT INTO t VALUES (1)",
        "SET lock_timeout = '5s'",
        "SET statement_timeout = '1min'",
        "CREATE SCHEMA s",
    ] {
        assert_eq!(level(sql), Level::Low, "{sql}");
    }
    let r = migration("CREATE SCHEMA s", false);
    assert_eq!(r.statements[0].1.reasons[0].message, "no known risk");
}

#[test]
fn unparsed_statements_are_never_low() {
    let file = parse_file(
        "m",
        "CREATE POLICY p ON t USING (owner = current_user) WITH sorcery",
        true,
    );
    let s = &file.statements[0];
    assert_eq!(s.kind, crate::sql::StatementKind::Unparsed);
    let a = statement_alone(s);
    assert!(a.level >= Level::High);
    assert!(
        a.reasons[0]
            .message
            .contains("could not be analysed: review by hand")
    );
}

#[test]
fn a_migration_is_as_risky_as_its_worst_statement() {
    let r = migration(
        "CREATE TABLE a (id int);\nCREATE INDEX i ON t (a);\nDELETE FROM t;\nINSERT INTO a VALUES (1);",
        false,
    );
    assert_eq!(r.level, Level::Critical);
    assert_eq!(r.statements.len(), 4);
    assert_eq!(r.statements[1].0, 2);
    assert_eq!(
        r.reasons(),
        vec!["DELETE without WHERE deletes every row of the table (line 3)"]
    );
    assert_eq!(migration("", false).level, Level::Low);
    assert!(Level::Low < Level::High && Level::High < Level::Critical);
    assert_eq!(serde_json::to_value(Level::Critical).unwrap(), "critical");
}

mod sizes {
    use super::*;

    const SETTINGS: SizeThresholds = SizeThresholds {
        large_table_rows: 1_000_000,
        huge_table_rows: 10_000_000,
    };

    fn sized(rows: u64) -> TableSizes {
        [(
            "orders".to_string(),
            TableSize {
                rows,
                bytes: rows * 130,
            },
        )]
        .into_iter()
        .collect()
    }

    /// `sql` classified without a schema, then sharpened with `orders` at `rows`.
    fn sharpened(sql: &str, no_transaction: bool, rows: u64) -> (MigrationRisk, MigrationRisk) {
        let before = migration(sql, no_transaction);
        let mut after = before.clone();
        sharpen(&mut after, &sized(rows), &SETTINGS);
        (before, after)
    }

    /// The reasons `sharpen` added to the first statement.
    fn added(before: &MigrationRisk, after: &MigrationRisk) -> Vec<Reason> {
        after.statements[0].1.reasons[before.statements[0].1.reasons.len()..].to_vec()
    }

    #[test]
    fn reasons_name_their_table() {
        let table = |sql: &str| {
            migration(sql, false).statements[0].1.reasons[0]
                .table
                .clone()
        };
        assert_eq!(table("CREATE INDEX i ON Orders (a)").unwrap(), "orders");
        assert_eq!(
            table("ALTER TABLE app.\"Orders\" ADD COLUMN c int").unwrap(),
            "app.Orders"
        );
        assert_eq!(table("TRUNCATE shop.orders").unwrap(), "shop.orders");
        assert_eq!(
            table("UPDATE db.Shop.orders SET a = 1").unwrap(),
            "shop.orders"
        );
        assert_eq!(table("DROP TABLE orders").unwrap(), "orders");
        assert_eq!(table("DELETE FROM orders WHERE id = 1").unwrap(), "orders");
        assert_eq!(table("UPDATE orders SET a = 1").unwrap(), "orders");
        assert_eq!(table("DROP INDEX i"), None);
        assert_eq!(table("CREATE SCHEMA s"), None);
        let r = migration("TRUNCATE a, b", false);
        let reasons = &r.statements[0].1.reasons;
        assert_eq!(reasons.len(), 2);
        assert_eq!(reasons[1].table.as_deref(), Some("b"));
        assert!(reasons[1].message.starts_with("b: TRUNCATE"));
        let json = serde_json::to_value(migration("DROP INDEX i", false)).unwrap();
        assert!(
            json["statements"][0][1]["reasons"][0]
                .get("table")
                .is_none()
        );
        let json = serde_json::to_value(migration("DROP TABLE t", false)).unwrap();
        assert_eq!(json["statements"][0][1]["reasons"][0]["table"], "t");
        let r = migration(
            "CREATE INDEX i ON a (x);\nALTER TABLE b ADD COLUMN c int;\nCREATE INDEX j ON a (y)",
            false,
        );
        assert_eq!(tables(&[r]), vec!["a", "b"]);
    }

    #[test]
    fn a_blocking_build_needs_a_large_table() {
        let (before, after) = sharpened("CREATE INDEX i ON orders (a)", false, 999_999);
        assert_eq!(after, before, "just below large_table_rows: unchanged");
        let (before, after) = sharpened("CREATE INDEX i ON orders (a)", false, 1_000_000);
        assert_eq!(after.level, Level::High);
        let new = added(&before, &after);
        assert_eq!(new.len(), 1);
        assert_eq!(new[0].level, Level::High);
        assert_eq!(
            new[0].message,
            "orders has ~1.0M rows (124 MB): the SHARE lock blocks writes while it reads \
             them all"
        );
        assert_eq!(new[0].table.as_deref(), Some("orders"));
        assert!(after.reasons().iter().any(|r| r.contains("~1.0M rows")));
    }

    #[test]
    fn a_blocking_build_on_a_huge_table_is_critical() {
        let (_, after) = sharpened("CREATE INDEX i ON orders (a)", false, 9_999_999);
        assert_eq!(after.level, Level::High, "just below huge_table_rows");
        let (_, after) = sharpened("CREATE INDEX i ON orders (a)", false, 10_000_000);
        assert_eq!(after.level, Level::Critical);
        assert_eq!(
            after.reasons(),
            vec![
                "orders has ~10M rows (1.2 GB): the SHARE lock blocks writes for minutes \
                 while it reads them all (line 1)"
            ]
        );
        let (_, after) = sharpened(
            "ALTER TABLE orders ALTER COLUMN c SET NOT NULL",
            false,
            12_000_000,
        );
        assert_eq!(after.level, Level::Critical);
        assert!(after.reasons()[0].contains("blocks reads and writes"));
    }

    #[test]
    fn a_concurrent_build_stays_low_on_a_huge_table() {
        let (before, after) = sharpened(
            "CREATE INDEX CONCURRENTLY i ON orders (a)",
            true,
            500_000_000,
        );
        assert_eq!(after, before);
        assert_eq!(after.level, Level::Low);
        let (before, after) = sharpened(
            "ALTER TABLE orders VALIDATE CONSTRAINT fk",
            false,
            500_000_000,
        );
        assert_eq!(after, before);
    }

    #[test]
    fn brief_locks_are_not_sharpened() {
        for sql in [
            "ALTER TABLE orders ADD COLUMN c int",
            "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (u) REFERENCES u (id) NOT VALID",
            "ALTER TABLE orders RENAME COLUMN a TO b",
            "DROP TABLE orders",
        ] {
            let (before, after) = sharpened(sql, false, 500_000_000);
            assert_eq!(after, before, "{sql}");
        }
    }

    #[test]
    fn rewrites_by_size() {
        let sql = "ALTER TABLE orders ALTER COLUMN c TYPE bigint";
        let (before, after) = sharpened(sql, false, 999_999);
        assert_eq!(after, before);
        // Large but not huge: the size reason is high, not critical (the rewrite itself already
        // is critical, and stays so).
        let (before, after) = sharpened(sql, false, 2_400_000);
        let new = added(&before, &after);
        assert_eq!(new.len(), 1);
        assert_eq!(new[0].level, Level::High);
        assert!(
            new[0].message.ends_with(
                "the ACCESS EXCLUSIVE lock blocks reads and writes while it rewrites them all"
            ),
            "{}",
            new[0].message
        );
        assert_eq!(after.level, Level::Critical);
        let (before, after) = sharpened(sql, false, 12_000_000);
        let new = added(&before, &after);
        assert_eq!(new.len(), 1);
        assert_eq!(new[0].level, Level::Critical);
        assert_eq!(
            new[0].message,
            "rewriting orders (~12M rows, 1.5 GB) holds ACCESS EXCLUSIVE for minutes"
        );
        assert!(
            after
                .reasons()
                .iter()
                .any(|r| r.starts_with("rewriting orders"))
        );
        // Two rewrites of one table in one statement: one size reason.
        let (before, after) = sharpened(
            "ALTER TABLE orders ALTER COLUMN a TYPE bigint, ALTER COLUMN b TYPE bigint",
            false,
            12_000_000,
        );
        assert_eq!(added(&before, &after).len(), 1);
    }

    #[test]
    fn updates_with_where_on_a_huge_table_stay_high() {
        let sql = "UPDATE orders SET a = 1 WHERE id < 100";
        let (before, after) = sharpened(sql, false, 9_999_999);
        assert_eq!(after, before);
        let (before, after) = sharpened(sql, false, 10_000_000);
        assert_eq!(after.level, Level::High);
        let new = added(&before, &after);
        assert_eq!(new.len(), 1);
        assert!(new[0].message.contains("batch it"), "{}", new[0].message);
        // Without WHERE: critical already, nothing to add.
        let (before, after) = sharpened("DELETE FROM orders", false, 10_000_000);
        assert_eq!(after, before);
    }

    #[test]
    fn unknown_tables_are_unchanged() {
        let mut r = migration("CREATE INDEX i ON customers (a)", false);
        let before = r.clone();
        sharpen(&mut r, &sized(500_000_000), &SETTINGS);
        assert_eq!(r, before);
        sharpen(&mut r, &TableSizes::default(), &SETTINGS);
        assert_eq!(r, before);
    }

    #[test]
    fn levels_are_never_lowered_and_sharpening_twice_adds_nothing() {
        for sql in [
            "DROP TABLE orders",
            "TRUNCATE orders",
            "CREATE INDEX i ON orders (a)",
            "ALTER TABLE orders ALTER COLUMN c TYPE bigint",
            "CREATE INDEX CONCURRENTLY i ON orders (a)",
        ] {
            for rows in [0, 10, 999_999, 1_000_000, 10_000_000] {
                let (before, after) = sharpened(sql, false, rows);
                assert!(after.level >= before.level, "{sql} at {rows}");
                for ((_, a), (_, b)) in before.statements.iter().zip(&after.statements) {
                    assert!(b.level >= a.level, "{sql} at {rows}");
                }
                let mut again = after.clone();
                sharpen(&mut again, &sized(rows), &SETTINGS);
                assert_eq!(again, after, "{sql} at {rows}");
            }
        }
        // A level set above its reasons (by hand) is kept too.
        let mut r = migration("CREATE INDEX CONCURRENTLY i ON orders (a)", true);
        r.level = Level::Critical;
        sharpen(&mut r, &sized(0), &SETTINGS);
        assert_eq!(r.level, Level::Critical);
    }
}

#[test]
fn transaction_control_is_never_low() {
    let r = migration(
        "CREATE TABLE a (id int);\nCOMMIT;\nCREATE TABLE b (id int);",
        false,
    );
    assert_eq!(r.level, Level::Critical);
    assert!(
        r.reasons()[0].starts_with("COMMIT inside a migration"),
        "{:?}",
        r.reasons()
    );
    let r = migration("CREATE TABLE a (id int);\nPREPARE TRANSACTION 'p';", false);
    assert_eq!(r.level, Level::Critical);
    // The upstream-style outer wrapper is Confiture's transaction: it adds no risk.
    let r = migration("BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;", false);
    assert_eq!(r.level, Level::Low);
    let r = migration("VACUUM t;\nCREATE TABLE a (id int);", false);
    assert_eq!(r.level, Level::Critical);
    assert!(
        r.reasons()[0].starts_with("VACUUM cannot run"),
        "{:?}",
        r.reasons()
    );
}

#[test]
fn a_no_transaction_migration_of_several_steps_is_never_low() {
    // One statement that cannot run in a transaction, with session settings around it: atomic.
    for sql in [
        "CREATE INDEX CONCURRENTLY i ON t (a)",
        "SET lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY i ON t (a);\nRESET lock_timeout;",
    ] {
        assert_eq!(migration(sql, true).level, Level::Low, "{sql}");
    }
    // Two steps, marked or detected: high at the second step, which names them all.
    for marked in [true, false] {
        let r = migration(
            "CREATE INDEX CONCURRENTLY i ON t (a);\nCREATE INDEX CONCURRENTLY j ON t (b);",
            marked,
        );
        assert_eq!(r.level, Level::High);
        let reasons = r.reasons();
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        let lines = if marked { "2, 3" } else { "1, 2" };
        assert!(
            reasons[0].starts_with(&format!(
                "not atomic: this no-transaction migration commits in 2 separate steps (lines \
                 {lines})"
            )),
            "{reasons:?}"
        );
        let effect = &r.statements[1].1.reasons;
        assert!(
            effect
                .iter()
                .any(|x| x.effect == Effect::NonAtomicMigration)
        );
    }
    // The author's own transactions: several steps, or one that commits apart from the
    // tracking row — never low.
    let r = migration(
        "BEGIN;\nINSERT INTO t VALUES (1);\nCOMMIT;\nCREATE INDEX CONCURRENTLY i ON t (a);",
        true,
    );
    assert_eq!(r.level, Level::High);
    assert!(r.reasons()[0].ends_with("(line 5)"), "{:?}", r.reasons());
    let r = migration("BEGIN;\nINSERT INTO t VALUES (1);\nCOMMIT;", true);
    assert_eq!(r.level, Level::High);
    assert!(
        r.reasons()[0].starts_with("not atomic: this transaction is the migration's own"),
        "{:?}",
        r.reasons()
    );
    // The same statements in a transactional migration are atomic.
    let r = migration("BEGIN;\nINSERT INTO t VALUES (1);\nCOMMIT;", false);
    assert_eq!(r.level, Level::Low);
}
