//! `migrate down`: steps, target, irreversible migrations, no tracking table, protection.

use crate::harness::TestProject;
use crate::migrate_up::{exists, set_env, tracked, two_migrations};

#[test]
fn down_steps_and_target_roll_back_newest_first() {
    let p = TestProject::new();
    two_migrations(&p);
    p.write(
        "db/migrations/003_tags.up.sql",
        "CREATE TABLE tags (id int);\n",
    );
    p.write("db/migrations/003_tags.down.sql", "DROP TABLE tags;\n");
    p.run(&["migrate", "up"]).ok();

    let dry = p.run(&[
        "migrate",
        "down",
        "--steps",
        "2",
        "--dry-run",
        "--format",
        "json",
    ]);
    dry.ok();
    let versions: Vec<String> = dry.json()["rolled_back"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["version"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(versions, vec!["003", "002"]);
    assert_eq!(tracked(&p), 3, "a dry run changes nothing");

    p.run(&["migrate", "down", "--steps", "2"]).ok();
    assert!(!exists(&p, "tags") && !exists(&p, "posts") && exists(&p, "users"));
    assert_eq!(tracked(&p), 1);

    p.run(&["migrate", "up"]).ok();
    p.run(&["migrate", "down", "--target", "001"]).ok();
    assert_eq!(tracked(&p), 1);
    assert!(!exists(&p, "posts"));
    assert_eq!(p.run(&["migrate", "down", "--target", "99"]).code, 5);
}

#[test]
fn down_without_down_file_is_irreversible_and_changes_nothing() {
    let p = TestProject::new();
    p.write("db/migrations/001_a.up.sql", "CREATE TABLE a (id int);\n");
    p.write("db/migrations/002_b.up.sql", "CREATE TABLE b (id int);\n");
    p.write("db/migrations/002_b.down.sql", "DROP TABLE b;\n");
    p.write("db/migrations/003_c.up.sql", "CREATE TABLE c (id int);\n");
    p.write("db/migrations/003_c.down.sql", "DROP TABLE c;\n");
    p.run(&["migrate", "up"]).ok();
    let run = p.run(&["migrate", "down", "--steps", "3"]);
    assert_eq!(run.code, 8, "{run:?}");
    assert!(run.stderr.contains("001_a.down.sql"), "{}", run.stderr);
    assert!(exists(&p, "b") && exists(&p, "c"));
    assert_eq!(tracked(&p), 3);
}

#[test]
fn down_and_verify_without_tracking_table_exit_2() {
    let p = TestProject::new();
    two_migrations(&p);
    let down = p.run(&["migrate", "down"]);
    assert_eq!(down.code, 2, "{down:?}");
    assert!(down.stderr.contains("tb_confiture"), "{}", down.stderr);
    let verify = p.run(&["migrate", "verify", "--format", "json"]);
    assert_eq!(verify.code, 2);
    assert_eq!(verify.json()["error"]["exit_code"], 2);
}

#[test]
fn protected_environment_asks_before_rolling_back() {
    let p = TestProject::new();
    two_migrations(&p);
    p.run(&["migrate", "up"]).ok();
    set_env(&p, "protected: true\n");
    assert_eq!(p.run(&["migrate", "down"]).code, 7);
    assert!(exists(&p, "posts"));
    p.run(&["migrate", "down", "--yes"]).ok();
    assert!(!exists(&p, "posts"));
}

#[test]
fn failing_down_is_rolled_back_with_its_row() {
    let p = TestProject::new();
    two_migrations(&p);
    p.run(&["migrate", "up"]).ok();
    p.write(
        "db/migrations/002_posts.down.sql",
        "DROP TABLE posts;\nDROP TABLE nope;\n",
    );
    let run = p.run(&["migrate", "down"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("db/migrations/002_posts.down.sql:2: ERROR 42P01"),
        "{}",
        run.stderr
    );
    assert!(exists(&p, "posts"));
    assert_eq!(tracked(&p), 2);
}
