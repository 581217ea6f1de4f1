//! The statement gate: what a plugin may send through the `database` import.
//!
//! Every `query`/`execute` is parsed with sqlparser (PostgreSQL dialect) and must be exactly one
//! statement of a class its grant allows; the host then runs sqlparser's own rendering of that
//! statement, not the plugin's text, so PostgreSQL executes exactly what was checked (no
//! comment, quoting or nesting trick can make the server see another statement). Finally no
//! function that reaches outside the statement may be called in it: functions that change the
//! session (`set_config`, which can also change the role back, advisory locks), run SQL given
//! as text (`query_to_xml`, `ts_stat`), talk to other sessions, processes or servers
//! (`pg_terminate_backend`, `dblink`), or touch server files and large objects.
//!
//! The role a plugin runs under bounds what its statements may touch; this gate bounds what
//! they may *do to the host*: its transaction, its session and everything beyond the database.

use sqlparser::ast::{ObjectType, Query, SetExpr, Statement};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

use super::Mode;

/// Functions no plugin statement may call, by exact name.
const DENIED_FUNCTIONS: &[&str] = &[
    // Session state: settings (the role among them) and notifications.
    "set_config",
    "pg_notify",
    // SQL given as text, which this gate never sees.
    "query_to_xml",
    "query_to_xmlschema",
    "query_to_xml_and_xmlschema",
    "cursor_to_xml",
    "cursor_to_xmlschema",
    "ts_stat",
    "ts_rewrite",
    // Other sessions and the server process.
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_promote",
    "pg_switch_wal",
    "pg_log_backend_memory_contexts",
    "pg_stat_file",
    // Large objects outside the lo_ prefix.
    "loread",
    "lowrite",
];

/// Functions no plugin statement may call, by name prefix.
const DENIED_PREFIXES: &[&str] = &[
    "pg_advisory_",
    "pg_try_advisory_",
    "dblink",
    "lo_",
    "pg_read_",
    "pg_ls_",
    "pg_file_",
    "pg_replication_",
    "pg_logical_",
    "pg_create_",
    "pg_drop_replication",
    "pg_stat_reset",
];

/// Why a statement was refused, for the plugin and the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

/// Checks `sql` for `mode`; returns the text to run (sqlparser's rendering of the statement).
pub fn check(sql: &str, mode: Mode) -> Result<String, Refusal> {
    let statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).map_err(|e| {
        Refusal(format!(
            "the statement cannot be parsed ({e}), and Confiture runs only plugin statements it \
             can check"
        ))
    })?;
    let statement = match statements.as_slice() {
        [one] => one,
        [] => return Err(Refusal("the statement is empty".into())),
        many => {
            return Err(Refusal(format!(
                "{} statements were sent in one call; send one statement per call",
                many.len()
            )));
        }
    };
    if needs(statement)? == Needs::Write && mode == Mode::ReadOnly {
        return Err(Refusal(
            "the statement writes, and the plugin is granted only `db-read`".into(),
        ));
    }
    let canonical = statement.to_string();
    if let Some(function) = denied_call(&canonical) {
        return Err(Refusal(format!(
            "the statement calls `{function}`, which reaches outside the statement (the \
             session, other sessions, SQL given as text, or the server); plugins may not call it"
        )));
    }
    Ok(canonical)
}

/// What a statement needs to be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    /// Reads only (`db-read` or `db-write`).
    Read,
    /// Writes (`db-write`).
    Write,
}

