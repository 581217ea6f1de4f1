//! The example plugins of every language (Rust, Python, JavaScript, C), built by
//! `cargo xtask build-plugins`, in real runs against PostgreSQL: the same phone mask in a
//! `confiture sync`, the Python and JavaScript hooks in `migrate up`, the Python lint rule in
//! `confiture lint`. What the tools printed and what the database holds are both checked.

use confiture::plugins::keyed_hash::KeyedHasher;

use crate::harness::{TestDb, TestProject};
use crate::hooks_support::{exists, project_with, tracked};
use crate::plugins_support::component;
use crate::sync_support::{column, exec};

const SECRET: &str = "e2e-languages-secret";

/// (plugin file, strategy) of the same phone mask in each language.
const PHONE_MASKS: [(&str, &str); 4] = [
    ("phone-strategy", "phone_mask_rust"),
    ("python-strategy", "phone_mask"),
    ("js-strategy", "phone_mask_js"),
    ("c-strategy", "phone_mask_c"),
];

/// The keyed hash plugin `plugin` computes for `data` under [`SECRET`]. The one place that
/// knows how a plugin's digest derives from the deployment secret.
fn digest(plugin: &str, data: &[u8]) -> [u8; 32] {
    KeyedHasher::new(SECRET.as_bytes())
        .unwrap()
        .for_plugin(plugin)
        .hash(data)
}

/// The phone mask, written from its definition (docs/plugins/authoring-*.md): every ASCII digit
/// but the last two becomes `digest[j % 32] % 10`, the digest being that of the digits.
fn expected_mask(plugin: &str, phone: &str) -> String {
    let digits: Vec<u8> = phone.bytes().filter(u8::is_ascii_digit).collect();
    if digits.len() <= 2 {
        return phone.to_string();
    }
    let digest = digest(plugin, &digits);
    let mut seen = 0;
    phone
        .chars()
        .map(|c| {
            let out = if c.is_ascii_digit() && seen < digits.len() - 2 {
                char::from(b'0' + digest[seen % 32] % 10)
            } else {
                c
            };
            seen += usize::from(c.is_ascii_digit());
            out
        })
        .collect()
}

