//! `confiture sync` on databases shaped like real ones (issue #16), through the real binary:
//! partitioned tables of every kind, hostile session settings on the source, personal data in
//! every script, resumes that must not mix runs, sequences used through `DEFAULT nextval`, the
//! same database under other URL spellings, type mismatches found before any row moves, targets
//! a migration ahead, and errors that quote no production value. Each test asserts what the
//! tool printed and what the target holds afterwards.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{TestDb, TestProject};
use crate::plugins_support::component;
use crate::sync_support::{
    column, count, exec, output, source_and_target, sync_run as sync, table_entry,
};

const CONFIG: &str = "db/sync/anonymization.yaml";
const SECRET: &str = "e2e integrity secret, long enough";

/// `COPY (query) TO STDOUT` with the settings pinned the same way on every database, so two
/// databases with different `ALTER DATABASE ... SET` print alike.
fn pinned_dump(db: &TestDb, query: &str) -> String {
    use std::io::Read;
    let mut client = db.client();
    client
        .batch_execute(
            "SET statement_timeout = 0; SET DateStyle = ISO; SET IntervalStyle = postgres; \
             SET extra_float_digits = 3; SET TimeZone = 'UTC'; SET lc_monetary = 'C'",
        )
        .expect("pin the dump's settings");
    let mut out = String::new();
    client
        .copy_out(&format!("COPY ({query}) TO STDOUT"))
        .expect("copy out")
        .read_to_string(&mut out)
        .expect("read COPY output");
    out
}

const PARTITIONED: &str = "
    CREATE TABLE customer (customer_id serial PRIMARY KEY, email text NOT NULL);
    -- range, with a default partition, a serial on the partitioned table, an FK to customer
    CREATE TABLE payment (payment_id serial, customer_id int NOT NULL REFERENCES customer,
        amount numeric(6,2), paid_on date NOT NULL, PRIMARY KEY (payment_id, paid_on))
        PARTITION BY RANGE (paid_on);
    CREATE TABLE payment_2024 PARTITION OF payment FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    CREATE TABLE payment_2025 PARTITION OF payment FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
    CREATE TABLE payment_other PARTITION OF payment DEFAULT;
    -- list, and hash
    CREATE TABLE store (id int, country text NOT NULL, name text) PARTITION BY LIST (country);
    CREATE TABLE store_eu PARTITION OF store FOR VALUES IN ('FR', 'DE', 'PL');
    CREATE TABLE store_rest PARTITION OF store DEFAULT;
    CREATE TABLE rental (id bigint PRIMARY KEY, note text) PARTITION BY HASH (id);
    CREATE TABLE rental_0 PARTITION OF rental FOR VALUES WITH (MODULUS 3, REMAINDER 0);
    CREATE TABLE rental_1 PARTITION OF rental FOR VALUES WITH (MODULUS 3, REMAINDER 1);
    CREATE TABLE rental_2 PARTITION OF rental FOR VALUES WITH (MODULUS 3, REMAINDER 2);
    -- two levels: range by year, then list by kind
    CREATE TABLE event (id int, at date NOT NULL, kind text NOT NULL, v text) PARTITION BY RANGE (at);
    CREATE TABLE event_2024 PARTITION OF event FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')
        PARTITION BY LIST (kind);
    CREATE TABLE event_2024_a PARTITION OF event_2024 FOR VALUES IN ('a');
    CREATE TABLE event_2024_rest PARTITION OF event_2024 DEFAULT;
    CREATE TABLE event_rest PARTITION OF event DEFAULT;
    CREATE TABLE plain (id int PRIMARY KEY, v text);";

const FILL_PARTITIONED: &str = "
    INSERT INTO customer (email) SELECT 'c' || g || '@rent.example' FROM generate_series(1, 50) g;
    INSERT INTO payment (customer_id, amount, paid_on)
        SELECT 1 + g % 50, g / 10.0, DATE '2023-12-01' + g FROM generate_series(1, 900) g;
    INSERT INTO store SELECT g, (ARRAY['FR','DE','PL','US','JP'])[1 + g % 5], 's' || g
        FROM generate_series(1, 100) g;
    INSERT INTO rental SELECT g, 'r' || g FROM generate_series(1, 300) g;
    INSERT INTO event SELECT g, DATE '2023-06-01' + g, (ARRAY['a','b'])[1 + g % 2], 'e' || g
        FROM generate_series(1, 700) g;
    INSERT INTO plain SELECT g, 'p' || g FROM generate_series(1, 10) g;";

