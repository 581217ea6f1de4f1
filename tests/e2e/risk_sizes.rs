//! Risk levels sharpened with live table sizes (`risk:` thresholds in the environment file).

use crate::harness::TestProject;

/// A project whose database has `big` (3000 rows), `mid` (1500) and `small` (999), each
/// analysed, with `risk: {large_table_rows: 1000, huge_table_rows: 2000}`.
fn sized_project() -> TestProject {
    let p = TestProject::new();
    p.write(
        "db/environments/local.yaml",
        &format!(
            "database_url: {}\nrisk:\n  large_table_rows: 1000\n  huge_table_rows: 2000\n",
            p.db.url
        ),
    );
    p.db.client()
        .batch_execute(
            "CREATE TABLE big (id int PRIMARY KEY, c integer);
             INSERT INTO big SELECT g, g FROM generate_series(1, 3000) g;
             CREATE TABLE mid (id int PRIMARY KEY, c integer);
             INSERT INTO mid SELECT g, g FROM generate_series(1, 1500) g;
             CREATE TABLE small (id int PRIMARY KEY, c integer);
             INSERT INTO small SELECT g, g FROM generate_series(1, 999) g;
             ANALYZE big, mid, small;",
        )
        .unwrap();
    p
}

/// `(risk, risk_reasons joined)` of each entry of `list`.
fn risks(list: &serde_json::Value) -> Vec<(String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let reasons: Vec<&str> = m["risk_reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap())
                .collect();
            (m["risk"].as_str().unwrap().to_string(), reasons.join(" | "))
        })
        .collect()
}

#[test]
fn status_and_dry_run_sharpen_levels_with_table_sizes() {
    let p = sized_project();
    p.write(
        "db/migrations/001_big_index.up.sql",
        "CREATE INDEX big_c ON big (c);\n",
    );
    p.write(
        "db/migrations/002_mid_index.up.sql",
        "CREATE INDEX mid_c ON mid (c);\n",
    );
    p.write(
        "db/migrations/003_small_index.up.sql",
        "CREATE INDEX small_c ON small (c);\n",
    );
    p.write(
        "db/migrations/004_big_type.up.sql",
        "ALTER TABLE big ALTER COLUMN c TYPE bigint;\n",
    );
    p.write(
        "db/migrations/005_small_type.up.sql",
        "ALTER TABLE small ALTER COLUMN c TYPE bigint;\n",
    );
    p.write(
        "db/migrations/006_later.up.sql",
        "CREATE TABLE later (c int);\nCREATE INDEX later_c ON later (c);\n",
    );
    let status = p.run(&["migrate", "status", "--format", "json"]);
    status.ok();
    let json = status.json();
    let dry = p.run(&["migrate", "up", "--dry-run", "--format", "json"]);
    dry.ok();
    let dry = dry.json();
    for list in [&json["migrations"], &dry["not_run"]] {
        let found = risks(list);
        // 3000 rows >= huge_table_rows: a write-blocking build is critical.
        assert_eq!(found[0].0, "critical", "{found:?}");
        assert!(
            found[0].1.starts_with("big has ~3.0K rows (")
                && found[0]
                    .1
                    .contains("the SHARE lock blocks writes for minutes while it reads them all"),
            "{found:?}"
        );
        // 1500 rows: large, not huge: high (as before), with the size as a reason.
        assert_eq!(found[1].0, "high", "{found:?}");
        assert!(
            found[1].1.contains("mid has ~1.5K rows")
                && found[1].1.contains("CREATE INDEX without CONCURRENTLY"),
            "{found:?}"
        );
        // 999 rows: just below large_table_rows: no size reason.
        assert_eq!(found[2].0, "high", "{found:?}");
        assert!(!found[2].1.contains("rows ("), "{found:?}");
        // A rewrite of a huge table says how big it is.
        assert_eq!(found[3].0, "critical", "{found:?}");
        assert!(
            found[3].1.contains("rewriting big (~3.0K rows, ")
                && found[3].1.contains("holds ACCESS EXCLUSIVE for minutes"),
            "{found:?}"
        );
        // Near miss: critical anyway (a rewrite), but no size reason.
        assert_eq!(found[4].0, "critical", "{found:?}");
        assert!(!found[4].1.contains("rows ("), "{found:?}");
        // An index on a table the same migration creates: new and empty, low, no size.
        assert_eq!(found[5].0, "low", "{found:?}");
        assert!(!found[5].1.contains("rows ("), "{found:?}");
    }
    let text = p.run(&["migrate", "status"]);
    text.ok();
    assert!(
        text.stdout.contains("CRITICAL: big has ~3.0K rows"),
        "{}",
        text.stdout
    );
}

#[test]
fn default_thresholds_leave_small_tables_alone() {
    let p = sized_project();
    p.write(
        "db/environments/local.yaml",
        &format!("database_url: {}\n", p.db.url),
    );
    p.write(
        "db/migrations/001_big_index.up.sql",
        "CREATE INDEX big_c ON big (c);\n",
    );
    let run = p.run(&["migrate", "status", "--format", "json"]);
    run.ok();
    let found = risks(&run.json()["migrations"]);
    assert_eq!(found[0].0, "high", "{found:?}");
    assert!(!found[0].1.contains("rows ("), "{found:?}");
}

#[test]
fn a_never_analysed_table_is_estimated_from_its_size() {
    let p = sized_project();
    p.db.client()
        .batch_execute(
            "CREATE TABLE fresh (id int, c integer) WITH (autovacuum_enabled = off);
             INSERT INTO fresh SELECT g, g FROM generate_series(1, 5000) g;",
        )
        .unwrap();
    assert_eq!(
        p.db.scalar("SELECT (reltuples < 1)::text FROM pg_class WHERE relname = 'fresh'")
            .as_deref(),
        Some("true"),
        "never analysed"
    );
    p.write(
        "db/migrations/001_fresh_index.up.sql",
        "CREATE INDEX fresh_c ON fresh (c);\n",
    );
    let run = p.run(&["migrate", "status", "--format", "json"]);
    run.ok();
    let found = risks(&run.json()["migrations"]);
    // 5000 rows of 36 bytes fill 23 pages (184 kB): counted as ~2.9K rows of 64 bytes.
    assert_eq!(found[0].0, "critical", "{found:?}");
    assert!(found[0].1.contains("fresh has ~2.9K rows"), "{found:?}");
}

#[test]
fn a_partitioned_table_counts_its_partitions_once() {
    let p = sized_project();
    p.db.client()
        .batch_execute(
            "CREATE TABLE parts (id int, c integer) PARTITION BY RANGE (id);
             CREATE TABLE parts_1 PARTITION OF parts FOR VALUES FROM (0) TO (1000);
             CREATE TABLE parts_2 PARTITION OF parts FOR VALUES FROM (1000) TO (1000000);
             INSERT INTO parts SELECT g, g FROM generate_series(1, 3000) g;
             ANALYZE parts;",
        )
        .unwrap();
    p.write(
        "db/migrations/001_parts_index.up.sql",
        "CREATE INDEX parts_c ON parts (c);\n",
    );
    let run = p.run(&["migrate", "status", "--format", "json"]);
    run.ok();
    let found = risks(&run.json()["migrations"]);
    assert_eq!(found[0].0, "critical", "{found:?}");
    assert!(found[0].1.contains("parts has ~3.0K rows"), "{found:?}");
}