fn needs(statement: &Statement) -> Result<Needs, Refusal> {
    let refuse = |class: &str| Err(Refusal(format!("{class}; plugins may not run it")));
    match statement {
        Statement::Query(query) if selects_into(query) => {
            refuse("`SELECT ... INTO` creates a table (use `CREATE TABLE ... AS` with `db-write`)")
        }
        Statement::Query(_) | Statement::ShowVariable { .. } | Statement::ShowVariables { .. } => {
            Ok(Needs::Read)
        }
        Statement::Explain { statement, .. } => needs(statement),
        Statement::Insert(_)
        | Statement::Update(_)
        | Statement::Delete(_)
        | Statement::Merge(_)
        | Statement::Truncate(_)
        | Statement::CreateIndex(_)
        | Statement::AlterTable(_)
        | Statement::AlterIndex { .. }
        | Statement::AlterView(_)
        | Statement::Comment { .. }
        | Statement::CreateSchema { .. }
        | Statement::RefreshMaterializedView(_) => Ok(Needs::Write),
        Statement::CreateTable(table) if !table.temporary => Ok(Needs::Write),
        Statement::CreateView(view) if !view.temporary => Ok(Needs::Write),
        Statement::CreateSequence {
            temporary: false, ..
        } => Ok(Needs::Write),
        Statement::Drop {
            object_type:
                ObjectType::Table
                | ObjectType::View
                | ObjectType::MaterializedView
                | ObjectType::Index
                | ObjectType::Sequence
                | ObjectType::Schema,
            ..
        } => Ok(Needs::Write),
        Statement::CreateTable(_) | Statement::CreateView(_) | Statement::CreateSequence { .. } => {
            refuse("temporary objects outlive the call in the host's session")
        }
        Statement::StartTransaction { .. }
        | Statement::Commit { .. }
        | Statement::Rollback { .. }
        | Statement::Savepoint { .. }
        | Statement::ReleaseSavepoint { .. } => {
            refuse("transaction control belongs to the host (the transaction is the migration's)")
        }
        Statement::Copy { .. } => refuse("`COPY` reaches files, programs and the client stream"),
        Statement::Set(_) | Statement::Reset(_) => {
            refuse("`SET` and `RESET` change the host's session")
        }
        Statement::LISTEN { .. } | Statement::UNLISTEN { .. } | Statement::NOTIFY { .. } => {
            refuse("`LISTEN`, `UNLISTEN` and `NOTIFY` reach other sessions")
        }
        Statement::Prepare { .. } | Statement::Execute { .. } | Statement::Deallocate { .. } => {
            refuse("prepared statements outlive the call in the host's session")
        }
        Statement::Declare { .. } | Statement::Fetch { .. } | Statement::Close { .. } => {
            refuse("cursors outlive the statement in the host's session")
        }
        Statement::Call(_) => refuse("`CALL` runs procedures, which may control transactions"),
        Statement::Lock(_) | Statement::LockTables { .. } => {
            refuse("`LOCK` takes locks the migration would hold")
        }
        Statement::Discard { .. } => refuse("`DISCARD` resets the host's session"),
        _ => refuse(
            "this kind of statement is not one plugins may run (allowed: queries, `SHOW`, \
             `EXPLAIN`; with `db-write` also INSERT, UPDATE, DELETE, MERGE, TRUNCATE and DDL on \
             tables, views, indexes, sequences and schemas)",
        ),
    }
}

/// True when a query (or a set operation in it) is `SELECT ... INTO`.
fn selects_into(query: &Query) -> bool {
    fn body(expr: &SetExpr) -> bool {
        match expr {
            SetExpr::Select(select) => select.into.is_some(),
            SetExpr::Query(query) => selects_into(query),
            SetExpr::SetOperation { left, right, .. } => body(left) || body(right),
            _ => false,
        }
    }
    body(&query.body)
}