/// Every partitioned table of the source, copied leaf by leaf.
const PARTITION_QUERIES: &[&str] = &[
    "SELECT tableoid::regclass, * FROM payment ORDER BY payment_id",
    "SELECT tableoid::regclass, * FROM store ORDER BY id",
    "SELECT tableoid::regclass, * FROM rental ORDER BY id",
    "SELECT tableoid::regclass, * FROM event ORDER BY id",
    "SELECT * FROM customer ORDER BY customer_id",
];

#[test]
fn partitioned_tables_of_every_kind_are_copied_leaf_by_leaf_with_their_sequences() {
    let project = TestProject::new();
    let (source, target) = source_and_target(PARTITIONED);
    exec(&source, FILL_PARTITIONED);
    exec(&target, "INSERT INTO plain VALUES (-1, 'old')");

    // A partitioned table anywhere in the source used to panic even a sync of another table.
    let run = sync(
        &project,
        &source.url,
        &target.url,
        &["--tables", "plain", "--format", "json"],
        None,
    );
    run.ok();
    assert_eq!(run.json()["tables"].as_array().unwrap().len(), 1);
    assert_eq!(count(&target, "plain"), 10);
    assert_eq!(count(&target, "payment"), 0, "only plain was asked for");

    // With anonymization (a rule on the partitioned table covers its partitions) and raw.
    project.write(
        CONFIG,
        "tables:\n  rental:\n    - {column: note, strategy: redact}\n",
    );
    let run = sync(
        &project,
        &source.url,
        &target.url,
        &["--anonymize", "--format", "json"],
        Some(SECRET),
    );
    run.ok();
    let summary = run.json();
    for leaf in ["rental_0", "rental_1", "rental_2"] {
        assert!(
            summary["masked_columns"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["table"] == format!("public.{leaf}") && c["column"] == "note"),
            "{leaf}: {summary:#}"
        );
    }
    assert_eq!(count(&target, "rental WHERE note <> '[REDACTED]'"), 0);
    assert_eq!(count(&target, "rental"), 300);

    let run = sync(
        &project,
        &source.url,
        &target.url,
        &["--format", "json"],
        None,
    );
    run.ok();
    let summary = run.json();
    assert_eq!(summary["failed_groups"], 0, "{summary:#}");
    for query in PARTITION_QUERIES {
        assert_eq!(
            pinned_dump(&target, query),
            pinned_dump(&source, query),
            "{query}"
        );
    }
    // Rows sit in the same leaves (the default partitions included).
    assert_eq!(
        count(&target, "ONLY payment_other"),
        count(&source, "ONLY payment_other")
    );
    assert!(count(&target, "ONLY payment_other") > 0);
    assert_eq!(
        count(&target, "ONLY event_2024_rest"),
        count(&source, "ONLY event_2024_rest")
    );
    // The leaves of one partitioned table are loaded in one group, with the tables they
    // reference: customer, payment's three leaves.
    let payment_seq = &table_entry(&summary, "public.payment_2024")["sequences"];
    assert_eq!(
        payment_seq,
        &serde_json::json!(["public.payment_payment_id_seq = 900"]),
        "{summary:#}"
    );
    // The serial of the partitioned table goes on after every leaf's rows.
    let next = target
        .scalar(
            "INSERT INTO payment (customer_id, paid_on) VALUES (1, '2025-06-01') \
             RETURNING payment_id::text",
        )
        .unwrap();
    assert_eq!(next, "901");
}

#[test]
fn values_whose_binary_form_names_a_local_oid_travel_as_text() {
    let project = TestProject::new();
    // A user type's array carries its element type's oid in COPY's binary format, and the
    // `reg*` types are oids: both differ between the source and the target (each database
    // created its own), so these raw tables must travel as text.
    let schema = "CREATE TYPE mood AS ENUM ('sad', 'ok');
        CREATE TABLE refs (id int PRIMARY KEY, moods mood[], rel regclass, kind regtype);";
    let (source, target) = source_and_target(schema);
    exec(
        &source,
        "INSERT INTO refs VALUES (1, '{sad,ok}', 'refs', 'mood'), (2, NULL, 'pg_class', 'int4'),
            (3, '{ok,NULL}', NULL, 'mood[]');",
    );
    let oid = |db: &TestDb| pinned_dump(db, "SELECT 'mood'::regtype::oid");
    assert_ne!(
        oid(&source),
        oid(&target),
        "the two types have different oids"
    );
    let run = sync(&project, &source.url, &target.url, &[], None);
    run.ok();
    let all = "SELECT id, moods, rel, kind FROM refs ORDER BY id";
    let copied = pinned_dump(&target, all);
    assert_eq!(copied, pinned_dump(&source, all));
    assert!(copied.starts_with("1\t{sad,ok}\trefs\tmood\n"), "{copied}");
}

