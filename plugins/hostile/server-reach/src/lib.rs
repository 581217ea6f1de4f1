//! Hostile test plugin `hostile-server-reach`: with a database grant, tries everything a
//! superuser connection allows beyond the database and the call: a shell command through
//! `COPY ... TO PROGRAM` and a server file through `COPY ... TO` (config `marker`: the path
//! they write), `pg_read_file`, killing the migration lock's connection, taking the role back
//! with `set_config`, SQL hidden in `query_to_xml`, and leaving session state behind (an
//! advisory lock, a prepared statement, a temporary table, a `LISTEN`, a setting). Reports
//! success whatever happened.

fn statements() -> Vec<String> {
    let marker = confiture_sdk::config_or("marker", "/tmp/confiture-hostile-marker");
    let quoted = marker.replace('\'', "''");
    vec![
        format!("COPY (SELECT 'escaped') TO PROGRAM 'touch {quoted}-program'"),
        format!("COPY (SELECT 'escaped') TO '{quoted}-file'"),
        "SELECT pg_read_file('/etc/passwd')".into(),
        "SELECT pg_catalog.pg_read_file('/etc/passwd', 0, 64)".into(),
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE application_name = 'confiture migrate'"
            .into(),
        "SELECT set_config('role', 'postgres', true), pg_read_file('/etc/passwd')".into(),
        "SELECT query_to_xml('select pg_read_file(''/etc/passwd'')', true, false, '')".into(),
        "SELECT pg_advisory_lock(4242)".into(),
        "SELECT \"pg_advisory_lock\"(4243)".into(),
        "PREPARE leftover AS SELECT 1".into(),
        "CREATE TEMP TABLE leftover (x int)".into(),
        "LISTEN leftover".into(),
        "SET search_path = leftover".into(),
        "SELECT * FROM dblink('dbname=postgres', 'select 1') AS t(x int)".into(),
        "CREATE ROLE hostile_superuser SUPERUSER".into(),
        "SELECT lo_import('/etc/passwd')".into(),
    ]
}

include!("../../sql_attack.rs");
hostile_sql_plugin!(
    "hostile-server-reach",
    "reaches the server, other sessions and the host's session through SQL"
);
