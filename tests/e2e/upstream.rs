//! Drop-in for upstream Confiture users: the upstream Python Confiture (installed from PyPI by
//! the harness, `harness::upstream_confiture`) and Confiture on one project and one database —
//! a project laid out by upstream's `init` migrated by both tools in turn, both tools at once,
//! and the exit codes of each situation in both tools.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{Run, TestDb, TestProject, confiture_command, upstream, upstream_command};

/// Writes `db/migrations/<stem>.up.sql` (and `.down.sql` when given) under `dir`.
fn migration(dir: &Path, stem: &str, up: &str, down: Option<&str>) {
    let migrations = dir.join("db/migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    std::fs::write(migrations.join(format!("{stem}.up.sql")), up).unwrap();
    if let Some(down) = down {
        std::fs::write(migrations.join(format!("{stem}.down.sql")), down).unwrap();
    }
}

/// Confiture in `dir` against `db`, recording `e2e@confiture` as the person.
fn ours(dir: &Path, db: &TestDb, args: &[&str]) -> Run {
    let mut all = vec!["--database-url", db.url.as_str()];
    all.extend_from_slice(args);
    let mut cmd = confiture_command(dir, &all);
    cmd.env("CONFITURE_USER", "e2e@confiture");
    Run::from(cmd.output().expect("run confiture"))
}

/// Upstream in `dir` against `db` (`-d URL` after the subcommand, as upstream wants it).
fn theirs(dir: &Path, db: &TestDb, args: &[&str]) -> Run {
    let mut all = args.to_vec();
    all.extend_from_slice(&["-d", db.url.as_str()]);
    upstream(dir, &all)
}

/// `version:tool` of every ledger row, by version: `ours` when Confiture recorded its person
/// (see [`ours`]), else `upstream`.
fn ledger(db: &TestDb) -> String {
    db.scalar(
        "SELECT coalesce(string_agg(version || ':' || CASE WHEN to_jsonb(l) ->> \
         'applied_by_identity' = 'e2e@confiture' THEN 'ours' ELSE 'upstream' END, ' ' \
         ORDER BY version), '') FROM tb_confiture l",
    )
    .unwrap_or_default()
}

/// The versions in the ledger, in order.
fn versions(db: &TestDb) -> String {
    db.scalar("SELECT coalesce(string_agg(version, ' ' ORDER BY version), '') FROM tb_confiture")
        .unwrap_or_default()
}

fn table_exists(db: &TestDb, table: &str) -> bool {
    db.scalar(&format!(
        "SELECT (to_regclass('{table}') IS NOT NULL)::text"
    ))
    .as_deref()
        == Some("true")
}

/// Every file under `dir/db/schema`, sorted.
fn schema_files(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path.display().to_string());
            }
        }
    }
    let mut files = Vec::new();
    walk(&dir.join("db/schema"), &mut files);
    files.sort();
    files
}