#[test]
fn hostile_session_settings_change_no_value() {
    let project = TestProject::new();
    let schema = "CREATE TYPE mood AS ENUM ('sad', 'ok');
        CREATE TABLE typed (id int PRIMARY KEY, d date, i interval, f float8, r real,
            ts timestamptz, m money, e mood, note text);
        CREATE TABLE built_in (id bigint PRIMARY KEY, d date, i interval, f float8,
            ts timestamptz, note varchar(40));";
    let (source, target) = source_and_target(schema);
    exec(
        &source,
        "INSERT INTO typed VALUES
            (1, '2024-03-04', '-1 day +02:03:04', 0.30000000000000004, 1.1, '2024-03-04 05:06:07.891+02',
             12.34, 'sad', 'a'),
            (2, '1999-12-31', '1 year 2 mons -3 days', 1e-300, -0.1, '1970-01-01 00:00:00+00',
             -1.5, 'ok', 'b'),
            (3, NULL, NULL, 'NaN', 'Infinity', NULL, NULL, NULL, NULL);
         INSERT INTO built_in SELECT id, d, i, f, ts, note FROM typed;",
    );
    // Hostile settings, on the source and (others) on the target, for every session.
    for (db, style, interval, digits, zone, money) in [
        (
            &source,
            "SQL, DMY",
            "sql_standard",
            "-15",
            "Pacific/Chatham",
            "fr_FR.UTF-8",
        ),
        (&target, "German", "iso_8601", "0", "America/St_Johns", "C"),
    ] {
        for (setting, value) in [
            ("DateStyle", style),
            ("IntervalStyle", interval),
            ("extra_float_digits", digits),
            ("TimeZone", zone),
            ("statement_timeout", "5ms"),
            ("idle_in_transaction_session_timeout", "1"),
        ] {
            exec(
                db,
                &format!("ALTER DATABASE {} SET {setting} = '{value}'", db.name),
            );
        }
        // lc_monetary needs the locale: set it only when the server has it.
        let _ = db.client().batch_execute(&format!(
            "ALTER DATABASE {} SET lc_monetary = '{money}'",
            db.name
        ));
    }
    let all = "SELECT * FROM typed ORDER BY id";
    let expected = pinned_dump(&source, all);
    assert!(
        expected.contains("2024-03-04\t-1 days +02:03:04\t0.30000000000000004"),
        "{expected}"
    );
    // Every path: an anonymized table as text (`typed`: its enum has no binary form) and in
    // COPY's binary format (`built_in`), then raw tables.
    project.write(
        CONFIG,
        "tables:\n  typed:\n    - {column: note, strategy: redact}\n  built_in:\n    - \
         {column: note, strategy: redact}\n",
    );
    let run = sync(
        &project,
        &source.url,
        &target.url,
        &["--anonymize"],
        Some(SECRET),
    );
    run.ok();
    let masked = pinned_dump(
        &target,
        "SELECT id, d, i, f, r, ts, m, e FROM typed ORDER BY id",
    );
    assert_eq!(
        masked,
        pinned_dump(
            &source,
            "SELECT id, d, i, f, r, ts, m, e FROM typed ORDER BY id"
        )
    );
    assert_eq!(
        pinned_dump(&target, "SELECT note FROM typed WHERE id = 1"),
        "[REDACTED]\n"
    );
    let built_in = "SELECT id, d, i, f, ts FROM built_in ORDER BY id";
    assert_eq!(
        pinned_dump(&target, built_in),
        pinned_dump(&source, built_in)
    );
    assert_eq!(
        pinned_dump(&target, "SELECT note FROM built_in WHERE id = 1"),
        "[REDACTED]\n"
    );
    exec(
        &target,
        "SET statement_timeout = 0; TRUNCATE typed, built_in",
    );
    sync(&project, &source.url, &target.url, &[], None).ok();
    assert_eq!(pinned_dump(&target, all), expected);
}