/// The first denied function `sql` calls: a name (unquoted or quoted, any case, schema-qualified
/// or not) followed by `(`.
fn denied_call(sql: &str) -> Option<String> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize().ok()?;
    let mut significant = tokens
        .iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .peekable();
    while let Some(token) = significant.next() {
        if let Token::Word(word) = token
            && matches!(significant.peek(), Some(Token::LParen))
        {
            let name = word.value.to_lowercase();
            if DENIED_FUNCTIONS.contains(&name.as_str())
                || DENIED_PREFIXES.iter().any(|p| name.starts_with(p))
            {
                return Some(name);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(sql: &str, mode: Mode) -> String {
        match check(sql, mode) {
            Ok(text) => panic!("`{sql}` was allowed as `{text}`"),
            Err(Refusal(why)) => why,
        }
    }

    #[test]
    fn reads_pass_and_run_as_rendered() {
        for sql in [
            "SELECT count(*) FROM users WHERE email IS NULL;",
            "select id, email from public.users where id = $1",
            "WITH t AS (SELECT 1 AS x) SELECT x FROM t",
            "VALUES (1), (2)",
            "SHOW server_version",
            "EXPLAIN SELECT * FROM users",
            "SELECT now(), current_setting('lock_timeout'), pg_sleep(0)",
        ] {
            let text = check(sql, Mode::ReadOnly).unwrap_or_else(|e| panic!("{sql}: {e:?}"));
            assert!(!text.ends_with(';'), "{text}");
        }
        assert_eq!(
            check("select  1 /* hi */ ;", Mode::ReadOnly).unwrap(),
            "SELECT 1"
        );
    }

    #[test]
    fn writes_need_db_write() {
        for sql in [
            "INSERT INTO audit VALUES ($1, now())",
            "UPDATE users SET email = lower(email)",
            "DELETE FROM users WHERE id = 1 RETURNING id",
            "TRUNCATE audit",
            "CREATE TABLE audit (id int)",
            "CREATE INDEX users_email ON users (email)",
            "ALTER TABLE users ADD COLUMN note text",
            "DROP TABLE audit",
            "COMMENT ON TABLE users IS 'people'",
            "EXPLAIN ANALYZE DELETE FROM users",
        ] {
            assert!(check(sql, Mode::Write).is_ok(), "{sql}");
            let why = refused(sql, Mode::ReadOnly);
            assert!(why.contains("only `db-read`"), "{sql}: {why}");
        }
    }

    #[test]
    fn transaction_control_and_session_statements_are_refused_under_every_grant() {
        let cases = [
            ("COMMIT", "transaction control"),
            ("ROLLBACK", "transaction control"),
            ("END", "transaction control"),
            ("BEGIN", "transaction control"),
            ("SAVEPOINT x", "transaction control"),
            ("RELEASE SAVEPOINT confiture_plugin", "transaction control"),
            (
                "ROLLBACK TO SAVEPOINT confiture_plugin",
                "transaction control",
            ),
            ("COPY users TO PROGRAM 'id'", "COPY"),
            ("COPY (SELECT 1) TO '/tmp/x'", "COPY"),
            ("SET ROLE postgres", "SET"),
            ("SET search_path = evil", "SET"),
            ("RESET ROLE", "SET"),
            ("LISTEN ch", "LISTEN"),
            ("NOTIFY ch", "LISTEN"),
            ("PREPARE p AS SELECT 1", "prepared"),
            ("EXECUTE p", "prepared"),
            ("DEALLOCATE ALL", "prepared"),
            ("CALL do_things()", "CALL"),
            ("LOCK TABLE users IN ACCESS EXCLUSIVE MODE", "LOCK"),
            ("DECLARE c CURSOR FOR SELECT 1", "cursors"),
            ("DISCARD ALL", "DISCARD"),
            ("CREATE TEMP TABLE t (x int)", "temporary"),
            ("SELECT 1 INTO TEMP t", "SELECT ... INTO"),
            (
                "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1'",
                "not one plugins",
            ),
            ("CREATE ROLE evil SUPERUSER", "not one plugins"),
            ("GRANT ALL ON users TO PUBLIC", "not one plugins"),
            ("ALTER SYSTEM SET fsync = off", ""),
            ("DO $$ BEGIN COMMIT; END $$", ""),
            ("SELECT 1; COMMIT", "2 statements"),
            ("", "empty"),
            ("SELEKT 1", "cannot be parsed"),
        ];
        for (sql, why) in cases {
            for mode in [Mode::ReadOnly, Mode::Write] {
                let got = refused(sql, mode);
                assert!(got.contains(why), "{sql} ({mode:?}): {got}");
            }
        }
    }

    #[test]
    fn functions_that_reach_outside_are_refused_however_spelled() {
        for sql in [
            "SELECT set_config('role', 'postgres', true)",
            "SELECT pg_catalog.set_config('role', 'postgres', true)",
            "SELECT \"set_config\"('role', 'postgres', true)",
            "SELECT PG_CATALOG.\"SET_CONFIG\" ('role', 'postgres', true)",
            "SELECT 1 WHERE EXISTS (SELECT * FROM set_config('role','postgres',true))",
            "SELECT pg_advisory_lock(1)",
            "SELECT pg_try_advisory_lock_shared(1)",
            "SELECT query_to_xml('select pg_read_file(''/etc/passwd'')', true, false, '')",
            "SELECT pg_read_file('/etc/passwd')",
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity",
            "SELECT * FROM dblink('dbname=x', 'select 1') AS t(x int)",
            "SELECT lo_import('/etc/passwd')",
            "SELECT pg_ls_dir('.')",
            "SELECT ts_stat('select 1')",
            "SELECT pg_notify('ch', 'x')",
        ] {
            let why = refused(sql, Mode::Write);
            assert!(why.contains("reaches outside"), "{sql}: {why}");
        }
        // A name in a string or a column of the same name is not a call.
        assert!(check("SELECT 'set_config(x)' AS set_config", Mode::ReadOnly).is_ok());
    }

    /// PostgreSQL nests block comments; sqlparser's rendering drops them, so what runs is what
    /// was checked.
    #[test]
    fn comment_tricks_run_what_was_checked() {
        let sql = "/* /* */ SELECT 1 --*/ COMMIT";
        match check(sql, Mode::ReadOnly) {
            Ok(text) => assert!(!text.to_uppercase().contains("COMMIT"), "{text}"),
            Err(Refusal(why)) => assert!(why.contains("transaction control"), "{why}"),
        }
        let text = check(
            "SELECT U&\"\\0073et_config\"('role', 'x', true)",
            Mode::Write,
        );
        if let Ok(text) = text {
            assert!(!text.contains("U&\""), "{text}");
        }
    }
}
