//! Keys derived from the deployment secret are domain-separated: a plugin's `keyed-hash` is
//! HMAC under its own key, so feeding it the bytes the host derives a built-in strategy's key
//! (or another plugin's) from gives the plugin nothing it can reproduce their output with.
//! Through the real binary: `confiture sync` masks one column with the built-in `hash` and the
//! same values with `hostile-keyed-hash`, which computes what the built-in key would have been
//! under the old, raw import.

use confiture::plugins::keyed_hash::{Domain, KeyedHasher};

use crate::harness::{Run, TestProject};
use crate::plugins_support::hostile;
use crate::sync_support::{column, exec, source_and_target};

const SECRET: &str = "e2e-keys-secret-16b";

const TABLE: &str = "CREATE TABLE people (id int PRIMARY KEY, builtin text, as_builtin text,
    as_plugin text, own text)";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What `keyed-hash` gave for `data` before keys were derived per plugin: HMAC(secret, data).
fn raw_import(data: &[u8]) -> [u8; 32] {
    KeyedHasher::new(SECRET.as_bytes()).unwrap().hash(data)
}

#[test]
fn a_plugin_cannot_reproduce_builtin_or_other_plugins_output() {
    let project = TestProject::new();
    let (source, target) = source_and_target(TABLE);
    exec(
        &source,
        "INSERT INTO people SELECT g, v, v, v, v FROM (SELECT g, 'Zoë ' || g || '@corp.example' AS v
         FROM generate_series(1, 50) g) s",
    );
    project.write(
        "db/sync/anonymization.yaml",
        "tables:
  people:
    - {column: builtin, strategy: hash}
    - {column: as_builtin, strategy: hostile_keyed_hash, params: {target: 'builtin:hash'}}
    - {column: as_plugin, strategy: hostile_keyed_hash, params: {target: 'plugin:email-strategy'}}
    - {column: own, strategy: hostile_keyed_hash, params: {target: own}}
",
    );
    let plugin = hostile("keyed-hash").display().to_string();
    let run = Run::from(
        project
            .command(&[
                "sync",
                "--from",
                &source.url,
                "--to",
                &target.url,
                "--anonymize",
                "--plugin",
                &plugin,
            ])
            .env("ANONYMIZATION_SECRET", SECRET)
            .output()
            .expect("run confiture sync"),
    );
    run.ok();

    let originals = column(&source, "SELECT builtin FROM people ORDER BY id");
    let get = |name: &str| column(&target, &format!("SELECT {name} FROM people ORDER BY id"));
    let (builtin, as_builtin, as_plugin, own) = (
        get("builtin"),
        get("as_builtin"),
        get("as_plugin"),
        get("own"),
    );
    let secret = KeyedHasher::new(SECRET.as_bytes()).unwrap();
    let email_key = secret.for_plugin("email-strategy");
    let own_key = secret.for_plugin("hostile-keyed-hash");
    let builtin_label = [Domain::Strategy.prefix(), b"hash"].concat();
    let old_builtin_key = KeyedHasher::new(&raw_import(&builtin_label)).unwrap();
    for (i, original) in originals.iter().enumerate() {
        let original = original.as_deref().expect("no NULLs");
        let builtin = builtin[i].as_deref().unwrap();
        // The attack is the right one: with the raw import it reproduced `hash` exactly ...
        assert_eq!(
            &hex(&old_builtin_key.hash(original.as_bytes()))[..16],
            builtin,
            "row {i}"
        );
        // ... and now it gives something else.
        let attempt = as_builtin[i].as_deref().unwrap();
        assert_eq!(attempt.len(), 16);
        assert_ne!(
            attempt, builtin,
            "row {i}: a plugin reproduced the built-in hash"
        );
        // Another plugin's keyed hash is out of reach too.
        let other = hex(&email_key.hash(original.as_bytes()));
        assert_ne!(as_plugin[i].as_deref().unwrap(), other, "row {i}");
        // What the plugin does get is its own key, as documented.
        assert_eq!(
            own[i].as_deref().unwrap(),
            hex(&own_key.hash(original.as_bytes())),
            "row {i}"
        );
        assert_ne!(
            own[i].as_deref().unwrap(),
            hex(&raw_import(original.as_bytes()))
        );
    }
}