#[test]
fn every_language_masks_phones_by_the_same_rule_in_a_real_sync() {
    let columns: Vec<String> = PHONE_MASKS
        .iter()
        .map(|(plugin, _)| plugin.replace('-', "_"))
        .collect();
    let schema = format!(
        "CREATE TABLE contacts (id int PRIMARY KEY, {})",
        columns
            .iter()
            .map(|c| format!("{c} text"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let (source, target) = (TestDb::new(), TestDb::new());
    for db in [&source, &target] {
        exec(db, &schema);
    }
    // 2,000 generated numbers plus the edge cases: NULL, too short to mask, empty, non-ASCII
    // characters and digits (kept), a `%`, a number longer than a digest.
    let generated = "'+33 6 ' || lpad((g % 100)::text, 2, '0') || ' ' || lpad((g * 7 % 100)::text, 2, '0') \
                     || ' ' || lpad((g * 13 % 100)::text, 2, '0') || ' ' || lpad((g % 89)::text, 2, '0')";
    let all = |value: &str| vec![value; columns.len()].join(", ");
    exec(
        &source,
        &format!(
            "INSERT INTO contacts SELECT g, {} FROM generate_series(1, 2000) g;
             INSERT INTO contacts VALUES (-1, {}), (-2, {}), (-3, {}), (-4, {}), (-5, {}), (-6, {});",
            all(generated),
            all("NULL"),
            all("'12'"),
            all("''"),
            all("'☎ (555) 010-99 ９ Zoë'"),
            all("'50% off: 555-0100'"),
            all(&format!("'{}'", "1".repeat(70)))
        ),
    );
    let project = TestProject::new();
    let rules: String = PHONE_MASKS
        .iter()
        .zip(&columns)
        .map(|((_, strategy), column)| {
            format!("    - {{column: {column}, strategy: {strategy}}}\n")
        })
        .collect();
    project.write(
        "db/sync/anonymization.yaml",
        &format!("tables:\n  contacts:\n{rules}"),
    );
    let files: Vec<String> = PHONE_MASKS
        .iter()
        .map(|(plugin, _)| component(plugin).display().to_string())
        .collect();
    let mut args = vec![
        "sync",
        "--from",
        &source.url,
        "--to",
        &target.url,
        "--anonymize",
    ];
    for file in &files {
        args.extend(["--plugin", file.as_str()]);
    }
    let run = crate::harness::Run::from(
        project
            .command(&args)
            .env("ANONYMIZATION_SECRET", SECRET)
            .output()
            .expect("run confiture sync"),
    );
    run.ok();
    assert!(run.stdout.contains("2006 rows"), "{}", run.stdout);

    let originals = column(
        &source,
        &format!("SELECT {} FROM contacts ORDER BY id", columns[0]),
    );
    for ((plugin, strategy), name) in PHONE_MASKS.iter().zip(&columns) {
        let masked = column(&target, &format!("SELECT {name} FROM contacts ORDER BY id"));
        assert_eq!(masked.len(), originals.len(), "{strategy}");
        for (original, masked) in originals.iter().zip(&masked) {
            assert_eq!(
                masked.as_deref(),
                original
                    .as_deref()
                    .map(|o| expected_mask(plugin, o))
                    .as_deref(),
                "{strategy} ({plugin}) on {original:?}"
            );
        }
        let changed = originals
            .iter()
            .zip(&masked)
            .filter(|(o, m)| o != m)
            .count();
        assert!(changed > 1_900, "{strategy} changed only {changed} values");
    }
}

#[test]
fn python_and_javascript_hooks_guard_a_real_migration() {
    for plugin in ["python-hook", "js-hook"] {
        let p = project_with(
            &[plugin],
            &format!(
                "plugins:\n  {plugin}:\n    grant: [db-read]\n    config: {{table: users, column: email}}\n"
            ),
        );
        p.write(
            "db/migrations/001_users.up.sql",
            "CREATE TABLE users (id int PRIMARY KEY, email text);\nINSERT INTO users VALUES (1, 'a@x.org');\n",
        );
        p.write(
            "db/migrations/002_import.up.sql",
            "INSERT INTO users VALUES (2, NULL), (3, NULL);\n",
        );
        let run = p.run(&["migrate", "up"]);
        assert_eq!(run.code, 1, "{plugin}\n{}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(&format!("plugin {plugin}"))
                && run
                    .stderr
                    .contains("2 rows of users have no email after import"),
            "{plugin}: {}",
            run.stderr
        );
        // The failed migration rolled back: one row, one tracked migration.
        assert_eq!(
            p.db.scalar("SELECT count(*)::text FROM users").as_deref(),
            Some("1")
        );
        assert_eq!(tracked(&p), 1);
        assert!(exists(&p, "users"));

        p.write(
            "db/migrations/002_import.up.sql",
            "INSERT INTO users VALUES (2, 'b@x.org');\n",
        );
        let run = p.run(&["migrate", "up"]);
        run.ok();
        assert!(
            run.stderr.contains("users.email has no NULLs after import"),
            "{plugin}: {}",
            run.stderr
        );
        assert_eq!(tracked(&p), 2);
    }
}

#[test]
fn the_python_lint_rule_reports_in_confiture_lint() {
    let p = TestProject::new();
    p.write(
        "db/schema/10_tables.sql",
        "CREATE TABLE users (id int PRIMARY KEY, created_at timestamptz NOT NULL);\n\
         \n\
         CREATE TABLE orders (id int PRIMARY KEY, total numeric);\n",
    );
    std::fs::create_dir_all(p.root().join("plugins")).unwrap();
    std::fs::copy(
        component("python-lint"),
        p.root().join("plugins/python-lint.wasm"),
    )
    .unwrap();
    // A cache of its own: the first run compiles the 18 MB component and says so on stderr
    // (stdout stays one JSON document); the next load comes from the cache, silently.
    let cache = tempfile::tempdir().unwrap();
    let run = crate::harness::Run::from(
        p.command(&["lint", "--format", "json"])
            .env("CONFITURE_CACHE_DIR", cache.path())
            .output()
            .unwrap(),
    );
    assert!(
        run.stderr
            .contains("compiling plugin plugins/python-lint.wasm (")
            && run
                .stderr
                .contains("once; later loads use the compiled cache")
            && run
                .stderr
                .contains("compiled plugin plugins/python-lint.wasm in "),
        "{}",
        run.stderr
    );
    let inspected = crate::harness::Run::from(
        p.command(&["plugins", "inspect", "plugins/python-lint.wasm"])
            .env("CONFITURE_CACHE_DIR", cache.path())
            .output()
            .unwrap(),
    );
    inspected.ok();
    assert!(
        !inspected.stderr.contains("compiling"),
        "{}",
        inspected.stderr
    );
    assert!(
        inspected.stdout.contains("(cache hit)"),
        "{}",
        inspected.stdout
    );
    let report = run.json();
    let found: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings array: {report:#}"))
        .iter()
        .filter(|f| f["rule"] == "python_created_at_required")
        .collect();
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(
        found[0]["message"],
        "table public.orders has no created_at column"
    );
    assert_eq!(found[0]["location"]["file"], "db/schema/10_tables.sql");
    assert_eq!(found[0]["location"]["line"], 3);
    assert_eq!(found[0]["severity"], "warning");
}