/// The ledger's columns (name, type, nullability, default) and index definitions, with the
/// table's own name taken out, for comparing two ledgers.
fn ledger_shape(db: &TestDb) -> (Vec<String>, Vec<String>) {
    let mut client = db.client();
    let columns = client
        .query(
            "SELECT column_name || ' ' || data_type || ' ' || is_nullable || ' ' \
             || coalesce(column_default, '-') FROM information_schema.columns \
             WHERE table_name = 'tb_confiture' ORDER BY ordinal_position",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let indexes = client
        .query(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'tb_confiture' ORDER BY indexname",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    (columns, indexes)
}

#[test]
fn a_project_made_by_upstream_init_migrates_with_confiture_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    upstream(root, &["init"]).ok();
    let db = TestDb::new();
    migration(
        root,
        "001_create_customers",
        "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);\n",
        Some("DROP TABLE customers;\n"),
    );
    migration(
        root,
        "002_add_customer_email",
        "ALTER TABLE customers ADD COLUMN email text;\n",
        Some("ALTER TABLE customers DROP COLUMN email;\n"),
    );

    // `init` in the existing project writes Confiture's extras, and nothing into its schema.
    let schema_before = schema_files(root);
    let environment = std::fs::read_to_string(root.join("db/environments/local.yaml")).unwrap();
    let init = Run::from(confiture_command(root, &["init"]).output().unwrap());
    init.ok();
    assert_eq!(schema_files(root), schema_before, "{}", init.stdout);
    assert_eq!(
        std::fs::read_to_string(root.join("db/environments/local.yaml")).unwrap(),
        environment
    );

    // Confiture reads the environment file upstream wrote, saying what it does not use.
    let build = Run::from(confiture_command(root, &["build"]).output().unwrap());
    build.ok();
    assert!(
        build
            .stderr
            .contains("`migration.view_helpers` is an upstream Confiture setting"),
        "{}",
        build.stderr
    );
    assert!(
        std::fs::read_to_string(root.join("db/generated/schema_local.sql"))
            .unwrap()
            .contains("CREATE TABLE IF NOT EXISTS users")
    );

    // Upstream applies the first migration; Confiture sees it applied and applies the second.
    theirs(root, &db, &["migrate", "up", "--target", "001"]).ok();
    assert_eq!(ledger(&db), "001:upstream");
    let status = ours(root, &db, &["migrate", "status", "--format", "json"]);
    status.exits(1);
    let states: Vec<String> = status.json()["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(states, ["applied", "pending"]);
    ours(root, &db, &["migrate", "up"]).ok();
    assert_eq!(ledger(&db), "001:upstream 002:ours");
    assert_eq!(
        db.scalar("SELECT count(*)::text FROM tb_confiture WHERE applied_by = current_user")
            .as_deref(),
        Some("2"),
        "both rows name the role"
    );

    // Upstream rolls back Confiture's migration, Confiture upstream's; checksums agree.
    theirs(root, &db, &["migrate", "down", "-n", "1"]).ok();
    assert_eq!(ledger(&db), "001:upstream");
    assert!(
        db.scalar(
            "SELECT count(*)::text FROM information_schema.columns WHERE column_name = 'email'"
        )
        .as_deref()
            == Some("0")
    );
    ours(root, &db, &["migrate", "down"]).ok();
    assert_eq!(ledger(&db), "");
    assert!(!table_exists(&db, "customers"));
    ours(root, &db, &["migrate", "up"]).ok();
    let again = theirs(root, &db, &["migrate", "up"]);
    again.ok();
    assert!(
        again.stdout.contains("No pending migrations"),
        "{}",
        again.stdout
    );
    assert_eq!(ledger(&db), "001:ours 002:ours");

    // A ledger Confiture creates has upstream's shape, plus one column of its own, and
    // upstream works on it.
    let created_by_upstream = TestDb::new();
    theirs(root, &created_by_upstream, &["migrate", "up"]).ok();
    let created_by_ours = TestDb::new();
    ours(root, &created_by_ours, &["migrate", "up"]).ok();
    let (upstream_columns, upstream_indexes) = ledger_shape(&created_by_upstream);
    let (our_columns, our_indexes) = ledger_shape(&created_by_ours);
    assert_eq!(our_indexes, upstream_indexes);
    assert_eq!(
        &our_columns[..upstream_columns.len()],
        &upstream_columns[..]
    );
    assert_eq!(
        &our_columns[upstream_columns.len()..],
        ["applied_by_identity text YES -"]
    );
    theirs(root, &created_by_ours, &["migrate", "down", "-n", "2"]).ok();
    assert_eq!(ledger(&created_by_ours), "");
    assert!(!table_exists(&created_by_ours, "customers"));
}

/// Waits until another session is running the slow migration's `pg_sleep` on `db`: the tool
/// running it holds the migration lock until it commits.
fn wait_for_the_slow_migration(db: &TestDb) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let running = db.scalar(
            "SELECT count(*)::text FROM pg_stat_activity WHERE datname = current_database() \
             AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE '%pg_sleep(2)%'",
        );
        if running.as_deref() != Some("0") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the slow migration did not start in 60 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts `first` (a `migrate up` that applies the slow migration), runs `second` while it
/// holds the lock, and returns `second`'s run once both have succeeded.
fn while_the_other_applies(db: &TestDb, mut first: Command, second: impl FnOnce() -> Run) -> Run {
    let first = first
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_the_slow_migration(db);
    let second = second();
    Run::from(first.wait_with_output().unwrap()).ok();
    second.ok();
    second
}

#[test]
fn both_tools_at_once_never_both_apply() {
    let p = TestProject::new();
    let slow = "CREATE TABLE slow (id int);\nSELECT pg_sleep(2);\n";
    migration(p.root(), "001_slow", slow, Some("DROP TABLE slow;\n"));

    // Upstream applies: Confiture, started meanwhile, waits for the lock, then finds nothing
    // left to do.
    let second = while_the_other_applies(
        &p.db,
        upstream_command(p.root(), &["migrate", "up", "-d", &p.db.url]),
        || ours(p.root(), &p.db, &["migrate", "up"]),
    );
    assert!(
        second.stderr.contains("waiting for the migration lock"),
        "{}",
        second.stderr
    );
    assert!(second.stdout.contains("up to date"), "{}", second.stdout);
    assert_eq!(ledger(&p.db), "001:upstream");

    // Confiture applies: upstream, started meanwhile, waits for the same key, then finds
    // nothing left to do.
    ours(p.root(), &p.db, &["migrate", "down"]).ok();
    assert!(!table_exists(&p.db, "slow"));
    let mut first = confiture_command(p.root(), &["migrate", "up"]);
    first.env("CONFITURE_USER", "e2e@confiture");
    let second =
        while_the_other_applies(&p.db, first, || theirs(p.root(), &p.db, &["migrate", "up"]));
    assert!(
        second.stdout.contains("No pending migrations"),
        "{}",
        second.stdout
    );
    assert_eq!(ledger(&p.db), "001:ours");
    assert_eq!(
        p.db.scalar("SELECT count(*)::text FROM pg_tables WHERE tablename = 'slow'")
            .as_deref(),
        Some("1")
    );
}

/// One situation of the exit-code table: how to get there, then Confiture's and upstream's
/// command for it, and the codes: Confiture's, Confiture's with `--exit-codes upstream`, and
/// upstream's own.
struct Case {
    situation: &'static str,
    setup: fn(&TestProject),
    ours: &'static [&'static str],
    theirs: &'static [&'static str],
    codes: (i32, i32, i32),
}

