//! `confiture build`: file order, the hashed header, and `--apply` on real PostgreSQL.

use sha2::{Digest, Sha256};

use crate::harness::TestProject;

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn env_with(project: &TestProject, extra: &str) {
    project.write(
        "db/environments/local.yaml",
        &format!("database_url: {}\n{extra}", project.db.url),
    );
}

fn built(project: &TestProject) -> String {
    std::fs::read_to_string(project.root().join("db/generated/schema_local.sql"))
        .expect("the built schema file")
}

/// A project whose schema has two tables and whose migrations re-add what the schema has, so
/// that running them after `build --apply` would fail.
fn project_with_schema_and_migrations() -> TestProject {
    let project = TestProject::new();
    project.write(
        "db/schema/10_tables/1_customers.sql",
        "CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL, phone text);\n",
    );
    project.write(
        "db/schema/10_tables/2_orders.sql",
        "CREATE TABLE orders (\n  id int PRIMARY KEY,\n  customer_id int REFERENCES customers\n);\n",
    );
    project.write(
        "db/migrations/001_create_customers.up.sql",
        "CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL);\n",
    );
    project.write(
        "db/migrations/002_add_phone.up.sql",
        "ALTER TABLE customers ADD COLUMN phone text;\n",
    );
    project
}

#[test]
fn files_come_in_natural_order_once_without_excluded_dirs() {
    let project = TestProject::new();
    env_with(
        &project,
        "include_dirs: [db/schema, db/schema/10_tables]\nexclude_dirs: [db/schema/99_seed]\n",
    );
    project.write("db/schema/10_tables/10_b.sql", "CREATE TABLE b (id int);\n");
    project.write("db/schema/10_tables/2_a.sql", "CREATE TABLE a (id int);\n");
    project.write(
        "db/schema/2_types/nested/1_t.sql",
        "CREATE TYPE t AS (x int);\n",
    );
    project.write("db/schema/99_seed/data.sql", "INSERT INTO a VALUES (1);\n");
    project.write("db/schema/10_tables/notes.md", "not SQL\n");
    let report = project.run(&["build", "--format", "json"]).json();
    let files: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "db/schema/2_types/nested/1_t.sql",
            "db/schema/10_tables/2_a.sql",
            "db/schema/10_tables/10_b.sql",
        ]
    );
    let text = built(&project);
    let sections: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("-- File: "))
        .collect();
    assert_eq!(sections, files);
    assert!(!text.contains("INSERT INTO a"), "excluded dir left out");
    assert_eq!(report["output"], "db/generated/schema_local.sql");
}

#[test]
fn header_hashes_are_correct_and_stable() {
    let project = project_with_schema_and_migrations();
    let first = project.run(&["build", "--format", "json"]).json();
    let text = built(&project);
    let (header, body) = text.split_once("\n\n").expect("a header, then the body");
    assert_eq!(first["sha256"], sha256(body.as_bytes()));
    assert!(header.contains(&sha256(body.as_bytes())), "{header}");
    for file in [
        "db/schema/10_tables/1_customers.sql",
        "db/schema/10_tables/2_orders.sql",
    ] {
        let content = std::fs::read(project.root().join(file)).unwrap();
        let line = format!("--   {}  {file}", sha256(&content));
        assert!(header.lines().any(|l| l == line), "{line} in\n{header}");
    }
    assert_eq!(first["bytes"], text.len());

    project.run(&["build"]).ok();
    assert_eq!(built(&project), text, "same sources, same bytes");

    project.write(
        "db/schema/10_tables/2_orders.sql",
        "CREATE TABLE orders (id int);\n",
    );
    let changed = project.run(&["build", "--format", "json"]).json();
    assert_ne!(changed["sha256"], first["sha256"]);
    let (_, body) = built(&project)
        .split_once("\n\n")
        .map(|(h, b)| (h.to_string(), b.to_string()))
        .unwrap();
    assert_eq!(changed["sha256"], sha256(body.as_bytes()));
}

#[test]
fn output_flag_writes_elsewhere() {
    let project = project_with_schema_and_migrations();
    project.run(&["build", "--output", "out/schema.sql"]).ok();
    let text = std::fs::read_to_string(project.root().join("out/schema.sql")).unwrap();
    assert!(text.contains("-- File: db/schema/10_tables/1_customers.sql"));
    assert!(!project.root().join("db/generated").exists());
}

