//! `confiture sync` through the real binary: anonymization with the built-ins and with WASM
//! strategies, foreign-key propagation, unique-preserving keys, configuration errors, protected
//! targets, dry runs, table selection, and checkpoint/resume.
//!
//! Each test gets a temporary project (`crate::harness::TestProject`, whose
//! `db/sync/anonymization.yaml` the test writes) and fresh source and target databases.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::harness::{Run, TestDb, TestProject};
use crate::plugins_support::{STRATEGY_PLUGIN, component};
use crate::sync_support::{
    column, count, dump, exec, output, source_and_target, sync_run, table_entry,
};

/// The anonymization file's place in a project.
const CONFIG: &str = "db/sync/anonymization.yaml";
/// The deployment secret most tests use.
const SECRET: &str = "e2e-sync-secret, 16+ bytes";

/// `confiture sync --from SOURCE --to TARGET EXTRA...` in `project`, with
/// `ANONYMIZATION_SECRET` set to `secret` (or removed).
fn sync(
    project: &TestProject,
    source: &TestDb,
    target: &str,
    extra: &[&str],
    secret: Option<&str>,
) -> Run {
    sync_run(project, &source.url, target, extra, secret)
}

/// The tables of the JSON summary, in order.
fn table_names(summary: &Value) -> Vec<String> {
    summary["tables"]
        .as_array()
        .expect("tables is an array")
        .iter()
        .map(|t| t["table"].as_str().expect("table is a string").to_string())
        .collect()
}

/// The summary's `masked_columns` entry for `table`.`column`.
fn masked<'a>(summary: &'a Value, table: &str, column: &str) -> &'a Value {
    summary["masked_columns"]
        .as_array()
        .expect("masked_columns is an array")
        .iter()
        .find(|c| c["table"] == table && c["column"] == column)
        .unwrap_or_else(|| panic!("{table}.{column} is not in masked_columns: {summary:#}"))
}

/// `value` with every ASCII digit replaced by `9`: its format.
fn shape(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .collect()
}

fn plugin_arg(name: &str) -> String {
    component(name).display().to_string()
}

const PEOPLE: &str = "CREATE TABLE people (id int PRIMARY KEY, email text, full_name text,
    phone text, note text)";

/// 300 people: every 10th email NULL, every 7th phone NULL, every 13th name NULL.
const FILL_PEOPLE: &str = "INSERT INTO people SELECT g,
        CASE WHEN g % 10 = 0 THEN NULL ELSE 'person' || g || '@corp.example' END,
        CASE WHEN g % 13 = 0 THEN NULL ELSE 'Zoë Person-' || g END,
        CASE WHEN g % 7 = 0 THEN NULL ELSE '+1 (555) ' || lpad(g::text, 3, '0') || '-' || lpad((g * 37 % 10000)::text, 4, '0') END,
        'note ' || g
    FROM generate_series(1, 300) g";

const PEOPLE_RULES: &str = "tables:
  people:
    - {column: email, strategy: email}
    - {column: full_name, strategy: full_name}
    - {column: phone, strategy: phone}
";

