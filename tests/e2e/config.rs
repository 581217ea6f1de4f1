//! Environment files and connection settings through the binary: errors that name file, line
//! and key; which database wins (`--database-url` > the file > `DATABASE_URL`); unreachable
//! databases; passwords kept out of every output.

use std::net::{Ipv4Addr, TcpListener};

use crate::harness::{TestDb, TestProject};

#[test]
fn config_unknown_key_names_file_line_and_suggestion() {
    let project = TestProject::new();
    project.write(
        "db/environments/local.yaml",
        &format!("name: local\ndatabse_url: {}\n", project.db.url),
    );
    let run = project.run(&["migrate", "status"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr.contains("db/environments/local.yaml:2"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("databse_url"), "{}", run.stderr);
    assert!(
        run.stderr.contains("did you mean `database_url`"),
        "{}",
        run.stderr
    );
}

#[test]
fn config_wrong_type_names_file_line_and_key() {
    let project = TestProject::new();
    project.write(
        "db/environments/local.yaml",
        &format!(
            "database_url: {}\nname: local\nprotected: maybe\n",
            project.db.url
        ),
    );
    let run = project.run(&["migrate", "status"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr.contains("db/environments/local.yaml:3"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("protected"), "{}", run.stderr);
}

#[test]
fn config_missing_environment_lists_the_available_ones() {
    let project = TestProject::new();
    project.write(
        "db/environments/production.yaml",
        "database_url: postgresql://prod/app\n",
    );
    let run = project.run(&["migrate", "status", "--env", "staging"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr.contains("db/environments/staging.yaml"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("local, production"), "{}", run.stderr);
}

#[test]
fn config_errors_in_json_are_one_object_on_stdout() {
    let project = TestProject::new();
    project.write("db/environments/local.yaml", "lock_timeout: 5 parsecs\n");
    let run = project.run(&["migrate", "status", "--format", "json"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    let value = run.json();
    assert_eq!(value["error"]["exit_code"], 5);
    let message = value["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("db/environments/local.yaml:1"),
        "{message}"
    );
    assert!(message.contains("lock_timeout"), "{message}");
}

/// The redacted URL `migrate status` reports as `database`.
fn database_used(project: &TestProject, args: &[&str], ambient: Option<&str>) -> String {
    let mut all = vec!["migrate", "status", "--format", "json"];
    all.extend_from_slice(args);
    let mut cmd = project.command(&all);
    if let Some(url) = ambient {
        cmd.env("DATABASE_URL", url);
    }
    let run = crate::harness::Run::from(cmd.output().expect("run confiture"));
    assert!(
        (0..=2).contains(&run.code),
        "status answers 0, 1 (pending) or 2 (no tracking table): {run:?}"
    );
    run.json()["database"]
        .as_str()
        .unwrap_or_else(|| panic!("no top-level `database` in {}", run.stdout))
        .to_string()
}

#[test]
fn config_connection_precedence() {
    let project = TestProject::new();
    let file_db = &project.db.name;
    let other = TestDb::new();
    let ends_with = |used: &str, db: &str| used.ends_with(&format!("/{db}"));

    let used = database_used(&project, &["--database-url", &other.url], None);
    assert!(
        ends_with(&used, &other.name),
        "--database-url beats the file: {used}"
    );
    let used = database_used(
        &project,
        &["--database-url", &other.url],
        Some(&project.db.url),
    );
    assert!(
        ends_with(&used, &other.name),
        "--database-url beats DATABASE_URL: {used}"
    );

    let used = database_used(&project, &[], Some(&other.url));
    assert!(
        ends_with(&used, file_db),
        "the file beats DATABASE_URL: {used}"
    );

    project.write("db/environments/ci.yaml", "name: ci\nlock_timeout: 2s\n");
    let used = database_used(&project, &["--env", "ci"], Some(&other.url));
    assert!(
        ends_with(&used, &other.name),
        "DATABASE_URL is used when the environment names no database: {used}"
    );
}

#[test]
fn config_unreachable_database_is_exit_3_without_the_password() {
    let project = TestProject::new();
    let closed_port = {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        listener.local_addr().unwrap().port()
    };
    let secret = "s3cr3t-pa55";
    let url = format!("postgresql://app:{secret}@127.0.0.1:{closed_port}/app");
    project.write(
        "db/environments/local.yaml",
        &format!("database_url: {url}\n"),
    );
    for format in ["text", "json"] {
        let run = project.run(&["migrate", "status", "--format", format]);
        assert_eq!(run.code, 3, "{format}: {}{}", run.stdout, run.stderr);
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(all.contains(&format!("127.0.0.1:{closed_port}")), "{all}");
        assert!(!all.contains(secret), "the password leaked: {all}");
    }
    let run = project.run(&["migrate", "status", "--database-url", &url]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(!format!("{}{}", run.stdout, run.stderr).contains(secret));
}
