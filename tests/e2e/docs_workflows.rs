//! The workflows the docs show run as written against the test cluster, and each demonstrably
//! tests something. A code block introduced by `<!-- recipe-commands: NAME -->` is read from
//! its document and run line by line: `confiture …` lines run the real binary; the few other
//! lines (installing, starting a local cluster, a checkout, an editor step) are stood in for
//! by the test, each named below — a line the test does not know fails it, so the docs and
//! this test cannot drift apart.

use std::path::{Path, PathBuf};

use crate::harness::{Run, TestDb, confiture_command};
use crate::plugins_support::workspace;

/// The lines of the `<!-- recipe-commands: NAME -->` block of `doc` (relative to the
/// repository), blank lines left out.
fn recipe(doc: &str, name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(workspace().join(doc))
        .unwrap_or_else(|e| panic!("read {doc}: {e}"));
    let marker = format!("<!-- recipe-commands: {name} -->");
    let mut lines = text.lines().skip_while(|l| *l != marker).skip(1).peekable();
    assert!(
        lines.next().is_some_and(|fence| fence.starts_with("```")),
        "{doc}: `{marker}` must be followed by a code block"
    );
    lines
        .take_while(|l| *l != "```")
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// The arguments of a `confiture …` line (its trailing `# comment` removed), or `None` for
/// another line.
fn confiture_args(line: &str) -> Option<Vec<String>> {
    let code = match line.find(" #") {
        Some(at) => &line[..at],
        None => line,
    };
    let mut words = code.split_whitespace();
    (words.next() == Some("confiture")).then(|| words.map(str::to_string).collect())
}

/// Runs `confiture args` in `dir` with `DATABASE_URL` set to `db`.
fn run_in(dir: &Path, db: &TestDb, args: &[String]) -> Run {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Run::from(
        confiture_command(dir, &args)
            .env("DATABASE_URL", &db.url)
            .output()
            .unwrap_or_else(|e| panic!("run confiture {args:?}: {e}")),
    )
}

/// Rows of the tracking table (0 when it does not exist).
fn recorded(db: &TestDb) -> usize {
    db.scalar("SELECT count(*)::text FROM pg_class WHERE relname = 'tb_confiture'")
        .filter(|n| n == "1")
        .and_then(|_| db.scalar("SELECT count(*)::text FROM tb_confiture"))
        .map_or(0, |n| n.parse().unwrap())
}

/// The one file of `dir` whose name ends with `suffix`.
fn generated(dir: &Path, suffix: &str) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    assert_eq!(found.len(), 1, "{suffix} in {}: {found:?}", dir.display());
    found.into_iter().next().unwrap()
}

#[test]
fn the_readme_project_flow_never_records_an_empty_migration() {
    let db = TestDb::new();
    let project = tempfile::tempdir().expect("temp dir");
    let dir = project.path();
    let migrations = dir.join("db/migrations");
    let column = "SELECT count(*)::text FROM information_schema.columns \
                  WHERE table_name = 'customers' AND column_name = 'phone'";
    let mut ran = Vec::new();
    for line in recipe("README.md", "readme-project") {
        if line.starts_with("cargo install ") {
            continue; // the test runs the binary cargo built
        }
        if line.starts_with("#") && line.contains("write the SQL") {
            // The author forgets: `up` must refuse the comment-only template, record nothing.
            let up = run_in(dir, &db, &["migrate".into(), "up".into()]);
            assert_eq!(up.code, 5, "{up:?}");
            let file = generated(&migrations, "_add_customers_phone.up.sql");
            let shown = format!(
                "db/migrations/{}",
                file.file_name().unwrap().to_string_lossy()
            );
            assert!(
                up.stderr.contains(&format!("{shown}:1:"))
                    && up.stderr.contains(&format!("edit {shown} and add the SQL")),
                "{}",
                up.stderr
            );
            assert_eq!(recorded(&db), 0, "the empty template was recorded");
            // Then writes it.
            std::fs::write(&file, "ALTER TABLE customers ADD COLUMN phone text;\n").unwrap();
            std::fs::write(
                generated(&migrations, "_add_customers_phone.down.sql"),
                "ALTER TABLE customers DROP COLUMN phone;\n",
            )
            .unwrap();
            ran.push("(edit)".to_string());
            continue;
        }
        if let Some(inner) = line
            .strip_prefix("source <(")
            .and_then(|rest| rest.split_once(')'))
            .map(|(command, _)| command)
        {
            let args = confiture_args(inner).expect("confiture …");
            let run = run_in(dir, &db, &args);
            run.ok();
            assert!(run.stdout.contains("confiture"), "{}", run.stdout);
            ran.push(args.join(" "));
            continue;
        }
        let args = confiture_args(&line)
            .unwrap_or_else(|| panic!("README.md: the test does not know the line `{line}`"));
        match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            // The test cluster stands in for the project's own (DATABASE_URL is set).
            ["db", "start"] => continue,
            // Needs an operator at a terminal and a production environment: the wizard's own
            // tests (wizard_tty, wizard_lines) drive it.
            ["migrate", "wizard", ..] => continue,
            _ => {}
        }
        let run = run_in(dir, &db, &args);
        run.ok();
        match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["migrate", "generate", ..] => {
                assert!(run.stdout.contains("add the SQL"), "{}", run.stdout);
            }
            ["build", "--apply", ..] => {
                assert_eq!(
                    db.scalar("SELECT to_regclass('customers')::text")
                        .as_deref(),
                    Some("customers")
                );
                assert_eq!(recorded(&db), 0, "build --apply recorded migrations");
            }
            ["migrate", "up"] => {
                assert_eq!(db.scalar(column).as_deref(), Some("1"));
                assert_eq!(recorded(&db), 1);
            }
            _ => {}
        }
        ran.push(args.join(" "));
    }
    assert_eq!(
        ran,
        [
            "init",
            "build --apply",
            "migrate generate add_customers_phone",
            "(edit)",
            "migrate up",
            "completions bash"
        ],
        "the README's flow changed: update this test"
    );
    // What was applied is the SQL written after the refusal, and it rolls back.
    run_in(dir, &db, &["migrate".into(), "down".into()]).ok();
    assert_eq!(db.scalar(column).as_deref(), Some("0"));
    assert_eq!(recorded(&db), 0);
}