#[test]
fn anonymized_sync_masks_builtins_keeps_formats_and_is_keyed_by_the_secret() {
    let project = TestProject::new();
    project.write(CONFIG, PEOPLE_RULES);
    let (source, target) = source_and_target(PEOPLE);
    let same = TestDb::new();
    let other = TestDb::new();
    for db in [&same, &other] {
        exec(db, PEOPLE);
    }
    exec(&source, FILL_PEOPLE);
    exec(
        &target,
        "INSERT INTO people VALUES (1000, 'old@x', 'Old', '1', 'old')",
    );

    let run = sync(
        &project,
        &source,
        &target.url,
        &["--anonymize", "--format", "json"],
        Some(SECRET),
    );
    run.ok();
    let summary = run.json();
    assert_eq!(summary["anonymized"], true, "{summary:#}");
    let people = table_entry(&summary, "public.people");
    assert_eq!(people["status"], "copied", "{summary:#}");
    assert_eq!(people["rows_written"], 300, "{summary:#}");
    assert_eq!(summary["rows"], 300, "{summary:#}");
    assert_eq!(summary["failed_groups"], 0, "{summary:#}");
    for (name, strategy) in [
        ("email", "email"),
        ("full_name", "full_name"),
        ("phone", "phone"),
    ] {
        let entry = masked(&summary, "public.people", name);
        assert_eq!(entry["strategy"], strategy, "{summary:#}");
        assert!(entry["propagated_from"].is_null(), "{summary:#}");
    }
    assert_eq!(summary["masked_columns"].as_array().unwrap().len(), 3);
    assert_eq!(count(&target, "people"), 300);
    assert_eq!(count(&target, "people WHERE id = 1000"), 0, "old rows go");

    let q = |col: &str| format!("SELECT {col} FROM people ORDER BY id");
    let ids = column(&source, &q("id::text"));
    assert_eq!(column(&target, &q("id::text")), ids);
    // Untouched column copied as is.
    assert_eq!(dump(&target, &q("note")), dump(&source, &q("note")));
    for col in ["email", "full_name", "phone"] {
        let before = column(&source, &q(col));
        let after = column(&target, &q(col));
        assert_eq!(before.len(), after.len());
        for (row, (b, a)) in before.iter().zip(&after).enumerate() {
            match (b, a) {
                (None, None) => {}
                (Some(b), Some(a)) => {
                    assert_ne!(a, b, "{col} of row {row} was not anonymized");
                    match col {
                        "email" => {
                            assert!(a.contains('@') && !a.contains("person"), "email {b} → {a}")
                        }
                        "phone" => assert_eq!(shape(a), shape(b), "phone {b} → {a}"),
                        _ => assert!(!a.is_empty() && !a.contains("Person-"), "{b} → {a}"),
                    }
                }
                _ => panic!("{col} of row {row}: NULL-ness changed: {b:?} → {a:?}"),
            }
        }
    }
    // Distinct addresses stay distinct (64-bit keyed hash).
    let emails: BTreeSet<_> = column(&target, &q("email")).into_iter().flatten().collect();
    assert_eq!(emails.len(), 270);

    // The same secret gives the same output; another secret another one.
    let all = "SELECT * FROM people ORDER BY id";
    sync(&project, &source, &same.url, &["--anonymize"], Some(SECRET)).ok();
    assert_eq!(dump(&same, all), dump(&target, all));
    sync(
        &project,
        &source,
        &other.url,
        &["--anonymize"],
        Some("another-secret, 16+ bytes"),
    )
    .ok();
    for col in ["email", "full_name", "phone"] {
        let changed = column(&other, &q(col))
            .iter()
            .zip(column(&target, &q(col)))
            .filter(|(a, b)| a.is_some() && **a != *b)
            .count();
        assert!(changed > 200, "{col}: only {changed} values differ");
    }
}

const USERS_ORDERS: &str = "
    CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL UNIQUE, name text);
    CREATE TABLE orders (id int PRIMARY KEY, user_email text REFERENCES users (email), total int);";

const FILL_USERS_ORDERS: &str = "
    INSERT INTO users SELECT g, 'user' || g || '@shop.example', 'Name ' || g
        FROM generate_series(1, 200) g;
    INSERT INTO orders SELECT g, 'user' || (1 + g % 200) || '@shop.example', g
        FROM generate_series(1, 1000) g;";

#[test]
fn foreign_keys_carry_the_strategy_and_joins_still_match() {
    let project = TestProject::new();
    project.write(
        CONFIG,
        "tables:\n  users:\n    - {column: email, strategy: email}\n",
    );
    let (source, target) = source_and_target(USERS_ORDERS);
    exec(&source, FILL_USERS_ORDERS);
    let run = sync(
        &project,
        &source,
        &target.url,
        &["--anonymize", "--format", "json"],
        Some(SECRET),
    );
    run.ok();
    let summary = run.json();
    let propagated = masked(&summary, "public.orders", "user_email");
    assert_eq!(propagated["strategy"], "email", "{summary:#}");
    assert_eq!(
        propagated["propagated_from"], "public.users.email",
        "{summary:#}"
    );
    assert!(masked(&summary, "public.users", "email")["propagated_from"].is_null());
    assert_eq!(count(&target, "orders"), 1000);
    assert_eq!(
        count(&target, "orders WHERE user_email LIKE '%shop.example%'"),
        0,
        "orders.user_email was anonymized too"
    );
    assert_eq!(count(&target, "users WHERE email LIKE '%shop.example%'"), 0);
    assert_eq!(
        count(&target, "orders o JOIN users u ON u.email = o.user_email"),
        1000,
        "every order still joins its user"
    );
    // The same user behind the same order as in the source.
    assert_eq!(
        dump(
            &target,
            "SELECT o.id, u.id FROM orders o JOIN users u ON u.email = o.user_email ORDER BY o.id"
        ),
        dump(
            &source,
            "SELECT o.id, u.id FROM orders o JOIN users u ON u.email = o.user_email ORDER BY o.id"
        )
    );

    // An explicit rule on the referencing column wins over propagation.
    let target = TestDb::new();
    exec(&target, USERS_ORDERS);
    project.write(
        CONFIG,
        "tables:\n  users:\n    - {column: email, strategy: email}\n  orders:\n    - {column: user_email, strategy: \"null\"}\n",
    );
    let run = sync(
        &project,
        &source,
        &target.url,
        &["--anonymize", "--format", "json"],
        Some(SECRET),
    );
    run.ok();
    let summary = run.json();
    let explicit = masked(&summary, "public.orders", "user_email");
    assert_eq!(explicit["strategy"], "null", "{summary:#}");
    assert!(explicit["propagated_from"].is_null(), "{summary:#}");
    assert_eq!(
        summary["masked_columns"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["column"] == "user_email")
            .count(),
        1,
        "{summary:#}"
    );
    assert_eq!(count(&target, "orders WHERE user_email IS NULL"), 1000);
    assert_eq!(count(&target, "users WHERE email LIKE '%shop.example%'"), 0);
}