fn two_reversible(p: &TestProject) {
    migration(
        p.root(),
        "001_a",
        "CREATE TABLE a (id int);\n",
        Some("DROP TABLE a;\n"),
    );
    migration(
        p.root(),
        "002_b",
        "CREATE TABLE b (id int);\n",
        Some("DROP TABLE b;\n"),
    );
}

const CASES: &[Case] = &[
    Case {
        situation: "status: no tracking table yet",
        setup: two_reversible,
        ours: &["migrate", "status"],
        theirs: &["migrate", "status", "-c", "db/environments/local.yaml"],
        codes: (2, 2, 2),
    },
    Case {
        situation: "status: migrations pending",
        setup: |p| {
            two_reversible(p);
            p.run(&["migrate", "up", "--target", "001"]).ok();
        },
        ours: &["migrate", "status"],
        theirs: &["migrate", "status", "-c", "db/environments/local.yaml"],
        codes: (1, 1, 1),
    },
    Case {
        situation: "status: everything applied",
        setup: |p| {
            two_reversible(p);
            p.run(&["migrate", "up"]).ok();
        },
        ours: &["migrate", "status"],
        theirs: &["migrate", "status", "-c", "db/environments/local.yaml"],
        codes: (0, 0, 0),
    },
    Case {
        situation: "up: a migration fails",
        setup: |p| {
            two_reversible(p);
            migration(
                p.root(),
                "003_broken",
                "CREATE TABLE c (id int);\nSELECT 1 / 0;\n",
                Some("DROP TABLE c;\n"),
            );
        },
        ours: &["migrate", "up"],
        theirs: &["migrate", "up"],
        codes: (1, 3, 3),
    },
    Case {
        situation: "down: the migration has no .down.sql",
        setup: |p| {
            two_reversible(p);
            p.run(&["migrate", "up"]).ok();
            std::fs::remove_file(p.root().join("db/migrations/002_b.down.sql")).unwrap();
        },
        ours: &["migrate", "down"],
        theirs: &["migrate", "down"],
        codes: (8, 3, 3),
    },
    Case {
        situation: "verify: an applied migration was edited",
        setup: |p| {
            two_reversible(p);
            p.run(&["migrate", "up"]).ok();
            migration(p.root(), "001_a", "CREATE TABLE a (id bigint);\n", None);
        },
        ours: &["migrate", "verify"],
        theirs: &["migrate", "verify-checksums"],
        codes: (1, 1, 1),
    },
    Case {
        situation: "another run holds the migration lock",
        setup: two_reversible,
        ours: &["migrate", "up", "--no-wait"],
        theirs: &["migrate", "up", "--lock-timeout", "200"],
        codes: (6, 6, 6),
    },
    Case {
        situation: "the command line does not parse",
        setup: two_reversible,
        ours: &["migrate", "up", "--sideways"],
        theirs: &["migrate", "up", "--sideways"],
        codes: (5, 2, 2),
    },
];