#[test]
fn personal_data_in_every_script_is_masked() {
    let project = TestProject::new();
    let schema = "CREATE EXTENSION IF NOT EXISTS citext;
        CREATE TABLE person (id int PRIMARY KEY, email citext UNIQUE, full_name text, phone text,
            code text UNIQUE, handle text);
        CREATE TABLE mention (id int PRIMARY KEY, email citext REFERENCES person (email));";
    let (source, target) = source_and_target(schema);
    exec(
        &source,
        "INSERT INTO person VALUES
            (1, 'μαρία.παπαδοπούλου@παράδειγμα.ελ', 'Μαρία Παπαδοπούλου', '+30 210 123 4567', 'ΑΒΓ-١٢٣', 'Ωμέγα'),
            (2, 'жанна@пример.рф', 'Жанна Иванова', '+7 (495) ١٢٣-٤٥-٦٧', 'ЖЗИ-456', 'Ёлка'),
            (3, 'łucja.wójcik@przykład.pl', 'Łucja Wójcik', '０９０－１２３４－５６７８', 'ŁÓDŹ-789', 'Źdźbło'),
            (4, 'Zoë🦀@example.com', 'Zoë 🦀 Ünal', '٠٩٨٧٦٥٤٣٢١', 'Zz-0', 'ä'),
            (5, 'emoji🎉only@x.io', '🎉🎉', '🎉', '🎉-٣', '🎉');
         INSERT INTO mention VALUES (1, 'ZOë🦀@EXAMPLE.COM'), (2, 'EMOJI🎉ONLY@X.IO');",
    );
    project.write(
        CONFIG,
        "tables:
  person:
    - {column: email, strategy: email}
    - {column: full_name, strategy: full_name}
    - {column: phone, strategy: phone}
    - {column: code, strategy: unique_preserving, unique: true}
    - {column: handle, strategy: same_length_text}
",
    );
    let run = sync(
        &project,
        &source.url,
        &target.url,
        &["--anonymize", "--format", "json"],
        Some(SECRET),
    );
    run.ok();
    let summary = run.json();
    assert_eq!(summary["anonymized"], true);
    let q = |c: &str| format!("SELECT {c}::text FROM person ORDER BY id");
    for c in ["email", "full_name", "phone", "code", "handle"] {
        let before = column(&source, &q(c));
        let after = column(&target, &q(c));
        for (b, a) in before.iter().zip(&after) {
            let (b, a) = (b.as_deref().unwrap(), a.as_deref().unwrap());
            if ["phone", "handle"].contains(&c) && b == "🎉" {
                assert_eq!(a, b, "nothing to mask in {c}");
                continue;
            }
            assert_ne!(a, b, "{c} kept {b}");
            // No letter or digit of the original survives in place where the format is kept.
            if ["phone", "code"].contains(&c) {
                assert_eq!(a.chars().count(), b.chars().count(), "{c}: {b} → {a}");
                for (x, y) in b.chars().zip(a.chars()) {
                    if !x.is_alphanumeric() {
                        assert_eq!(x, y, "{c}: {b} → {a}: separators stay");
                    }
                }
            }
        }
    }
    // Digits keep their script; letters their script and case.
    let phones = column(&target, &q("phone"));
    assert!(
        phones[1].as_deref().unwrap().contains('-')
            && phones[1]
                .as_deref()
                .unwrap()
                .chars()
                .any(|c| ('٠'..='٩').contains(&c))
    );
    assert!(
        phones[2]
            .as_deref()
            .unwrap()
            .chars()
            .filter(|c| ('０'..='９').contains(c))
            .count()
            == 11
    );
    let codes = column(&target, &q("code"));
    let greek = codes[0].as_deref().unwrap();
    assert!(
        greek
            .chars()
            .take(3)
            .all(|c| ('Ͱ'..='Ͽ').contains(&c) && c.is_uppercase()),
        "{greek}"
    );
    assert!(
        greek.chars().skip(4).all(|c| ('٠'..='٩').contains(&c)),
        "{greek}"
    );
    let polish = codes[2].as_deref().unwrap();
    assert!(
        polish
            .chars()
            .take(4)
            .all(|c| !c.is_ascii() && c.is_uppercase())
            || polish != "ŁÓDŹ-789",
        "{polish}"
    );
    // Unique mode stays unique; the citext foreign key still joins, case-insensitively.
    let distinct: BTreeSet<_> = codes.iter().collect();
    assert_eq!(distinct.len(), codes.len());
    assert_eq!(
        count(&target, "mention m JOIN person p ON p.email = m.email"),
        2
    );
    assert_eq!(
        count(
            &target,
            "person WHERE email::text LIKE '%παράδειγμα%' OR email::text LIKE '%пример%'"
        ),
        0
    );
}