#[test]
fn unique_rules_keep_keys_and_unique_columns_distinct() {
    let project = TestProject::new();
    project.write(
        CONFIG,
        "tables:
  accounts:
    - {column: id, strategy: hash, unique: true}
    - {column: code, strategy: text, unique: true}
    - {column: email, strategy: email, unique: true}
",
    );
    let schema = "CREATE TABLE accounts (id int PRIMARY KEY, code text NOT NULL UNIQUE,
        email text UNIQUE)";
    let (source, target) = source_and_target(schema);
    exec(
        &source,
        "INSERT INTO accounts SELECT g, 'AB-' || lpad(g::text, 5, '0'),
            'acct' || g || '@bank.example' FROM generate_series(1, 5000) g",
    );
    let run = sync(
        &project,
        &source,
        &target.url,
        &["--anonymize", "--format", "json"],
        Some(SECRET),
    );
    run.ok();
    let summary = run.json();
    assert_eq!(
        table_entry(&summary, "public.accounts")["rows_written"],
        5000
    );
    for col in ["id", "code", "email"] {
        assert_eq!(
            masked(&summary, "public.accounts", col)["strategy"],
            "unique_preserving",
            "{summary:#}"
        );
        assert_eq!(
            target.scalar(&format!("SELECT count(DISTINCT {col})::text FROM accounts")),
            Some("5000".into()),
            "{col} stays distinct"
        );
    }
    let source_ids: BTreeSet<_> = column(&source, "SELECT id::text FROM accounts")
        .into_iter()
        .collect();
    let target_ids: BTreeSet<_> = column(&target, "SELECT id::text FROM accounts")
        .into_iter()
        .collect();
    assert_ne!(source_ids, target_ids, "the keys were permuted");
    // Codes are permuted within their letter and digit classes: nearly all change.
    let source_codes: BTreeSet<_> = column(&source, "SELECT code FROM accounts")
        .into_iter()
        .collect();
    let target_codes: BTreeSet<_> = column(&target, "SELECT code FROM accounts")
        .into_iter()
        .collect();
    let kept = source_codes.intersection(&target_codes).count();
    assert!(kept < 50, "{kept} of 5000 codes are source codes");
    // The formats stay: letters, a dash, five digits; the domain of the address.
    assert_eq!(
        count(&target, "accounts WHERE code ~ '^[A-Za-z]{2}-[0-9]{5}$'"),
        5000
    );
    assert_eq!(
        count(&target, "accounts WHERE email LIKE '%@bank.example'"),
        5000
    );
}

/// Seeds the target with rows the failing runs must leave alone; returns their dump.
fn seed_target(target: &TestDb) -> String {
    exec(
        target,
        "INSERT INTO people VALUES (9001, 'keep@x', 'Keep Me', '1', 'kept')",
    );
    dump(target, "SELECT * FROM people ORDER BY id")
}

