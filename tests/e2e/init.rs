//! `confiture init`: the project layout, `.gitignore`, and never overwriting without `--force`.

use std::path::Path;

use crate::harness::{Run, confiture_command};

fn init(dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["init"];
    all.extend_from_slice(args);
    Run::from(
        confiture_command(dir, &all)
            .output()
            .expect("run confiture init"),
    )
}

fn read(dir: &Path, relative: &str) -> String {
    std::fs::read_to_string(dir.join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

const LAYOUT: &[&str] = &[
    "db/schema/00_common/00_extensions.sql",
    "db/schema/10_tables/10_customers.sql",
    "db/migrations/.gitkeep",
    "db/environments/local.yaml",
    "db/sync/README.md",
    "plugins/README.md",
];

#[test]
fn creates_the_layout_and_a_buildable_project() {
    let dir = tempfile::tempdir().unwrap();
    let run = init(dir.path(), &[]);
    run.ok();
    for path in LAYOUT {
        assert!(dir.path().join(path).is_file(), "{path} exists");
        assert!(
            run.stdout.contains(path),
            "output names {path}: {}",
            run.stdout
        );
    }
    assert_eq!(read(dir.path(), ".gitignore"), ".confiture/\n");
    assert!(read(dir.path(), "db/schema/10_tables/10_customers.sql").contains("CREATE TABLE"));
    // The new project builds as it is, with the environment file init wrote.
    let built = Run::from(confiture_command(dir.path(), &["build"]).output().unwrap());
    built.ok();
    let schema = read(dir.path(), "db/generated/schema_local.sql");
    assert!(
        schema.contains("-- File: db/schema/10_tables/10_customers.sql"),
        "{schema}"
    );
}

#[test]
fn creates_the_directory_it_is_given() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path(), &["shop"]).ok();
    assert!(dir.path().join("shop/db/environments/local.yaml").is_file());
    assert!(dir.path().join("shop/.gitignore").is_file());
    assert!(
        !dir.path().join("db").exists(),
        "nothing written outside DIR"
    );
}

#[test]
fn appends_to_an_existing_gitignore_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".gitignore"), "/target\n*.log").unwrap();
    init(dir.path(), &[]).ok();
    assert_eq!(
        read(dir.path(), ".gitignore"),
        "/target\n*.log\n.confiture/\n"
    );
    init(dir.path(), &["--force"]).ok();
    assert_eq!(
        read(dir.path(), ".gitignore"),
        "/target\n*.log\n.confiture/\n"
    );
}

#[test]
fn keeps_existing_files_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let mine = "name: local\ndatabase_url: postgresql://me@db/mine\n";
    std::fs::create_dir_all(dir.path().join("db/environments")).unwrap();
    std::fs::write(dir.path().join("db/environments/local.yaml"), mine).unwrap();
    let run = init(dir.path(), &[]);
    run.ok();
    assert_eq!(read(dir.path(), "db/environments/local.yaml"), mine);
    assert!(
        run.stdout.contains("skipped") && run.stdout.contains("db/environments/local.yaml"),
        "{}",
        run.stdout
    );
    // An existing project keeps its schema as it is: the example is not added.
    assert!(!dir.path().join("db/schema").exists(), "{}", run.stdout);
    assert!(
        run.stdout.contains("not added") && run.stdout.contains("10_customers.sql"),
        "{}",
        run.stdout
    );

    let again = init(dir.path(), &[]);
    again.ok();
    assert!(again.stdout.contains("Nothing created"), "{}", again.stdout);
}

#[test]
fn force_overwrites_and_json_lists_what_happened() {
    let dir = tempfile::tempdir().unwrap();
    let first = init(dir.path(), &["--format", "json"]);
    first.ok();
    let report = first.json();
    let created: Vec<&str> = report["created"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(created, LAYOUT);
    assert_eq!(report["skipped"].as_array().unwrap().len(), 0);
    assert_eq!(report["gitignore"], "created");

    let table = dir.path().join("db/schema/10_tables/10_customers.sql");
    let original = std::fs::read_to_string(&table).unwrap();
    std::fs::write(&table, "-- edited\n").unwrap();

    let kept = init(dir.path(), &["--format", "json"]).json();
    assert_eq!(kept["created"].as_array().unwrap().len(), 0);
    assert_eq!(kept["skipped"].as_array().unwrap().len(), LAYOUT.len());
    assert_eq!(kept["gitignore"], "unchanged");
    assert_eq!(std::fs::read_to_string(&table).unwrap(), "-- edited\n");

    let forced = init(dir.path(), &["--force", "--format", "json"]).json();
    assert_eq!(
        forced["overwritten"].as_array().unwrap().len(),
        LAYOUT.len()
    );
    assert_eq!(std::fs::read_to_string(&table).unwrap(), original);
}