#[test]
fn a_resume_never_mixes_two_runs() {
    let project = TestProject::new();
    let schema = "CREATE TABLE users (id int PRIMARY KEY, email text);
        CREATE TABLE logs (id int PRIMARY KEY, line text);";
    let (source, target) = source_and_target(schema);
    let other = TestDb::new();
    exec(&other, schema);
    exec(
        &source,
        "INSERT INTO users SELECT g, 'u' || g || '@corp.example' FROM generate_series(1, 20) g;
         INSERT INTO logs SELECT g, 'l' || g FROM generate_series(1, 20) g;",
    );
    project.write(
        CONFIG,
        "tables:\n  users:\n    - {column: email, strategy: email}\n",
    );
    let checkpoint = project.root().join("sync.ckpt");
    let ckpt = checkpoint.to_str().unwrap();
    // A raw run commits every group.
    let run = sync(
        &project,
        &source.url,
        &target.url,
        &["--checkpoint", ckpt],
        None,
    );
    run.ok();
    assert!(output(&run).contains("copied AS THEY ARE"), "{run:?}");
    assert_eq!(count(&target, "users WHERE email LIKE '%corp.example'"), 20);
    // Resuming it with --anonymize would skip the raw groups: refused, naming what differs.
    let run = sync(
        &project,
        &source.url,
        &target.url,
        &["--anonymize", "--checkpoint", ckpt, "--resume"],
        Some(SECRET),
    );
    assert_eq!(run.code, 5, "{run:?}");
    let text = output(&run);
    assert!(text.contains("a different anonymization"), "{text}");
    assert!(!text.contains(SECRET), "{text}");
    assert!(!text.contains("\"anonymized\": true"), "{text}");
    assert_eq!(
        count(&target, "users WHERE email LIKE '%corp.example'"),
        20,
        "nothing written"
    );
    // Against another target: refused too.
    let run = sync(
        &project,
        &source.url,
        &other.url,
        &["--checkpoint", ckpt, "--resume"],
        None,
    );
    assert_eq!(run.code, 5, "{run:?}");
    assert!(
        output(&run).contains("a different target database"),
        "{run:?}"
    );
    assert_eq!(count(&other, "users"), 0);
    // From another source, or over another set of tables: refused, and nothing written.
    let run = sync(
        &project,
        &other.url,
        &target.url,
        &["--checkpoint", ckpt, "--resume"],
        None,
    );
    assert_eq!(run.code, 5, "{run:?}");
    assert!(
        output(&run).contains("a different source database"),
        "{run:?}"
    );
    let run = sync(
        &project,
        &source.url,
        &target.url,
        &["--checkpoint", ckpt, "--resume", "--exclude", "logs"],
        None,
    );
    assert_eq!(run.code, 5, "{run:?}");
    assert!(
        output(&run).contains("a different set of tables"),
        "{run:?}"
    );
    assert_eq!(
        count(&target, "users WHERE email LIKE '%corp.example'"),
        20,
        "nothing written"
    );
    // An anonymized run with a checkpoint, resumed under another secret: refused.
    let run = sync(
        &project,
        &source.url,
        &target.url,
        &["--anonymize", "--checkpoint", ckpt],
        Some(SECRET),
    );
    run.ok();
    assert_eq!(count(&target, "users WHERE email LIKE '%corp.example'"), 0);
    let run = sync(
        &project,
        &source.url,
        &target.url,
        &["--anonymize", "--checkpoint", ckpt, "--resume"],
        Some("another secret of enough bytes"),
    );
    assert_eq!(run.code, 5, "{run:?}");
    assert!(
        output(&run).contains("a different ANONYMIZATION_SECRET"),
        "{run:?}"
    );
    let text = std::fs::read_to_string(&checkpoint).unwrap();
    assert!(
        !text.contains(SECRET) && !text.contains("another secret"),
        "{text}"
    );
    // The same run resumes: every group skipped.
    let run = sync(
        &project,
        &source.url,
        &target.url,
        &[
            "--anonymize",
            "--checkpoint",
            ckpt,
            "--resume",
            "--format",
            "json",
        ],
        Some(SECRET),
    );
    run.ok();
    assert_eq!(run.json()["skipped_groups"], 2);
    // A short secret is refused before anything happens.
    let run = sync(
        &project,
        &source.url,
        &target.url,
        &["--anonymize"],
        Some("a"),
    );
    assert_eq!(run.code, 5, "{run:?}");
    assert!(output(&run).contains("at least 16"), "{run:?}");
}