#[test]
fn a_keyed_strategy_without_the_secret_is_a_configuration_error() {
    let project = TestProject::new();
    project.write(CONFIG, PEOPLE_RULES);
    let (source, target) = source_and_target(PEOPLE);
    exec(&source, FILL_PEOPLE);
    let before = seed_target(&target);
    let run = sync(&project, &source, &target.url, &["--anonymize"], None);
    assert_eq!(run.code, 5, "{run:?}");
    assert!(output(&run).contains("ANONYMIZATION_SECRET"), "{run:?}");
    assert_eq!(dump(&target, "SELECT * FROM people ORDER BY id"), before);

    // A plugin's keyed strategy finds out while loading: its group fails and is rolled back.
    project.write(
        CONFIG,
        "tables:\n  people:\n    - {column: email, strategy: email_keep_domain}\n",
    );
    let run = sync(
        &project,
        &source,
        &target.url,
        &["--anonymize", "--plugin", &plugin_arg(STRATEGY_PLUGIN)],
        None,
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(output(&run).contains("ANONYMIZATION_SECRET"), "{run:?}");
    assert_eq!(dump(&target, "SELECT * FROM people ORDER BY id"), before);
}

#[test]
fn unknown_tables_columns_and_strategies_name_the_file_and_line() {
    let project = TestProject::new();
    let (source, target) = source_and_target(PEOPLE);
    exec(&source, FILL_PEOPLE);
    let before = seed_target(&target);
    let cases = [
        (
            "tables:\n  people:\n    - {column: email, strategy: email}\n  nope:\n    - {column: email, strategy: email}\n",
            "anonymization.yaml:5",
            "nope",
        ),
        (
            "tables:\n  people:\n    - {column: email, strategy: email}\n    - {column: mobile, strategy: phone}\n",
            "anonymization.yaml:4",
            "mobile",
        ),
        (
            "tables:\n  people:\n    - {column: email, strategy: email}\n\n    - {column: phone, strategy: scramble_it}\n",
            "anonymization.yaml:5",
            "scramble_it",
        ),
    ];
    for (yaml, place, name) in cases {
        project.write(CONFIG, yaml);
        let run = sync(
            &project,
            &source,
            &target.url,
            &["--anonymize"],
            Some(SECRET),
        );
        assert_eq!(run.code, 5, "{yaml}\n{run:?}");
        let text = output(&run);
        assert!(text.contains(place), "expected {place}:\n{text}");
        assert!(text.contains(name), "expected {name}:\n{text}");
        assert_eq!(
            dump(&target, "SELECT * FROM people ORDER BY id"),
            before,
            "{yaml}"
        );
    }
}

#[test]
fn a_strategy_reading_a_column_the_table_lacks_is_a_configuration_error() {
    let project = TestProject::new();
    let (source, target) = source_and_target(PEOPLE);
    exec(&source, FILL_PEOPLE);
    let before = seed_target(&target);
    // `by_country` reads the row-context column `country`, which `people` does not have.
    project.write(
        CONFIG,
        "tables:\n  people:\n    - {column: note, strategy: by_country}\n",
    );
    let run = sync(
        &project,
        &source,
        &target.url,
        &["--anonymize", "--plugin", &plugin_arg("context-strategy")],
        Some(SECRET),
    );
    assert_eq!(run.code, 5, "{run:?}");
    let text = output(&run);
    assert!(
        text.contains("anonymization.yaml:3") && text.contains("`country`"),
        "{text}"
    );
    assert_eq!(dump(&target, "SELECT * FROM people ORDER BY id"), before);
}

#[test]
fn a_protected_target_is_refused_without_a_terminal() {
    let project = TestProject::new();
    let (source, target) = source_and_target(PEOPLE);
    exec(&source, FILL_PEOPLE);
    let before = seed_target(&target);
    project.write(
        "db/environments/prod.yaml",
        &format!("protected: true\ndatabase_url: {}\n", target.url),
    );
    for extra in [&[][..], &["--allow-protected-target"][..]] {
        let run = sync(&project, &source, "prod", extra, Some(SECRET));
        assert_eq!(run.code, 7, "{extra:?}: {run:?}");
        let text = output(&run);
        assert!(text.contains("protected"), "{text}");
        if extra.is_empty() {
            assert!(text.contains("--allow-protected-target"), "{text}");
        } else {
            assert!(text.contains("terminal"), "{text}");
        }
        assert_eq!(dump(&target, "SELECT * FROM people ORDER BY id"), before);
    }
}

#[test]
fn dry_run_shows_samples_and_writes_nothing() {
    let project = TestProject::new();
    project.write(CONFIG, PEOPLE_RULES);
    let (source, target) = source_and_target(PEOPLE);
    exec(
        &source,
        "INSERT INTO people VALUES (1, 'alice@corp.example', 'Alice Liddell', '+44 20 7946 0018', 'n')",
    );
    let before = seed_target(&target);
    let run = sync(
        &project,
        &source,
        &target.url,
        &["--anonymize", "--dry-run"],
        Some(SECRET),
    );
    run.ok();
    assert!(
        run.stdout.contains("dry run: nothing is written"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("public.people — before → after"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("email: alice@corp.example → user_"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("full_name: Alice Liddell → "),
        "{run:?}"
    );
    assert_eq!(dump(&target, "SELECT * FROM people ORDER BY id"), before);

    let run = sync(
        &project,
        &source,
        &target.url,
        &["--anonymize", "--dry-run", "--format", "json"],
        Some(SECRET),
    );
    run.ok();
    let summary = run.json();
    assert_eq!(summary["groups"], serde_json::json!([["public.people"]]));
    let sample = &summary["samples"][0];
    assert_eq!(sample["table"]["name"], "people", "{summary:#}");
    let columns: Vec<&str> = sample["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let email = columns.iter().position(|c| *c == "email").unwrap();
    let phone = columns.iter().position(|c| *c == "phone").unwrap();
    let row = &sample["rows"][0];
    assert_eq!(row["before"][email], "alice@corp.example");
    assert_ne!(row["after"][email], "alice@corp.example");
    assert_eq!(row["before"][phone], "+44 20 7946 0018");
    let phone_after = row["after"][phone].as_str().unwrap();
    assert_eq!(shape(phone_after), "+99 99 9999 9999", "{phone_after}");
    assert_eq!(dump(&target, "SELECT * FROM people ORDER BY id"), before);
}

#[test]
fn without_anonymize_a_config_listing_columns_warns_and_copies_as_is() {
    let project = TestProject::new();
    project.write(CONFIG, PEOPLE_RULES);
    let (source, target) = source_and_target(PEOPLE);
    exec(&source, FILL_PEOPLE);
    let run = sync(
        &project,
        &source,
        &target.url,
        &["--format", "json"],
        Some(SECRET),
    );
    run.ok();
    assert!(
        run.stderr.contains("warning:") && run.stderr.contains("--anonymize is not given"),
        "{run:?}"
    );
    let summary = run.json();
    assert_eq!(summary["anonymized"], false);
    let warnings = summary["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{summary:#}");
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .contains("3 personal-data column(s)"),
        "{summary:#}"
    );
    assert_eq!(summary["masked_columns"], serde_json::json!([]));
    let all = "SELECT * FROM people ORDER BY id";
    assert_eq!(dump(&target, all), dump(&source, all));
}

const CONTACTS: &str = "CREATE TABLE contacts (id int PRIMARY KEY, email text, phone text,
    nickname text, country text)";

const FILL_CONTACTS: &str = "INSERT INTO contacts SELECT g,
        CASE WHEN g % 9 = 0 THEN NULL ELSE 'c' || g || '@mail' || (g % 3) || '.example' END,
        '+33 6 ' || lpad(g::text, 2, '0') || ' 45 ' || lpad((g % 100)::text, 2, '0'),
        CASE WHEN g % 11 = 0 THEN NULL ELSE repeat('n', 1 + g % 6) END,
        CASE WHEN g % 5 = 0 THEN NULL ELSE (ARRAY['FR', 'DE', 'JP'])[1 + g % 3] END
    FROM generate_series(1, 120) g";

#[test]
fn wasm_strategies_by_name_by_mapping_in_python_and_with_row_context() {
    let project = TestProject::new();
    let (source, target) = source_and_target(CONTACTS);
    exec(&source, FILL_CONTACTS);
    let email_plugin = plugin_arg(STRATEGY_PLUGIN);

    // The example plugin's strategy by its own name.
    project.write(
        CONFIG,
        "tables:\n  contacts:\n    - {column: email, strategy: email_keep_domain}\n",
    );
    let run = sync(
        &project,
        &source,
        &target.url,
        &["--anonymize", "--plugin", &email_plugin, "--format", "json"],
        Some(SECRET),
    );
    run.ok();
    assert_eq!(
        masked(&run.json(), "public.contacts", "email")["strategy"],
        "email_keep_domain"
    );
    let before = column(&source, "SELECT email FROM contacts ORDER BY id");
    let after = column(&target, "SELECT email FROM contacts ORDER BY id");
    for (b, a) in before.iter().zip(&after) {
        match (b, a) {
            (None, None) => {}
            (Some(b), Some(a)) => {
                let (local, domain) = a.split_once('@').expect("an address");
                assert_eq!(Some(domain), b.split_once('@').map(|(_, d)| d), "{b} → {a}");
                assert!(
                    local.len() == 17
                        && local.starts_with("user_")
                        && local[5..].chars().all(|c| c.is_ascii_hexdigit()),
                    "{b} → {a}"
                );
            }
            _ => panic!("NULL-ness changed: {b:?} → {a:?}"),
        }
    }

    // The same strategy under another name with --strategy: the same output.
    let mapped = TestDb::new();
    exec(&mapped, CONTACTS);
    project.write(
        CONFIG,
        "tables:\n  contacts:\n    - {column: email, strategy: mail}\n",
    );
    sync(
        &project,
        &source,
        &mapped.url,
        &[
            "--anonymize",
            "--plugin",
            &email_plugin,
            "--strategy",
            "mail=email-strategy:email_keep_domain",
        ],
        Some(SECRET),
    )
    .ok();
    let all = "SELECT * FROM contacts ORDER BY id";
    assert_eq!(dump(&mapped, all), dump(&target, all));

    // The Python plugin's strategy.
    let python = TestDb::new();
    exec(&python, CONTACTS);
    project.write(
        CONFIG,
        "tables:\n  contacts:\n    - {column: phone, strategy: phone_mask}\n",
    );
    sync(
        &project,
        &source,
        &python.url,
        &["--anonymize", "--plugin", &plugin_arg("python-strategy")],
        Some(SECRET),
    )
    .ok();
    let before = column(&source, "SELECT phone FROM contacts ORDER BY id");
    let after = column(&python, "SELECT phone FROM contacts ORDER BY id");
    let mut changed = 0;
    for (b, a) in before.iter().zip(&after) {
        let (b, a) = (b.as_deref().unwrap(), a.as_deref().unwrap());
        assert_eq!(shape(a), shape(b), "{b} → {a}");
        assert_eq!(
            a[a.len() - 2..],
            b[b.len() - 2..],
            "last two digits: {b} → {a}"
        );
        changed += usize::from(a != b);
    }
    assert!(changed > 100, "only {changed} phone numbers changed");

    // A strategy reading a row-context column (`country`).
    let context = TestDb::new();
    exec(&context, CONTACTS);
    project.write(
        CONFIG,
        "tables:\n  contacts:\n    - {column: nickname, strategy: by_country}\n",
    );
    sync(
        &project,
        &source,
        &context.url,
        &["--anonymize", "--plugin", &plugin_arg("context-strategy")],
        Some(SECRET),
    )
    .ok();
    let expected = column(
        &source,
        "SELECT CASE WHEN nickname IS NULL THEN NULL
            ELSE coalesce(country, 'none') || '-' || length(nickname) END
         FROM contacts ORDER BY id",
    );
    assert_eq!(
        column(&context, "SELECT nickname FROM contacts ORDER BY id"),
        expected
    );
    assert!(
        expected.iter().flatten().any(|v| v.starts_with("JP-"))
            && expected.iter().flatten().any(|v| v.starts_with("none-")),
        "the fixture has several countries and NULL ones"
    );
    // The context column itself is copied as is.
    let countries = "SELECT country FROM contacts ORDER BY id";
    assert_eq!(dump(&context, countries), dump(&source, countries));
}

const TYPED: &str = "
    CREATE TABLE items (id int PRIMARY KEY, qty int, label text);
    CREATE TABLE tokens (id int PRIMARY KEY, token uuid);
    CREATE TABLE notes (id int PRIMARY KEY, body text);";

#[test]
fn a_plugin_returning_values_of_the_wrong_type_fails_only_its_group() {
    let project = TestProject::new();
    let (source, target) = source_and_target(TYPED);
    exec(
        &source,
        "INSERT INTO items SELECT g, g, 'l' || g FROM generate_series(1, 50) g;
         INSERT INTO tokens SELECT g, md5(g::text)::uuid FROM generate_series(1, 50) g;
         INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 50) g;",
    );
    exec(
        &target,
        "INSERT INTO items VALUES (-1, 1, 'old'); INSERT INTO tokens VALUES (-1, NULL);",
    );
    let items_before = dump(&target, "SELECT * FROM items ORDER BY id");
    let tokens_before = dump(&target, "SELECT * FROM tokens ORDER BY id");
    project.write(
        CONFIG,
        "tables:
  items:
    - {column: qty, strategy: wrong_type}
  tokens:
    - {column: token, strategy: wrong_type, params: {value: not-a-uuid}}
",
    );
    let run = sync(
        &project,
        &source,
        &target.url,
        &[
            "--anonymize",
            "--plugin",
            &plugin_arg("context-strategy"),
            "--format",
            "json",
        ],
        Some(SECRET),
    );
    assert_eq!(run.code, 1, "{run:?}");
    let summary = run.json();
    assert_eq!(summary["failed_groups"], 2, "{summary:#}");
    for (table, column) in [("public.items", "qty"), ("public.tokens", "token")] {
        let entry = table_entry(&summary, table);
        assert_eq!(entry["status"], "failed", "{summary:#}");
        assert_eq!(entry["rows_written"], 0, "{summary:#}");
        let error = entry["error"].as_str().expect("an error");
        for needle in [table, column, "wrong_type", "id="] {
            assert!(error.contains(needle), "{table}: no `{needle}` in: {error}");
        }
    }
    let notes = table_entry(&summary, "public.notes");
    assert_eq!(notes["status"], "copied", "{summary:#}");
    assert_eq!(notes["rows_written"], 50);
    assert!(!run.stderr.contains("panicked"), "{run:?}");
    // The failed groups are exactly as they were; the other one is copied.
    assert_eq!(
        dump(&target, "SELECT * FROM items ORDER BY id"),
        items_before
    );
    assert_eq!(
        dump(&target, "SELECT * FROM tokens ORDER BY id"),
        tokens_before
    );
    let notes = "SELECT * FROM notes ORDER BY id";
    assert_eq!(dump(&target, notes), dump(&source, notes));
}

const SCHEMAS: &str = "CREATE SCHEMA hr; CREATE SCHEMA sales;
    CREATE TABLE hr.employees (id int PRIMARY KEY, email text NOT NULL UNIQUE, name text);
    CREATE TABLE sales.customers (id int PRIMARY KEY,
        manager_email text NOT NULL REFERENCES hr.employees (email), name text);
    CREATE TABLE public.misc (id int PRIMARY KEY, v text);";

const FILL_SCHEMAS: &str = "
    INSERT INTO hr.employees SELECT g, 'emp' || g || '@hr.example', 'E' || g
        FROM generate_series(1, 40) g;
    INSERT INTO sales.customers SELECT g, 'emp' || (1 + g % 40) || '@hr.example', 'C' || g
        FROM generate_series(1, 400) g;
    INSERT INTO misc SELECT g, 'm' || g FROM generate_series(1, 30) g;";

#[test]
fn schemas_tables_and_exclude_select_what_is_copied_across_schemas() {
    let project = TestProject::new();
    let (source, target) = source_and_target(SCHEMAS);
    exec(&source, FILL_SCHEMAS);
    exec(&target, "INSERT INTO misc VALUES (-1, 'old')");
    let misc_before = dump(&target, "SELECT * FROM misc ORDER BY id");
    project.write(
        CONFIG,
        "tables:\n  hr.employees:\n    - {column: email, strategy: email}\n",
    );

    // --schemas: both schemas, the FK across them, anonymization propagated across them.
    let run = sync(
        &project,
        &source,
        &target.url,
        &["--schemas", "hr,sales", "--anonymize", "--format", "json"],
        Some(SECRET),
    );
    run.ok();
    let summary = run.json();
    assert_eq!(
        table_names(&summary),
        ["hr.employees", "sales.customers"],
        "{summary:#}"
    );
    assert_eq!(
        masked(&summary, "sales.customers", "manager_email")["propagated_from"],
        "hr.employees.email"
    );
    assert_eq!(count(&target, "sales.customers"), 400);
    assert_eq!(
        count(
            &target,
            "sales.customers c JOIN hr.employees e ON e.email = c.manager_email"
        ),
        400
    );
    assert_eq!(
        count(&target, "hr.employees WHERE email LIKE '%hr.example'"),
        0
    );
    assert_eq!(dump(&target, "SELECT * FROM misc ORDER BY id"), misc_before);

    // --tables: a referenced table without its referencing one is refused before any
    // write (the target could not truncate it).
    let only = TestDb::new();
    exec(&only, SCHEMAS);
    exec(&only, "INSERT INTO hr.employees VALUES (1, 'x@y', 'old')");
    let only_before = dump(&only, "SELECT * FROM hr.employees ORDER BY id");
    let run = sync(
        &project,
        &source,
        &only.url,
        &["--tables", "misc,hr.employees"],
        None,
    );
    assert_eq!(run.code, 5, "a configuration error: {run:?}");
    let text = output(&run);
    assert!(
        text.contains("cannot replace hr.employees") && text.contains("sales.customers"),
        "{text}"
    );
    assert_eq!(count(&only, "misc"), 0);
    assert_eq!(
        dump(&only, "SELECT * FROM hr.employees ORDER BY id"),
        only_before
    );

    // --tables: only those, qualified or not.
    let run = sync(
        &project,
        &source,
        &only.url,
        &[
            "--tables",
            "misc,sales.customers,hr.employees",
            "--format",
            "json",
        ],
        None,
    );
    run.ok();
    let mut names = table_names(&run.json());
    names.sort();
    assert_eq!(names, ["hr.employees", "public.misc", "sales.customers"]);
    let run = sync(
        &project,
        &source,
        &target.url,
        &["--tables", "public.misc", "--format", "json"],
        None,
    );
    run.ok();
    assert_eq!(table_names(&run.json()), ["public.misc"]);
    let misc = "SELECT * FROM misc ORDER BY id";
    assert_eq!(dump(&target, misc), dump(&source, misc));
    // The anonymized tables of the first run are left alone.
    assert_eq!(
        count(&target, "hr.employees WHERE email LIKE '%hr.example'"),
        0
    );

    // --exclude: everything else.
    let rest = TestDb::new();
    exec(&rest, SCHEMAS);
    exec(&rest, "INSERT INTO misc VALUES (-1, 'old')");
    let run = sync(
        &project,
        &source,
        &rest.url,
        &["--exclude", "public.misc", "--format", "json"],
        None,
    );
    run.ok();
    assert_eq!(
        table_names(&run.json()),
        ["hr.employees", "sales.customers"]
    );
    assert_eq!(count(&rest, "misc"), 1);
    for q in [
        "SELECT * FROM hr.employees ORDER BY id",
        "SELECT * FROM sales.customers ORDER BY id",
    ] {
        assert_eq!(dump(&rest, q), dump(&source, q), "{q}");
    }

    // An unknown table in --tables fails before any write.
    let run = sync(&project, &source, &rest.url, &["--tables", "hr.nope"], None);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(output(&run).contains("hr.nope"), "{run:?}");
}

const RESUME: &str = "
    CREATE TABLE users (id int PRIMARY KEY, email text, score int);
    CREATE TABLE orders (id int PRIMARY KEY, user_id int NOT NULL REFERENCES users, total int);
    CREATE TABLE other (id int PRIMARY KEY, v text);";

#[test]
fn checkpoint_and_resume_skip_the_committed_groups() {
    let project = TestProject::new();
    let (source, target) = source_and_target(RESUME);
    exec(
        &source,
        "INSERT INTO users SELECT g, 'u' || g || '@x.example', g FROM generate_series(1, 500) g;
         INSERT INTO orders SELECT g, 1 + g % 500, g FROM generate_series(1, 2000) g;
         INSERT INTO other SELECT g, 'o' || g FROM generate_series(1, 100) g;",
    );
    exec(
        &target,
        "INSERT INTO users VALUES (1, 'old', 0); INSERT INTO orders VALUES (1, 1, 0);",
    );
    let users_before = dump(&target, "SELECT * FROM users ORDER BY id");
    let orders_before = dump(&target, "SELECT * FROM orders ORDER BY id");
    let checkpoint = project.root().join("sync-checkpoint.json");
    let checkpoint_arg = checkpoint.display().to_string();
    let plugin = plugin_arg("context-strategy");
    project.write(
        CONFIG,
        "tables:\n  users:\n    - {column: score, strategy: wrong_type}\n",
    );
    let args = |resume: bool| {
        let mut args = vec![
            "--anonymize",
            "--plugin",
            plugin.as_str(),
            "--checkpoint",
            checkpoint_arg.as_str(),
            "--format",
            "json",
        ];
        if resume {
            args.push("--resume");
        }
        args
    };
    let run = sync(&project, &source, &target.url, &args(false), Some(SECRET));
    assert_eq!(run.code, 1, "{run:?}");
    let summary = run.json();
    assert_eq!(table_entry(&summary, "public.users")["status"], "failed");
    assert_eq!(table_entry(&summary, "public.orders")["status"], "failed");
    assert_eq!(table_entry(&summary, "public.other")["status"], "copied");
    assert!(checkpoint.is_file(), "the checkpoint file is written");
    assert_eq!(
        dump(&target, "SELECT * FROM users ORDER BY id"),
        users_before
    );
    assert_eq!(
        dump(&target, "SELECT * FROM orders ORDER BY id"),
        orders_before
    );
    assert_eq!(count(&target, "other"), 100);

    // Fix the configuration and resume: the committed group is left alone (the marker stays).
    exec(&target, "INSERT INTO other VALUES (-1, 'marker')");
    project.write(
        CONFIG,
        "tables:\n  users:\n    - {column: score, strategy: \"null\"}\n",
    );
    let run = sync(&project, &source, &target.url, &args(true), Some(SECRET));
    run.ok();
    let summary = run.json();
    assert_eq!(table_entry(&summary, "public.other")["status"], "skipped");
    assert_eq!(table_entry(&summary, "public.other")["rows_written"], 0);
    assert_eq!(table_entry(&summary, "public.users")["status"], "copied");
    assert_eq!(table_entry(&summary, "public.orders")["status"], "copied");
    assert_eq!(summary["skipped_groups"], 1);
    assert_eq!(summary["failed_groups"], 0);
    assert_eq!(count(&target, "other"), 101);
    assert_eq!(count(&target, "other WHERE v = 'marker'"), 1);
    assert_eq!(count(&target, "users WHERE score IS NULL"), 500);
    let orders = "SELECT * FROM orders ORDER BY id";
    assert_eq!(dump(&target, orders), dump(&source, orders));

    // Resuming once more skips every group.
    let run = sync(&project, &source, &target.url, &args(true), Some(SECRET));
    run.ok();
    let summary = run.json();
    assert_eq!(summary["skipped_groups"], 2, "{summary:#}");
    assert!(
        summary["tables"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["status"] == "skipped"),
        "{summary:#}"
    );
    assert_eq!(count(&target, "other WHERE v = 'marker'"), 1);
}

#[test]
fn confiture_own_tables_stay_out_of_a_sync_unless_named() {
    // Both databases have a tracking table and an append-only audit trail of their own.
    let (source, target) = source_and_target(
        "CREATE TABLE items (id int PRIMARY KEY, label text);\n\
         CREATE TABLE tb_confiture (version text PRIMARY KEY);\n\
         CREATE TABLE tb_confiture_audit (id int PRIMARY KEY, event text);\n\
         CREATE FUNCTION no_truncate() RETURNS trigger LANGUAGE plpgsql AS \
           $$ BEGIN RAISE EXCEPTION 'append-only'; END $$;\n\
         CREATE TRIGGER append_only BEFORE TRUNCATE ON tb_confiture_audit \
           FOR EACH STATEMENT EXECUTE FUNCTION no_truncate();",
    );
    exec(
        &source,
        "INSERT INTO items VALUES (1, 'a'), (2, 'b'); INSERT INTO tb_confiture VALUES ('001'), \
         ('002'); INSERT INTO tb_confiture_audit VALUES (1, 'applied')",
    );
    exec(
        &target,
        "INSERT INTO tb_confiture VALUES ('001'); INSERT INTO tb_confiture_audit VALUES (7, 'x')",
    );
    let project = TestProject::new();
    let run = sync(&project, &source, &target.url, &["--format", "json"], None);
    run.ok();
    assert_eq!(table_names(&run.json()), ["public.items"]);
    assert_eq!(count(&target, "items"), 2);
    assert_eq!(
        dump(&target, "SELECT version FROM tb_confiture"),
        "001\n",
        "the target keeps its own tracking table"
    );
    // Named explicitly, the tracking table is copied.
    let run = sync(
        &project,
        &source,
        &target.url,
        &["--tables", "tb_confiture", "--format", "json"],
        None,
    );
    run.ok();
    assert_eq!(
        dump(&target, "SELECT version FROM tb_confiture ORDER BY 1"),
        "001\n002\n"
    );
}
