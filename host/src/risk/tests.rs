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
    classify_migration(&file.statements)
}

fn with_schema(schema: &str, sql: &str) -> Level {
    let before = parse_file("db/schema.sql", schema, false);
    let model = build_model(&[before]);
    let file = parse_file("db/migrations/1_m.up.sql", sql, true);
    classify_migration_in(&file.statements, Some(&model)).level
}

#[test]
fn create_index_concurrently_or_not() {
    assert_eq!(level("CREATE INDEX i ON t (a)"), Level::High);
    let r = migration("CREATE INDEX CONCURRENTLY i ON t (a)", true);
    assert_eq!(r.level, Level::Low);
    let r = migration("CREATE INDEX CONCURRENTLY i ON t (a)", false);
    assert_eq!(r.level, Level::Critical);
    assert!(r.reasons()[0].contains("cannot run inside a transaction block"));
    let a = classify_statement(&parse_file("m", "CREATE INDEX i ON t (a)", true).statements[0]);
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
    assert_eq!(level("DROP VIEW v"), Level::Low);
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
    assert!(alter::coercible_for_tests(
        "character varying(3)",
        "character varying"
    ));
    assert!(!alter::coercible_for_tests("integer", "character varying"));
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
    assert_eq!(
        level("ALTER TABLE t ALTER COLUMN c DROP NOT NULL"),
        Level::Low
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
    let a = classify_statement(s);
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