#[test]
fn sequences_used_through_defaults_are_set_whether_owned_or_not() {
    let project = TestProject::new();
    // As pagila's dump writes them: sequences not OWNED BY their column.
    let schema = "CREATE SEQUENCE actor_actor_id_seq;
        CREATE TABLE actor (actor_id int DEFAULT nextval('actor_actor_id_seq') PRIMARY KEY, name text);
        CREATE SEQUENCE shared_seq;
        CREATE TABLE a (id bigint DEFAULT nextval('shared_seq') PRIMARY KEY);
        CREATE TABLE b (id bigint DEFAULT nextval('shared_seq') PRIMARY KEY);
        CREATE SEQUENCE down_seq INCREMENT -1 MAXVALUE -1 START -1;
        CREATE TABLE d (id int DEFAULT nextval('down_seq') PRIMARY KEY);
        CREATE SEQUENCE invoice_seq;
        CREATE TABLE invoice (no text DEFAULT 'INV-' || nextval('invoice_seq') PRIMARY KEY);
        CREATE TABLE ident (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY);";
    let (source, target) = source_and_target(schema);
    exec(
        &source,
        "INSERT INTO actor (name) SELECT 'a' || g FROM generate_series(1, 200) g;
         INSERT INTO a SELECT nextval('shared_seq') FROM generate_series(1, 5);
         INSERT INTO b SELECT nextval('shared_seq') FROM generate_series(1, 7);
         INSERT INTO d SELECT nextval('down_seq') FROM generate_series(1, 9);
         INSERT INTO invoice DEFAULT VALUES;
         INSERT INTO ident SELECT FROM generate_series(1, 4);",
    );
    let run = sync(
        &project,
        &source.url,
        &target.url,
        &["--format", "json"],
        None,
    );
    run.ok();
    // The first insert in the target used to hit a duplicate key.
    for (table, key, next) in [
        ("actor", "actor_id", "201"),
        ("a", "id", "13"),
        ("b", "id", "14"),
        ("d", "id", "-10"),
        ("ident", "id", "5"),
    ] {
        let id = target
            .scalar(&format!(
                "INSERT INTO {table} DEFAULT VALUES RETURNING {key}::text"
            ))
            .unwrap();
        assert_eq!(id, next, "{table}");
    }
    // a and b share a sequence: loaded in one group, set past both.
    let summary = run.json();
    assert!(
        summary["tables"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["status"] == "copied"),
        "{summary:#}"
    );
    let shared: Vec<&Value> = summary["tables"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["sequences"].to_string().contains("shared_seq"))
        .collect();
    assert_eq!(shared.len(), 1, "{summary:#}");
    // A text key built from a sequence has no maximum to take: copied, its sequence left alone.
    assert_eq!(
        target.scalar("SELECT count(*)::text FROM invoice").unwrap(),
        "1"
    );
}