#[test]
fn a_missing_include_dir_names_it_and_the_environment_file() {
    let project = TestProject::new();
    env_with(&project, "include_dirs: [db/schema, db/nope]\n");
    project.write("db/schema/a.sql", "SELECT 1;\n");
    let run = project.run(&["build"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.stderr.contains("db/nope"), "{}", run.stderr);
    assert!(
        run.stderr.contains("db/environments/local.yaml"),
        "{}",
        run.stderr
    );
}

#[test]
fn no_sql_files_is_a_build_failure_with_a_hint() {
    let project = TestProject::new();
    let run = project.run(&["build"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("no .sql files"), "{}", run.stderr);
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
}

#[test]
fn apply_records_no_migration_unless_asked() {
    let project = project_with_schema_and_migrations();
    let run = project.run(&["build", "--apply"]);
    run.ok();
    assert!(
        run.stdout.contains("No migration recorded as applied"),
        "{}",
        run.stdout
    );
    let db = &project.db;
    assert_eq!(
        db.scalar("SELECT to_regclass('orders')::text").as_deref(),
        Some("orders")
    );
    assert_eq!(db.scalar("SELECT to_regclass('tb_confiture')::text"), None);
    // So `migrate up` runs them, and here they conflict with the built schema: nothing is
    // recorded that did not run.
    let up = project.run(&["migrate", "up"]);
    assert_eq!(up.code, 1, "{up:?}");
    assert_eq!(
        db.scalar("SELECT count(*)::text FROM tb_confiture")
            .as_deref(),
        Some("0")
    );
    // The flag needs --apply.
    assert_eq!(project.run(&["build", "--mark-migrations-applied"]).code, 5);
}

#[test]
fn apply_with_mark_migrations_applied_makes_migrate_up_a_no_op() {
    let project = project_with_schema_and_migrations();
    let report = project
        .run(&[
            "build",
            "--apply",
            "--mark-migrations-applied",
            "--format",
            "json",
        ])
        .json();
    assert_eq!(
        report["applied"]["migrations_recorded"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(report["applied"]["statements"], 2);
    let db = &project.db;
    assert_eq!(
        db.scalar("SELECT to_regclass('orders')::text").as_deref(),
        Some("orders")
    );
    assert_eq!(
        db.scalar("SELECT string_agg(version, ',' ORDER BY version) FROM tb_confiture")
            .as_deref(),
        Some("001,002")
    );
    let checksum =
        sha256(&std::fs::read(project.root().join("db/migrations/002_add_phone.up.sql")).unwrap());
    assert_eq!(
        db.scalar("SELECT checksum::text FROM tb_confiture WHERE version = '002'"),
        Some(checksum)
    );
    // Running the migrations would fail (the columns exist): up must have nothing to do.
    let up = project.run(&["migrate", "up"]);
    up.ok();
    assert_eq!(
        db.scalar("SELECT count(*)::text FROM tb_confiture")
            .as_deref(),
        Some("2")
    );
}

#[test]
fn apply_refuses_a_database_with_tables() {
    let project = project_with_schema_and_migrations();
    project
        .db
        .client()
        .batch_execute("CREATE TABLE precious (id int)")
        .unwrap();
    let run = project.run(&["build", "--apply"]);
    assert_eq!(run.code, 7, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("public.precious"), "{}", run.stderr);
    assert!(run.stderr.contains("--drop-existing"), "{}", run.stderr);
    assert_eq!(
        project.db.scalar("SELECT to_regclass('customers')::text"),
        None
    );
    assert_eq!(
        project
            .db
            .scalar("SELECT to_regclass('tb_confiture')::text"),
        None
    );
}

#[test]
fn drop_existing_replaces_every_user_schema() {
    let project = project_with_schema_and_migrations();
    project
        .db
        .client()
        .batch_execute(
            "CREATE TABLE precious (id int);\n\
             CREATE SCHEMA legacy;\nCREATE TABLE legacy.old (id int);",
        )
        .unwrap();
    let report = project
        .run(&["build", "--apply", "--drop-existing", "--format", "json"])
        .json();
    let dropped = report["applied"]["dropped_schemas"].as_array().unwrap();
    assert!(dropped.iter().any(|s| s == "legacy") && dropped.iter().any(|s| s == "public"));
    let db = &project.db;
    assert_eq!(db.scalar("SELECT to_regclass('precious')::text"), None);
    assert_eq!(db.scalar("SELECT to_regnamespace('legacy')::text"), None);
    assert_eq!(
        db.scalar("SELECT to_regclass('customers')::text")
            .as_deref(),
        Some("customers")
    );
    assert_eq!(
        db.scalar("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'public'")
            .as_deref(),
        Some("pg_database_owner")
    );
    assert_eq!(
        db.scalar("SELECT has_schema_privilege('public', 'public', 'USAGE')::text")
            .as_deref(),
        Some("true")
    );
}

#[test]
fn a_failing_file_names_file_and_line_and_leaves_nothing_behind() {
    let project = project_with_schema_and_migrations();
    project.write(
        "db/schema/20_views/1_broken.sql",
        "-- a view on a table that does not exist\nCREATE VIEW v AS SELECT 1 AS one;\n\
         SELECT *\n  FROM missing_table;\n",
    );
    project
        .db
        .client()
        .batch_execute("CREATE TABLE precious (id int)")
        .unwrap();
    let run = project.run(&["build", "--apply", "--drop-existing"]);
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("db/schema/20_views/1_broken.sql:4"),
        "the error names file and line: {}",
        run.stderr
    );
    assert!(run.stderr.contains("missing_table"), "{}", run.stderr);
    let db = &project.db;
    assert_eq!(db.scalar("SELECT to_regclass('customers')::text"), None);
    assert_eq!(db.scalar("SELECT to_regclass('v')::text"), None);
    assert_eq!(db.scalar("SELECT to_regclass('tb_confiture')::text"), None);
    assert_eq!(
        db.scalar("SELECT to_regclass('precious')::text").as_deref(),
        Some("precious"),
        "the dropped schemas come back with the rollback"
    );
}

#[test]
fn a_protected_environment_needs_yes() {
    let project = project_with_schema_and_migrations();
    env_with(&project, "protected: true\n");
    let run = project.run(&["build", "--apply"]);
    assert_eq!(run.code, 7, "{}", run.stderr);
    assert!(run.stderr.contains("protected"), "{}", run.stderr);
    assert_eq!(
        project.db.scalar("SELECT to_regclass('customers')::text"),
        None
    );
    project.run(&["build", "--apply", "--yes"]).ok();
    assert_eq!(
        project
            .db
            .scalar("SELECT to_regclass('customers')::text")
            .as_deref(),
        Some("customers")
    );
}
