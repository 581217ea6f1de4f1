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

    // yes/on protect as true does: `migrate up` asks, and without a terminal refuses.
    project.write("db/migrations/001_t.up.sql", "CREATE TABLE t (id int);\n");
    for word in ["yes", "on", "YES"] {
        project.write(
            "db/environments/local.yaml",
            &format!("database_url: {}\nprotected: {word}\n", project.db.url),
        );
        let run = project.run(&["migrate", "up"]);
        assert_eq!(run.code, 7, "protected: {word}: {run:?}");
    }
    assert_eq!(project.db.scalar("SELECT to_regclass('t')::text"), None);

    // A duration past PostgreSQL's limit is refused when the file is read, naming the line.
    project.write(
        "db/environments/local.yaml",
        &format!(
            "database_url: {}\nprotected: no\nlock_timeout: 3000000h\n",
            project.db.url
        ),
    );
    let run = project.run(&["migrate", "up"]);
    assert_eq!(run.code, 5, "{run:?}");
    assert!(
        run.stderr
            .contains("db/environments/local.yaml:3:15: lock_timeout: `3000000h` is out of range"),
        "{}",
        run.stderr
    );
    assert_eq!(project.db.scalar("SELECT to_regclass('t')::text"), None);
}

#[test]
fn config_commands_that_never_connect_need_no_database_variables() {
    let project = TestProject::new();
    project.write(
        "db/environments/local.yaml",
        "database_url: postgresql://app:${DB_PASSWORD}@db.internal/app?sslmode=require\n",
    );
    project.write(
        "db/schema/10_t.sql",
        "CREATE TABLE t (id bigint PRIMARY KEY);\n",
    );
    project.write(
        "db/migrations/001_t.up.sql",
        "CREATE TABLE u (id bigint PRIMARY KEY);\n",
    );
    let lint = project
        .command(&["lint"])
        .env_remove("DB_PASSWORD")
        .output()
        .unwrap();
    let lint = crate::harness::Run::from(lint);
    assert!(
        !lint.stderr.contains("DB_PASSWORD"),
        "lint needed the database variable: {lint:?}"
    );
    assert!(lint.code == 0 || lint.code == 1, "{lint:?}");
    let generate = project
        .command(&["migrate", "generate", "add_email"])
        .env_remove("DB_PASSWORD")
        .output()
        .unwrap();
    crate::harness::Run::from(generate).ok();
    // A command that connects says which variable is missing, and where.
    let status = project
        .command(&["migrate", "status"])
        .env_remove("DB_PASSWORD")
        .output()
        .unwrap();
    let status = crate::harness::Run::from(status);
    assert_eq!(status.code, 5, "{status:?}");
    assert!(
        status.stderr.contains(
            "db/environments/local.yaml:1: `database_url` uses ${DB_PASSWORD}, which is not set"
        ),
        "{}",
        status.stderr
    );
    // --database-url replaces the file's setting: no variable needed.
    let url = project.db.url.clone();
    let status = project
        .command(&["migrate", "status", "--database-url", &url])
        .env_remove("DB_PASSWORD")
        .output()
        .unwrap();
    let status = crate::harness::Run::from(status);
    assert_ne!(status.code, 5, "{status:?}");
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
