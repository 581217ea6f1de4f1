//! Values expanded from `${VARS}` into the docs' URL template can never change its structure:
//! a user, password or database name holding a URL-reserved character (`? # & @ / : % space
//! +`) or non-ASCII text, with `sslmode=require`, is refused by a server without TLS (never a
//! plaintext connection); with `sslmode=disable` the same values reach a role and database
//! that really have those names, with password authentication.
//!
//! The server is the project's own throwaway cluster (`confiture db start`: no TLS), switched
//! to `scram-sha-256` for TCP connections so that a mangled password cannot get in.

use crate::db_cluster::LocalProject;
use crate::harness::Run;

/// The reserved characters, each tried alone in a user name and a password.
const RESERVED: [&str; 10] = ["?", "#", "&", "@", "/", ":", "%", " ", "+", "é"];
/// The administrator's password once the cluster asks for one.
const ADMIN_PASSWORD: &str = "admin-secret";

/// A superuser session over TCP on `db` (with `password` once the cluster asks for one).
fn admin(port: u16, db: &str, password: Option<&str>) -> Result<postgres::Client, postgres::Error> {
    let mut config = postgres::Config::new();
    config
        .host("127.0.0.1")
        .port(port)
        .user("postgres")
        .dbname(db);
    if let Some(password) = password {
        config.password(password);
    }
    config.connect(postgres::NoTls)
}

/// True when `relation` exists in `db`.
fn exists_in(port: u16, db: &str, relation: &str) -> bool {
    admin(port, db, Some(ADMIN_PASSWORD))
        .expect("admin connection")
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&relation])
        .unwrap()
        .get(0)
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Runs `confiture args` in the project with the URL parts in `DB_USER`, `DB_PASSWORD` and
/// `DB_NAME`; asserts the password appears in no output, raw or encoded.
fn run_with(p: &LocalProject, args: &[&str], (user, password, db): (&str, &str, &str)) -> Run {
    let run = Run::from(
        crate::harness::confiture_command(p.root(), args)
            .env("DB_USER", user)
            .env("DB_PASSWORD", password)
            .env("DB_NAME", db)
            .output()
            .expect("run confiture"),
    );
    let encoded = confiture::strings::percent_encode(password.as_bytes());
    for shown in [&run.stdout, &run.stderr] {
        assert!(
            !shown.contains(password) && !shown.contains(&encoded),
            "{args:?}: the password {password:?} was printed: {run:?}"
        );
    }
    run
}

#[test]
fn reserved_characters_in_url_parts_never_drop_sslmode_and_reach_the_named_role() {
    let p = LocalProject::new();
    let started = p.run(&["db", "start", "--format", "json"]);
    started.ok();
    let status = started.json();
    let port = status["port"].as_u64().expect("port") as u16;
    let data_dir = std::path::PathBuf::from(status["data_dir"].as_str().expect("data_dir"));

    // Every part at once, and `%41` (which must not arrive as `A`).
    let all = "?#&@/:% +é☕";
    let mut cases: Vec<(String, String, String)> = vec![
        (format!("u{all}"), format!("p{all}ü"), format!("d{all}ñ")),
        ("u%41".into(), "p%41".into(), "d%41".into()),
    ];
    // Each character alone in the user and the password, on the first database.
    let first_db = cases[0].2.clone();
    for c in RESERVED {
        cases.push((format!("u{c}x"), format!("p{c}x"), first_db.clone()));
    }
    {
        let mut client = admin(port, "postgres", None).expect("admin connection");
        client
            .batch_execute(&format!(
                "ALTER ROLE postgres PASSWORD {}",
                literal(ADMIN_PASSWORD)
            ))
            .unwrap();
        for (index, (user, password, db)) in cases.iter().enumerate() {
            // The roles that share the first database read its tracking table.
            let reads = if index >= 2 {
                " IN ROLE pg_read_all_data"
            } else {
                ""
            };
            client
                .batch_execute(&format!(
                    "CREATE ROLE {} LOGIN PASSWORD {}{reads}",
                    quote(user),
                    literal(password)
                ))
                .unwrap();
            let exists = client
                .query_one("SELECT count(*) FROM pg_database WHERE datname = $1", &[db])
                .unwrap()
                .get::<_, i64>(0);
            if exists == 0 {
                client
                    .batch_execute(&format!(
                        "CREATE DATABASE {} OWNER {}",
                        quote(db),
                        quote(user)
                    ))
                    .unwrap();
            }
        }
    }
    // Passwords are checked from now on, for every TCP connection.
    let hba = data_dir.join("pg_hba.conf");
    let rules = std::fs::read_to_string(&hba).expect("pg_hba.conf");
    std::fs::write(
        &hba,
        format!("host all all 127.0.0.1/32 scram-sha-256\n{rules}"),
    )
    .expect("write pg_hba.conf");
    admin(port, "postgres", None)
        .expect("admin connection")
        .batch_execute("SELECT pg_reload_conf()")
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while admin(port, "postgres", None).is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the server still accepts connections without a password"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    // The docs' URL template, with TLS required and with TLS off.
    let template = |mode: &str| {
        format!(
            "database_url: postgresql://${{DB_USER}}:${{DB_PASSWORD}}@127.0.0.1:{port}/${{DB_NAME}}?sslmode={mode}\n"
        )
    };
    let write = |path: &str, text: &str| {
        let path = p.root().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("db/environments/secure.yaml", &template("require"));
    write("db/environments/plain.yaml", &template("disable"));
    write(
        "db/migrations/001_who.up.sql",
        "CREATE TABLE who AS SELECT current_user::text AS usr, current_database()::text AS db,\n\
         (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS ssl;\n",
    );

    for (index, (user, password, db)) in cases.iter().enumerate() {
        let parts = (user.as_str(), password.as_str(), db.as_str());
        let what = format!("user {user:?}, password {password:?}, database {db:?}");
        // TLS required: refused, nothing sent in plaintext, nothing changed.
        let refused = run_with(&p, &["--env", "secure", "migrate", "up"], parts);
        assert_eq!(refused.code, 3, "{what}: {refused:?}");
        assert!(
            refused.stderr.to_lowercase().contains("tls")
                || refused.stderr.to_lowercase().contains("ssl"),
            "{what}: {}",
            refused.stderr
        );
        if index < 2 {
            assert!(!exists_in(port, db, "who"), "{what}");
            assert!(!exists_in(port, db, "tb_confiture"), "{what}");
        }

        // TLS off: the named role, in the named database, with that password.
        if index < 2 {
            let run = run_with(&p, &["--env", "plain", "migrate", "up"], parts);
            run.ok();
            let row = admin(port, db, Some(ADMIN_PASSWORD))
                .expect("admin connection")
                .query_one("SELECT usr, db, ssl FROM who", &[])
                .unwrap();
            assert_eq!(row.get::<_, String>(0), *user, "{what}");
            assert_eq!(row.get::<_, String>(1), *db, "{what}");
            assert!(!row.get::<_, bool>(2), "{what}");
        } else {
            // The first database holds the migration already: `status` connects and reads.
            let run = run_with(&p, &["--env", "plain", "migrate", "status"], parts);
            assert_eq!(run.code, 0, "{what}: {run:?}");
            assert!(run.stdout.contains("001"), "{what}: {}", run.stdout);
        }
        // A wrong password is refused: the one that got in was the one given.
        let wrong = run_with(
            &p,
            &["--env", "plain", "migrate", "status"],
            (user, &format!("{password}!"), db),
        );
        assert_eq!(wrong.code, 3, "{what}: {wrong:?}");
    }
}