/// Runs one case in all three ways; the lock case holds upstream's key (both tools take it)
/// from a session of its own while the commands run.
fn check(case: &Case) -> Vec<String> {
    let p = TestProject::new();
    (case.setup)(&p);
    let mut holder = None;
    if case.situation.contains("lock") {
        let mut client = p.db.client();
        client
            .batch_execute(&format!(
                "SELECT pg_advisory_lock(1751936052, {})",
                confiture::db::lock::upstream_lock_id(&p.db.name)
            ))
            .unwrap();
        holder = Some(client);
    }
    // Upstream reads the project's db/environments/local.yaml (its default --config; status
    // only with an explicit one).
    let theirs_child = upstream_command(p.root(), case.theirs)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let plain = p.run(case.ours);
    let mut with_flag = vec!["--exit-codes", "upstream"];
    with_flag.extend_from_slice(case.ours);
    let flagged = p.run(&with_flag);
    let theirs = Run::from(theirs_child.wait_with_output().unwrap());
    drop(holder);
    let got = (plain.code, flagged.code, theirs.code);
    if got == case.codes {
        Vec::new()
    } else {
        vec![format!(
            "{}: expected {:?}, got {got:?}\nours: {}\nupstream: {}{}",
            case.situation, case.codes, plain.stderr, theirs.stdout, theirs.stderr
        )]
    }
}

#[test]
fn exit_codes_match_upstream_case_by_case() {
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = CASES
            .iter()
            .map(|c| scope.spawn(move || check(c)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));

    // Situations upstream reaches without a database of this project.
    let p = TestProject::new();
    two_reversible(&p);
    let unreachable = "postgresql://postgres@127.0.0.1:1/nowhere";
    assert_eq!(
        p.run(&["migrate", "status", "--database-url", unreachable])
            .code,
        3
    );
    assert_eq!(
        upstream(p.root(), &["migrate", "status", "-d", unreachable]).code,
        3
    );
    assert_eq!(p.run(&["migrate", "status", "--env", "nope"]).code, 5);
    assert_eq!(
        p.run(&["migrate", "status", "-c", "db/environments/nope.yaml"])
            .code,
        5
    );
    assert_eq!(
        upstream(
            p.root(),
            &["migrate", "status", "-c", "db/environments/nope.yaml"]
        )
        .code,
        5
    );
    // The convention can also come from the environment, for CI jobs that set it once.
    let mut cmd = p.command(&["migrate", "up", "--sideways"]);
    cmd.env("CONFITURE_EXIT_CODES", "upstream");
    assert_eq!(Run::from(cmd.output().unwrap()).code, 2);
}