#[test]
fn the_same_database_under_another_spelling_is_refused_at_once() {
    let project = TestProject::new();
    let db = TestDb::new();
    exec(
        &db,
        "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2)",
    );
    let port = crate::harness::cluster_port();
    let socket_dir = db.scalar("SHOW unix_socket_directories").unwrap();
    let socket_dir = socket_dir.split(',').next().unwrap().trim().to_string();
    for spelling in [
        format!("postgresql://postgres@localhost:{port}/{}", db.name),
        format!(
            "postgresql://postgres@127.0.0.1:{port}/{}?sslmode=disable",
            db.name
        ),
        format!(
            "postgresql://postgres@/{}?host={socket_dir}&port={port}",
            db.name
        ),
    ] {
        let started = Instant::now();
        let run = sync(&project, &db.url, &spelling, &[], None);
        assert_eq!(run.code, 5, "{spelling}: {run:?}");
        assert!(
            output(&run).contains("same database"),
            "{spelling}: {run:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(30), "{spelling}");
        assert_eq!(count(&db, "t"), 2);
    }
}

#[test]
fn type_mismatches_and_bad_selections_stop_before_any_row_moves() {
    let project = TestProject::new();
    let schema = "CREATE TABLE big (id int PRIMARY KEY, v text);
        CREATE TABLE people (id int PRIMARY KEY, age int, born date, code varchar(10), email text);";
    let (source, target) = source_and_target(schema);
    exec(
        &source,
        "INSERT INTO big SELECT g, 'new' FROM generate_series(1, 100) g;
        INSERT INTO people VALUES (1, 30, '1990-01-01', 'x', 'a@b.example')",
    );
    exec(
        &target,
        "INSERT INTO big VALUES (-1, 'old'); INSERT INTO people (id) VALUES (-1)",
    );
    let before = pinned_dump(&target, "SELECT * FROM big ORDER BY id");
    for (rule, line_needle) in [
        ("{column: age, strategy: email}", "people.age"),
        ("{column: born, strategy: phone}", "people.born"),
        ("{column: code, strategy: email}", "at least 18 characters"),
    ] {
        project.write(
            CONFIG,
            &format!(
                "tables:\n  people:\n    - {{column: email, strategy: email}}\n    - {rule}\n"
            ),
        );
        let run = sync(
            &project,
            &source.url,
            &target.url,
            &["--anonymize"],
            Some(SECRET),
        );
        assert_eq!(run.code, 5, "{rule}: {run:?}");
        let text = output(&run);
        assert!(text.contains(&format!("{CONFIG}:4")), "{rule}: {text}");
        assert!(text.contains(line_needle), "{rule}: {text}");
        assert_eq!(
            pinned_dump(&target, "SELECT * FROM big ORDER BY id"),
            before,
            "{rule}"
        );
    }
    // A file covering a table --tables leaves out is fine.
    project.write(
        CONFIG,
        "tables:\n  people:\n    - {column: email, strategy: email}\n",
    );
    let run = sync(
        &project,
        &source.url,
        &target.url,
        &["--anonymize", "--tables", "big"],
        Some(SECRET),
    );
    run.ok();
    assert_eq!(count(&target, "big"), 100);
    // Unknown tables and schemas, and a target schema that differs: exit 5.
    for extra in [&["--tables", "nope"][..], &["--schemas", "nowhere"][..]] {
        let run = sync(&project, &source.url, &target.url, extra, None);
        assert_eq!(run.code, 5, "{extra:?}: {run:?}");
    }
    exec(&target, "ALTER TABLE people ALTER COLUMN age TYPE bigint");
    let run = sync(&project, &source.url, &target.url, &[], None);
    assert_eq!(run.code, 5, "{run:?}");
    assert!(
        output(&run).contains("column age is `integer` in the source but `bigint` in the target"),
        "{run:?}"
    );
}

#[test]
fn a_target_one_migration_ahead_is_loaded_by_column_name() {
    let project = TestProject::new();
    let (source, target) = source_and_target(
        "CREATE TABLE item (id int PRIMARY KEY, name text, qty int);
        CREATE TABLE empty ();",
    );
    exec(
        &target,
        "DROP TABLE item; CREATE TABLE item (qty int, extra text, id int PRIMARY KEY,
        created date NOT NULL DEFAULT '2000-01-01', name text);",
    );
    exec(
        &source,
        "INSERT INTO item SELECT g, 'n' || g, g * 2 FROM generate_series(1, 30) g",
    );
    let run = sync(&project, &source.url, &target.url, &[], None);
    run.ok();
    assert!(
        run.stdout
            .contains("public.item: the target's column(s) extra, created are not in the source"),
        "{run:?}"
    );
    assert_eq!(
        pinned_dump(
            &target,
            "SELECT id, name, qty, extra, created FROM item ORDER BY id"
        ),
        pinned_dump(
            &source,
            "SELECT id, name, qty, NULL, DATE '2000-01-01' FROM item ORDER BY id"
        )
    );
    // A column NOT NULL without a default that the source lacks is refused at plan time.
    exec(
        &target,
        "ALTER TABLE item ADD COLUMN must int NOT NULL DEFAULT 0; ALTER TABLE item ALTER COLUMN must DROP DEFAULT",
    );
    let run = sync(&project, &source.url, &target.url, &[], None);
    assert_eq!(run.code, 5, "{run:?}");
    assert!(
        output(&run).contains("column must is NOT NULL without a default"),
        "{run:?}"
    );
}