/// A project for the CI recipe: `customers` in `db/schema/`, the `ci` environment (no
/// database: `DATABASE_URL`), and migration `001_customers` with its `.verify.sql`.
fn ci_project(dir: &Path) {
    let write = |path: &str, text: &str| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "db/environments/ci.yaml",
        "name: ci\ninclude_dirs: [db/schema]\n",
    );
    write(
        "db/schema/customers.sql",
        "CREATE TABLE customers (id int PRIMARY KEY, email text);\n",
    );
    write(
        "db/migrations/001_customers.up.sql",
        "CREATE TABLE customers (id int PRIMARY KEY, email text);\n",
    );
    write(
        "db/migrations/001_customers.verify.sql",
        "SELECT to_regclass('customers') IS NOT NULL\n",
    );
}

/// A pull request on top of [`ci_project`]: migration `002_phone` (`up`), its `.verify.sql`,
/// and `db/schema/customers.sql` as `schema`.
fn pull_request(dir: &Path, up: &str, schema: &str) {
    ci_project(dir);
    std::fs::write(dir.join("db/migrations/002_phone.up.sql"), up).unwrap();
    std::fs::write(
        dir.join("db/migrations/002_phone.verify.sql"),
        "SELECT count(*) = 1 FROM information_schema.columns \
         WHERE table_name = 'customers' AND column_name = 'phone'\n",
    )
    .unwrap();
    std::fs::write(dir.join("db/schema/customers.sql"), schema).unwrap();
}

/// Runs the "In CI" recipe of getting-started.md in `<root>/repo` (the pull request), with
/// `<root>/base` as the target branch's checkout; stops at the first command that fails and
/// returns it with its run.
fn run_ci_recipe(root: &Path, db: &TestDb) -> Option<(String, Run)> {
    let repo = root.join("repo");
    for line in recipe("docs/getting-started.md", "ci-pull-request") {
        if line.starts_with('#') {
            continue;
        }
        if line == "git worktree add ../base origin/main" {
            // The target branch: the project without the pull request's migration.
            let base = root.join("base");
            let _ = std::fs::remove_dir_all(&base);
            ci_project(&base);
            continue;
        }
        let args = confiture_args(&line).unwrap_or_else(|| {
            panic!("getting-started.md: the test does not know the line `{line}`")
        });
        let run = run_in(&repo, db, &args);
        if run.code != 0 {
            return Some((args.join(" "), run));
        }
    }
    None
}

#[test]
fn the_ci_recipe_catches_a_broken_migration_and_a_stale_schema() {
    let db = TestDb::new();
    let root = tempfile::tempdir().expect("temp dir");
    let repo = root.path().join("repo");
    let with_phone = "CREATE TABLE customers (id int PRIMARY KEY, email text, phone text);\n";

    // A good pull request passes, and its migration really ran on the target's schema.
    pull_request(
        &repo,
        "ALTER TABLE customers ADD COLUMN phone text;\n",
        with_phone,
    );
    if let Some((command, run)) = run_ci_recipe(root.path(), &db) {
        panic!("a good pull request failed at `{command}`: {run:?}");
    }
    assert_eq!(
        db.scalar("SELECT string_agg(version, ',' ORDER BY version) FROM tb_confiture")
            .as_deref(),
        Some("001,002")
    );

    // A migration that does not apply to the target's schema (the schema files have the
    // column, the target does not) fails step 2, naming the file and line.
    pull_request(
        &repo,
        "-- index the new column\nCREATE INDEX customers_phone ON customers (phone);\n",
        with_phone,
    );
    let (command, run) = run_ci_recipe(root.path(), &db).expect("the broken migration passed");
    assert_eq!(command, "--env ci migrate up --format json", "{run:?}");
    assert_eq!(run.code, 1, "{run:?}");
    let report = run.json();
    assert_eq!(
        report["failure"]["error"]["file"],
        "db/migrations/002_phone.up.sql"
    );
    assert_eq!(report["failure"]["error"]["line"], 2);
    assert_eq!(report["failure"]["error"]["sqlstate"], "42703");
    assert_eq!(
        db.scalar("SELECT string_agg(version, ',') FROM tb_confiture")
            .as_deref(),
        Some("001")
    );

    // A migration whose change db/schema/ lacks fails step 3 on its .verify.sql.
    pull_request(
        &repo,
        "ALTER TABLE customers ADD COLUMN phone text;\n",
        "CREATE TABLE customers (id int PRIMARY KEY, email text);\n",
    );
    let (command, run) = run_ci_recipe(root.path(), &db).expect("the stale schema passed");
    assert_eq!(
        command, "--env ci migrate verify --run --format json",
        "{run:?}"
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("002_phone"), "{}", run.stdout);
    assert_eq!(
        db.scalar(
            "SELECT count(*)::text FROM information_schema.columns WHERE column_name = 'phone'"
        )
        .as_deref(),
        Some("0")
    );
}
