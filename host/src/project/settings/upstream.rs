//! Keys of the upstream Python Confiture's environment files (1.29, its documentation and its
//! examples) that Confiture reads but has no feature for. Each is accepted whatever its value
//! and reported once, naming the key and what to use instead; none changes what Confiture
//! does. The keys upstream has that Confiture honours are parsed by the other files of `settings/`.

/// Declares a serde struct for one level of an environment file: its `typed` fields, and the
/// `reported` keys (accepted whatever their value, `Option<IgnoredAny>`), with `reported()`
/// listing those the file sets and `REPORTED` naming them all. Unknown keys stay errors.
macro_rules! with_reported_keys {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$field_meta:meta])* $field:ident : $ty:ty, )*
        }
        reported { $($key:ident),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        $vis struct $name {
            $( $(#[$field_meta])* $field: $ty, )*
            $( $key: Option<serde::de::IgnoredAny>, )*
        }

        impl $name {
            /// Every reported key this level may hold.
            #[allow(dead_code)]
            $vis const REPORTED: &'static [&'static str] = &[$(stringify!($key)),*];

            /// The reported keys the file sets.
            $vis fn reported(&self) -> Vec<&'static str> {
                let mut set = Vec::new();
                $( if self.$key.is_some() { set.push(stringify!($key)); } )*
                set
            }
        }
    };
}
pub(super) use with_reported_keys;

/// Top-level keys accepted and reported, with what to do instead.
pub const TOP_LEVEL: &[(&str, &str)] = &[
    (
        "auto_backup",
        "Confiture takes no backups; back the database up before migrating (`confiture migrate \
         wizard --require-backup` asks for a confirmed backup before critical migrations)",
    ),
    (
        "seed",
        "Confiture has no seed command; list the seed directory in include_dirs after the \
         schema (an entry with a higher `order:`), or load the files with psql",
    ),
    (
        "superuser_dirs",
        "Confiture builds in one phase as one role; run the superuser files (extensions, \
         roles) with psql as a superuser before `confiture build --apply`",
    ),
    (
        "superuser_post_dirs",
        "Confiture builds in one phase as one role; run these files with psql as a superuser \
         after `confiture build --apply`",
    ),
    (
        "infrastructure",
        "replicas are not modelled; `confiture migrate status` and the wizard show each \
         pending statement's lock and rewrite risk",
    ),
    (
        "drift",
        "Confiture has no live drift check; `confiture migrate verify` compares checksums",
    ),
    (
        "ssh_tunnel",
        "Confiture opens no SSH tunnel; open one yourself (`ssh -N -L 6543:localhost:5432 \
         HOST`) and point database_url at the local port",
    ),
    (
        "acls",
        "grant coverage is not checked; keep GRANTs in schema files or migrations",
    ),
    (
        "acls_lint_enabled",
        "grant coverage is not checked; keep GRANTs in schema files or migrations",
    ),
    (
        "ownership",
        "ownership is not checked; keep ALTER ... OWNER TO in schema files or migrations",
    ),
    (
        "function_coverage",
        "`confiture lint` reports duplicate definitions across the schema files",
    ),
    (
        "security_lint",
        "`confiture lint` has security rules of its own; configure them under `linting:`",
    ),
    (
        "lint",
        "Confiture's lint settings live under `linting:` (see docs/reference/configuration.md)",
    ),
    (
        "options",
        "these example settings have no effect in upstream either; use Confiture's own keys \
         (lock_timeout, statement_timeout, protected) where one fits",
    ),
    (
        "project",
        "project metadata has no effect; name the environment with `name:`",
    ),
    (
        "verbose",
        "output detail is chosen per command (`--format json` for machines)",
    ),
    (
        "log_queries",
        "statements are not logged; set `log_statement` on the server to see them",
    ),
    (
        "rebuild",
        "Confiture has no rebuild advisory; `confiture build --apply --drop-existing` \
         rebuilds a database from the schema files",
    ),
    (
        "locking",
        "upstream ignores a top-level `locking:` too; the lock wait is \
         `migration.locking.timeout_ms` or `--lock-wait SECS`",
    ),
];

/// Keys under `migration:` accepted and reported (`tracking_table` and `locking` are read).
pub const MIGRATION: &[(&str, &str)] = &[
    (
        "strict_mode",
        "Confiture stops on errors, not on notices; there is no strict mode",
    ),
    (
        "destructive",
        "Confiture does not gate destructive statements by a directive; `confiture migrate \
         status` marks them critical and the wizard asks before them",
    ),
    (
        "backfill",
        "there is no online runner; batch backfills in their own migrations",
    ),
    (
        "view_helpers",
        "Confiture does not save and restore dependent views; drop and recreate them in the \
         migration that changes a column's type",
    ),
    (
        "migration_generators",
        "Confiture generates no migrations from schema diffs; `confiture migrate generate \
         NAME` writes empty .up.sql/.down.sql files",
    ),
    (
        "snapshot_history",
        "no schema snapshots are written beside migrations",
    ),
    (
        "snapshots_dir",
        "no schema snapshots are written beside migrations",
    ),
    (
        "live_snapshot",
        "no schema snapshots are written beside migrations",
    ),
    (
        "rebuild_threshold",
        "Confiture has no rebuild advisory; `confiture migrate status` lists the pending \
         migrations",
    ),
    ("grant_dir", "grant accompaniment is not checked"),
    (
        "allow_unsafe_under_replication",
        "replicas are not modelled; the risk levels apply whatever the topology",
    ),
];

/// Keys under `build:` accepted and reported (`sort_mode` is read).
pub const BUILD: &[(&str, &str)] = &[
    (
        "two_pass",
        "foreign keys stay where the files write them; order the files so referenced tables \
         come first",
    ),
    (
        "validate_comments",
        "files are parsed statement by statement; an unclosed comment is reported by \
         `confiture lint`",
    ),
    (
        "separators",
        "the built file puts each source under a `-- File: <path>` line",
    ),
    (
        "lint",
        "run `confiture lint` (its settings live under `linting:`)",
    ),
    (
        "output_path",
        "`confiture build -o FILE` chooses the output (default db/generated/schema_<env>.sql)",
    ),
];

/// Keys under `database:` accepted and reported (`connect_timeout` is read).
pub const DATABASE: &[(&str, &str)] = &[
    (
        "pool_size",
        "Confiture opens the connections a command needs, without a pool",
    ),
    (
        "max_overflow",
        "Confiture opens the connections a command needs, without a pool",
    ),
    (
        "pool_timeout",
        "Confiture opens the connections a command needs, without a pool",
    ),
];

/// The advice for `key` in `table`.
pub fn advice(table: &[(&str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, a)| *a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_listed_once_with_advice() {
        for table in [TOP_LEVEL, MIGRATION, BUILD, DATABASE] {
            for (i, (key, advice)) in table.iter().enumerate() {
                assert!(!advice.is_empty(), "{key}");
                assert!(
                    table[..i].iter().all(|(k, _)| k != key),
                    "{key} listed twice"
                );
            }
        }
    }
}