#[test]
fn upstreams_spellings_of_the_command_line_are_accepted() {
    let p = TestProject::new();
    two_reversible(&p);
    p.write(
        "db/environments/ci.yaml",
        &format!(
            "database_url: {}\nmigration:\n  tracking_table: ci_ledger\n",
            p.db.url
        ),
    );
    let run = |args: &[&str], vars: &[(&str, &str)]| {
        let mut cmd = confiture_command(p.root(), args);
        for (name, value) in vars {
            cmd.env(name, value);
        }
        Run::from(cmd.output().unwrap())
    };

    // -c FILE chooses the environment file; -t, -y, -n, -f as upstream spells them.
    run(
        &[
            "migrate",
            "up",
            "-c",
            "db/environments/ci.yaml",
            "-t",
            "001",
            "-y",
        ],
        &[],
    )
    .ok();
    assert_eq!(
        p.db.scalar("SELECT string_agg(version, ',') FROM ci_ledger")
            .as_deref(),
        Some("001")
    );
    let status = run(
        &[
            "migrate",
            "status",
            "-c",
            "db/environments/ci.yaml",
            "-f",
            "json",
        ],
        &[],
    );
    status.exits(1);
    assert_eq!(status.json()["table"], "ci_ledger");
    assert_eq!(
        run(
            &[
                "migrate",
                "status",
                "-c",
                "db/environments/ci.yaml",
                "--format",
                "table"
            ],
            &[]
        )
        .code,
        1
    );
    run(&["migrate", "up", "-c", "db/environments/ci.yaml"], &[]).ok();
    run(
        &[
            "migrate",
            "down",
            "-c",
            "db/environments/ci.yaml",
            "-n",
            "2",
        ],
        &[],
    )
    .ok();
    assert_eq!(
        p.db.scalar("SELECT count(*)::text FROM ci_ledger")
            .as_deref(),
        Some("0")
    );
    let both = run(
        &[
            "migrate",
            "status",
            "-c",
            "db/environments/ci.yaml",
            "--env",
            "ci",
        ],
        &[],
    );
    both.exits(5);
    assert!(both.stderr.contains("--config"), "{}", both.stderr);

    // -d URL, and CONFITURE_DATABASE_URL when no environment is chosen.
    let other = TestDb::new();
    run(&["migrate", "up", "-d", &other.url], &[]).ok();
    assert!(table_exists(&other, "b"));
    let third = TestDb::new();
    let by_variable = run(
        &["migrate", "up", "--format", "json"],
        &[("CONFITURE_DATABASE_URL", &third.url)],
    );
    by_variable.ok();
    assert_eq!(
        by_variable.json()["database_source"]["kind"],
        "confiture_variable"
    );
    assert!(table_exists(&third, "b"));
    let ambiguous = run(
        &["migrate", "status", "-e", "ci"],
        &[("CONFITURE_DATABASE_URL", &third.url)],
    );
    ambiguous.exits(5);
    assert!(
        ambiguous.stderr.contains("CONFITURE_DATABASE_URL"),
        "{}",
        ambiguous.stderr
    );

    // --migrations-dir points elsewhere; --lock-timeout is --lock-wait in milliseconds.
    migration(
        &p.root().join("elsewhere"),
        "001_x",
        "CREATE TABLE x (id int);\n",
        None,
    );
    let fourth = TestDb::new();
    run(
        &[
            "migrate",
            "up",
            "-d",
            &fourth.url,
            "--migrations-dir",
            "elsewhere/db/migrations",
            "--lock-timeout",
            "5000",
        ],
        &[],
    )
    .ok();
    assert!(table_exists(&fourth, "x") && !table_exists(&fourth, "a"));

    // The aliases stay out of the help.
    let help = run(&["migrate", "up", "--help"], &[]);
    help.ok();
    for hidden in [
        "--config",
        "--migrations-dir",
        "--lock-timeout",
        "-c,",
        "-d,",
        "-t,",
        "-y,",
    ] {
        assert!(
            !help.stdout.contains(hidden),
            "{hidden} shown:\n{}",
            help.stdout
        );
    }
}