#[test]
fn errors_never_quote_production_values() {
    let project = TestProject::new();
    let schema = "CREATE TABLE account (email text PRIMARY KEY, qty int, note text);";
    let (source, target) = source_and_target(schema);
    exec(
        &source,
        "INSERT INTO account SELECT 'private' || g || '@corp.example', g, 'secret note ' || g FROM generate_series(1, 20) g",
    );
    // A plugin returns a value of the wrong type: the row is named by its masked key.
    project.write(
        CONFIG,
        "tables:\n  account:\n    - {column: email, strategy: email}\n    - {column: qty, strategy: wrong_type}\n",
    );
    let run = sync(
        &project,
        &source.url,
        &target.url,
        &[
            "--anonymize",
            "--plugin",
            &component("context-strategy").display().to_string(),
        ],
        Some(SECRET),
    );
    assert_eq!(run.code, 1, "{run:?}");
    let text = output(&run);
    assert!(text.contains("email=user_"), "{text}");
    assert!(
        !text.contains("private") && !text.contains("corp.example"),
        "{text}"
    );
    // The target refuses rows (a CHECK): PostgreSQL's `Failing row contains (...)` is redacted.
    exec(&target, "ALTER TABLE account ADD CHECK (length(note) < 5)");
    project.write(
        CONFIG,
        "tables:\n  account:\n    - {column: email, strategy: email}\n",
    );
    let run = sync(
        &project,
        &source.url,
        &target.url,
        &["--anonymize", "--format", "json"],
        Some(SECRET),
    );
    assert_eq!(run.code, 1, "{run:?}");
    let error = table_entry(&run.json(), "public.account")["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        error.contains("account_note_check") && error.contains("Failing row contains (…)"),
        "{error}"
    );
    assert!(error.contains("SQLSTATE 23514"), "{error}");
    let text = output(&run);
    assert!(
        !text.contains("secret note") && !text.contains("user_"),
        "{text}"
    );
    assert_eq!(count(&target, "account"), 0);
    // --dry-run cuts long samples.
    exec(
        &source,
        &format!("UPDATE account SET email = '{}' || email", "x".repeat(5000)),
    );
    let run = sync(
        &project,
        &source.url,
        &target.url,
        &["--anonymize", "--dry-run"],
        Some(SECRET),
    );
    run.ok();
    assert!(
        run.stdout.contains("(5024 characters)") || run.stdout.contains("characters)"),
        "{run:?}"
    );
    assert!(run.stdout.len() < 5000, "{}", run.stdout.len());
}

#[test]
fn disable_triggers_is_explicit_and_consistent() {
    let project = TestProject::new();
    let schema = "CREATE TABLE x (id int PRIMARY KEY, y_id int);
        CREATE TABLE y (id int PRIMARY KEY, x_id int REFERENCES x);
        ALTER TABLE x ADD FOREIGN KEY (y_id) REFERENCES y;
        CREATE TABLE audited (id int PRIMARY KEY);
        CREATE TABLE audit_log (n int);";
    let (source, target) = source_and_target(schema);
    exec(
        &target,
        "CREATE FUNCTION log_it() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN INSERT INTO public.audit_log VALUES (NEW.id); RETURN NEW; END $$;
         CREATE TRIGGER t AFTER INSERT ON audited FOR EACH ROW EXECUTE FUNCTION log_it();",
    );
    exec(
        &source,
        "INSERT INTO x SELECT g, NULL FROM generate_series(1, 10) g;
        INSERT INTO y SELECT g, g FROM generate_series(1, 10) g; UPDATE x SET y_id = id;
        INSERT INTO audited SELECT generate_series(1, 7);",
    );
    // A cycle of non-deferrable keys needs --disable-triggers, even as a superuser.
    let run = sync(
        &project,
        &source.url,
        &target.url,
        &["--exclude", "audit_log"],
        None,
    );
    assert_eq!(run.code, 5, "{run:?}");
    assert!(output(&run).contains("--disable-triggers"), "{run:?}");
    assert_eq!(count(&target, "audited"), 0);
    // Without a cycle, triggers fire.
    let run = sync(
        &project,
        &source.url,
        &target.url,
        &["--tables", "audited"],
        None,
    );
    run.ok();
    assert_eq!(count(&target, "audit_log"), 7);
    // With --disable-triggers, every group loads without them.
    exec(&target, "TRUNCATE audit_log");
    let run = sync(
        &project,
        &source.url,
        &target.url,
        &["--exclude", "audit_log", "--disable-triggers"],
        None,
    );
    run.ok();
    assert_eq!(count(&target, "audit_log"), 0);
    assert_eq!(count(&target, "x"), 10);
}