#[test]
fn upstream_environment_files_are_read_and_their_unused_keys_named() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/fixtures/upstream");
    let p = TestProject::new();
    two_reversible(&p);
    for name in [
        "init",
        "complete",
        "reference",
        "pooled",
        "legacy-table",
        "acls-list",
    ] {
        let text = std::fs::read_to_string(fixtures.join(format!("{name}.yaml"))).unwrap();
        p.write(&format!("db/environments/{name}.yaml"), &text);
    }
    p.write("db/schema/10_tables/t.sql", "CREATE TABLE t (id int);\n");

    // Every file opens; `migrate status` against the test database says what has no effect.
    for name in [
        "init",
        "complete",
        "reference",
        "pooled",
        "legacy-table",
        "acls-list",
    ] {
        let mut cmd = confiture_command(
            p.root(),
            &[
                "migrate",
                "status",
                "--env",
                name,
                "--database-url",
                &p.db.url,
            ],
        );
        cmd.env("SHOP_DATABASE_URL", &p.db.url);
        let run = Run::from(cmd.output().unwrap());
        assert_eq!(run.code, 2, "{name}: {run:?}");
        assert!(
            run.stderr
                .contains(&format!("db/environments/{name}.yaml:")),
            "{name}: {}",
            run.stderr
        );
    }

    // The map form of include_dirs: order blocks, include/exclude globs, recursion, and a
    // missing directory with auto_discover left on.
    p.write(
        "db/schema/20_views/v.sql",
        "CREATE VIEW v AS SELECT 1 AS one;\n",
    );
    p.write(
        "db/schema/scratch/s.sql",
        "CREATE TABLE scratch (id int);\n",
    );
    p.write("db/schema/10_tables/t.sql.bak", "old\n");
    p.write("db/seeds/common/01_rows.sql", "INSERT INTO t VALUES (1);\n");
    p.write(
        "db/seeds/common/deeper/02_more.sql",
        "INSERT INTO t VALUES (2);\n",
    );
    let report = p
        .run(&["build", "--env", "acls-list", "--format", "json"])
        .json();
    let files: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "db/schema/10_tables/t.sql",
            "db/schema/20_views/v.sql",
            "db/seeds/common/01_rows.sql"
        ]
    );
    // Upstream's alphabetical order when the file asks for it.
    p.write(
        "db/environments/sorted.yaml",
        "include_dirs: [db/seeds]\nbuild:\n  sort_mode: alphabetical\n",
    );
    p.write("db/seeds/common/10_z.sql", "SELECT 1;\n");
    p.write("db/seeds/common/9_y.sql", "SELECT 1;\n");
    let report = p
        .run(&["build", "--env", "sorted", "--format", "json"])
        .json();
    let names: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "db/seeds/common/01_rows.sql",
            "db/seeds/common/10_z.sql",
            "db/seeds/common/9_y.sql",
            "db/seeds/common/deeper/02_more.sql"
        ]
    );

    // require_confirmation: migrate up asks, and without a terminal needs --yes.
    let mut cmd = confiture_command(p.root(), &["migrate", "up", "--env", "reference"]);
    cmd.env("SHOP_DATABASE_URL", &p.db.url);
    let refused = Run::from(cmd.output().unwrap());
    assert_eq!(refused.code, 7, "{refused:?}");
    assert!(!table_exists(&p.db, "a"), "nothing was applied");
}

/// Upstream's squash leaves a baseline (`0045`) beside later short versions and marks the
/// squashed rows `archived_into`: a fresh database applies the baseline first, and an
/// archived row is history, never `missing`.
#[test]
fn squash_baselines_and_archived_rows_are_understood() {
    let p = TestProject::new();
    migration(
        p.root(),
        "0045_squashed",
        "CREATE TABLE base (id int);\n",
        Some("DROP TABLE base;\n"),
    );
    migration(
        p.root(),
        "007_after",
        "ALTER TABLE base ADD COLUMN later int;\n",
        Some("ALTER TABLE base DROP COLUMN later;\n"),
    );
    p.run(&["migrate", "up"]).ok();
    assert_eq!(versions(&p.db), "0045 007");

    let mut client = p.db.client();
    client
        .batch_execute(
            "INSERT INTO tb_confiture (slug, version, name, checksum, archived_into) \
             VALUES ('old_0001_20260101_000000', '0001', 'old', NULL, '0045')",
        )
        .unwrap();
    let status = p.run(&["migrate", "status", "--format", "json"]);
    status.ok();
    let json = status.json();
    assert_eq!(json["counts"]["missing"], 0, "{json}");
    assert_eq!(json["migrations"].as_array().unwrap().len(), 2, "{json}");
    p.run(&["migrate", "verify"]).ok();
    // Rolling everything back leaves the archived history in place.
    p.run(&["migrate", "down", "--steps", "2"]).ok();
    assert_eq!(
        p.db.scalar("SELECT string_agg(version, ',') FROM tb_confiture")
            .as_deref(),
        Some("0001")
    );
}

/// An anonymization file in upstream's sync shape, with upstream's strategy names: each is
/// read as the built-in it stands for, and no personal value reaches the target.
#[test]
fn upstream_strategy_names_anonymize_in_a_sync() {
    let schema = "CREATE TABLE users (id int PRIMARY KEY, full_name text, email text, \
                  born date, ip inet, pin text, notes text);";
    let (source, target) = crate::sync_support::source_and_target(schema);
    crate::sync_support::exec(
        &source,
        "INSERT INTO users VALUES (1, 'Zoé Lefèvre', 'zoe@example.fr', '1990-06-15', \
         '192.0.2.10', '123456', 'call zoe@example.fr'), \
         (2, 'Ana Lima', 'ana@example.pt', '1985-01-02', '198.51.100.7', '654321', 'vip')",
    );
    let p = TestProject::new();
    p.write(
        "db/sync/anonymization.yaml",
        "users:\n  - {column: full_name, strategy: name, seed: 1}\n  \
         - {column: email, strategy: email}\n  \
         - {column: born, strategy: date, params: {jitter_days: 5}}\n  \
         - {column: ip, strategy: ip_address}\n  \
         - {column: pin, strategy: masking_retention, params: {preserve_end_chars: 2}}\n  \
         - {column: notes, strategy: text_redaction}\n",
    );
    let run = Run::from(
        p.command(&[
            "sync",
            "--from",
            &source.url,
            "--to",
            &target.url,
            "--anonymize",
        ])
        .env("ANONYMIZATION_SECRET", "e2e-upstream-names")
        .output()
        .unwrap(),
    );
    run.ok();
    let copied = crate::sync_support::dump(&target, "SELECT * FROM users ORDER BY id");
    for personal in [
        "Zoé",
        "Lefèvre",
        "zoe@",
        "Ana Lima",
        "ana@",
        "1990-06-15",
        "192.0.2.10",
        "123456",
        "vip",
    ] {
        assert!(
            !copied.contains(personal),
            "{personal} reached the target:\n{copied}"
        );
    }
    assert_eq!(
        crate::sync_support::column(&target, "SELECT pin FROM users ORDER BY id"),
        [Some("****56".to_string()), Some("****21".to_string())]
    );
    assert_eq!(
        crate::sync_support::column(&target, "SELECT notes FROM users ORDER BY id"),
        [
            Some("[REDACTED]".to_string()),
            Some("[REDACTED]".to_string())
        ]
    );
    assert_eq!(
        target
            .scalar(
                "SELECT max(abs(t.born - s.born))::text FROM users t \
                       JOIN (VALUES (1, date '1990-06-15'), (2, date '1985-01-02')) s(id, born) \
                       USING (id)"
            )
            .map(|days| days.parse::<i32>().unwrap() <= 5),
        Some(true)
    );
}
