//! Other sessions on the server, as `pg_stat_activity` and `pg_locks` show them: the backends
//! of other Confiture runs (a run killed with `kill -9` leaves its statement running on the
//! server), who blocks a session, and how to describe one to an operator — pid, application,
//! role, state, since when, and the first line of its statement with every literal value
//! replaced by `?` (no production value reaches an error or a log).

use std::fmt;

use tokio_postgres::Client;

use super::run;

/// The longest statement excerpt shown, in characters.
const EXCERPT_CHARS: usize = 100;

/// The columns [`Backend::from_row`] reads, from `pg_stat_activity a`.
const BACKEND_COLUMNS: &str = "a.pid, coalesce(a.application_name, ''), \
     coalesce(a.usename::text, '?'), coalesce(a.state, '?'), \
     to_char(coalesce(a.query_start, a.backend_start) AT TIME ZONE 'UTC', \
             'YYYY-MM-DD HH24:MI:SS \"UTC\"'), \
     coalesce(extract(epoch FROM now() - coalesce(a.query_start, a.backend_start)), 0)::bigint, \
     coalesce(a.query, '')";

/// One server session, described without the values its statement carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    /// Its process id (what `pg_cancel_backend` takes).
    pub pid: i32,
    /// Its `application_name`.
    pub application: String,
    /// Its role.
    pub role: String,
    /// `active`, `idle in transaction`, ...
    pub state: String,
    /// When its current (or last) statement started, UTC.
    pub since: String,
    /// Seconds since then.
    pub seconds: i64,
    /// The first line of its statement, literals replaced by `?` (see [`excerpt`]).
    pub query: String,
}

impl Backend {
    fn from_row(row: &tokio_postgres::Row) -> Self {
        Backend {
            pid: row.get(0),
            application: row.get(1),
            role: row.get(2),
            state: row.get(3),
            since: row.get::<_, Option<String>>(4).unwrap_or_default(),
            seconds: row.get(5),
            query: excerpt(row.get::<_, &str>(6)),
        }
    }

    /// The Confiture run it belongs to, when its `application_name` names one.
    pub fn run(&self) -> Option<&str> {
        run::run_of(&self.application)
    }

    /// The statements an operator runs to stop it: cancel its statement (its transaction
    /// rolls back), or end its session.
    pub fn stop_commands(&self) -> String {
        format!(
            "SELECT pg_cancel_backend({pid}); -- or, if it does not stop: SELECT \
             pg_terminate_backend({pid});",
            pid = self.pid
        )
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let application = if self.application.is_empty() {
            "no application name"
        } else {
            &self.application
        };
        write!(
            f,
            "pid {} ({}, role {}), {} since {} ({} s)",
            self.pid,
            crate::text::neutralise(application),
            self.role,
            self.state,
            self.since,
            self.seconds
        )?;
        if !self.query.is_empty() {
            write!(f, ": `{}`", self.query)?;
        }
        Ok(())
    }
}

/// A session of another Confiture run that is not idle while its run holds no migration lock
/// (no `confiture <id> lock` connection is open): a statement left running by a run that
/// died, or by a run that never takes the lock.
pub async fn orphans(client: &Client) -> Result<Vec<Backend>, tokio_postgres::Error> {
    let rows = client
        .query(
            &format!(
                "SELECT {BACKEND_COLUMNS} FROM pg_catalog.pg_stat_activity a \
                 WHERE a.datname = pg_catalog.current_database() \
                   AND a.pid <> pg_catalog.pg_backend_pid() \
                   AND a.application_name LIKE 'confiture %' \
                 ORDER BY a.pid"
            ),
            &[],
        )
        .await?;
    let backends: Vec<Backend> = rows.iter().map(Backend::from_row).collect();
    let own = run::run_id();
    let locked: Vec<&str> = backends
        .iter()
        .filter(|b| b.application.ends_with(" lock"))
        .filter_map(Backend::run)
        .collect();
    Ok(backends
        .iter()
        .filter(|b| b.run().is_some_and(|r| r != own && !locked.contains(&r)))
        .filter(|b| b.state != "idle")
        .cloned()
        .collect())
}

/// The relations `pid` holds locks on in this database: `(relation, lock mode)`.
pub async fn relation_locks(
    client: &Client,
    pid: i32,
) -> Result<Vec<(String, String)>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT c.relname::text, l.mode FROM pg_catalog.pg_locks l \
             JOIN pg_catalog.pg_class c ON c.oid = l.relation \
             WHERE l.locktype = 'relation' AND l.granted AND l.pid = $1 \
               AND l.database = (SELECT oid FROM pg_catalog.pg_database \
                                 WHERE datname = pg_catalog.current_database()) \
               AND c.relnamespace <> 'pg_catalog'::regnamespace \
             ORDER BY 1, 2",
            &[&pid],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// The sessions of the Confiture run `run` (its `application_name` is `confiture <run>`,
/// its lock's connection left out) that are not idle.
pub async fn busy_in_run(
    client: &Client,
    run: &str,
) -> Result<Vec<Backend>, tokio_postgres::Error> {
    let name = format!("{}{run}", run::PREFIX);
    let rows = client
        .query(
            &format!(
                "SELECT {BACKEND_COLUMNS} FROM pg_catalog.pg_stat_activity a \
                 WHERE a.application_name = $1 AND a.state IS DISTINCT FROM 'idle' \
                 ORDER BY a.pid"
            ),
            &[&name],
        )
        .await?;
    Ok(rows.iter().map(Backend::from_row).collect())
}

/// The sessions that block (`pg_blocking_pids`) the sessions named `application` that wait
/// for a lock, described.
pub async fn blocking_run(
    client: &Client,
    application: &str,
) -> Result<Vec<Backend>, tokio_postgres::Error> {
    let rows = client
        .query(
            &format!(
                "SELECT {BACKEND_COLUMNS} FROM pg_catalog.pg_stat_activity a \
                 WHERE a.pid IN (SELECT pg_catalog.unnest(pg_catalog.pg_blocking_pids(w.pid)) \
                                 FROM pg_catalog.pg_stat_activity w \
                                 WHERE w.application_name = $1 AND w.wait_event_type = 'Lock') \
                 ORDER BY a.pid"
            ),
            &[&application],
        )
        .await?;
    Ok(rows.iter().map(Backend::from_row).collect())
}

/// The first line of `query` that holds SQL, every literal value (quoted string, dollar-quoted
/// string, number) replaced by `?`, comments dropped, cut at [`EXCERPT_CHARS`] characters and
/// made safe to print.
pub fn excerpt(query: &str) -> String {
    let shape = without_literals(query);
    let line = shape
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let mut cut: String = line.chars().take(EXCERPT_CHARS).collect();
    if line.chars().count() > EXCERPT_CHARS {
        cut.push('…');
    }
    crate::text::neutralise(&cut).into_owned()
}

/// `query` with each literal replaced by `?` and comments removed (their newlines kept).
fn without_literals(query: &str) -> String {
    let chars: Vec<char> = query.chars().collect();
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let mut out = String::with_capacity(query.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let after_ident = i > 0 && ident(chars[i - 1]);
        match c {
            '\'' => {
                // A prefix letter (E'', B'', X'', N'') is part of the literal.
                let escapes = out.ends_with(['E', 'e']);
                if out.ends_with(['E', 'e', 'B', 'b', 'X', 'x', 'N', 'n'])
                    && !out[..out.len() - 1].ends_with(ident)
                {
                    out.pop();
                }
                i += 1;
                while i < chars.len() {
                    match chars[i] {
                        '\\' if escapes => i += 2,
                        '\'' if chars.get(i + 1) == Some(&'\'') => i += 2,
                        '\'' => break,
                        _ => i += 1,
                    }
                }
                out.push('?');
                i += 1;
            }
            '"' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&d| d == '"')
                    .map_or(chars.len(), |p| i + 2 + p);
                out.extend(&chars[i..end]);
                i = end;
            }
            '$' if !after_ident => {
                let tag_end = chars[i + 1..]
                    .iter()
                    .position(|&d| !(d.is_alphanumeric() || d == '_'))
                    .map(|p| i + 1 + p);
                let starts_with_digit = chars.get(i + 1).is_some_and(char::is_ascii_digit);
                match tag_end {
                    Some(end) if chars[end] == '$' && !starts_with_digit => {
                        let tag: String = chars[i..=end].iter().collect();
                        let body: String = chars[end + 1..].iter().collect();
                        let close = body.find(&tag).map_or(chars.len(), |at| {
                            end + 1 + body[..at].chars().count() + tag.chars().count()
                        });
                        out.push('?');
                        i = close;
                    }
                    _ => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                let mut depth = 0;
                while i < chars.len() {
                    if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                        depth += 1;
                        i += 2;
                    } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        if chars[i] == '\n' {
                            out.push('\n');
                        }
                        i += 1;
                    }
                }
            }
            c if c.is_ascii_digit() && !after_ident => {
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '_')
                {
                    i += 1;
                }
                out.push('?');
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_values_never_show() {
        assert_eq!(
            excerpt("UPDATE users SET email = 'ana@example.org', age = 42 WHERE id = 7"),
            "UPDATE users SET email = ?, age = ? WHERE id = ?"
        );
        assert_eq!(
            excerpt("SELECT E'sec\\'ret', X'ff', 'it''s', $$body$$, $t$x$t$, 1.5e3"),
            "SELECT ?, ?, ?, ?, ?, ?"
        );
        assert_eq!(excerpt("SELECT pg_sleep(60)"), "SELECT pg_sleep(?)");
        // Identifiers, quoted identifiers and parameters stay.
        assert_eq!(
            excerpt("SELECT \"Col 1\", t2.c3 FROM t2 WHERE a = $1"),
            "SELECT \"Col 1\", t2.c3 FROM t2 WHERE a = $1"
        );
    }

    #[test]
    fn the_first_line_with_sql_is_shown_cut_and_safe() {
        assert_eq!(
            excerpt("-- secret 'x'\n/* note\n 5 */\n  ALTER TABLE users\n  ADD COLUMN x int"),
            "ALTER TABLE users"
        );
        assert_eq!(
            excerpt("INSERT INTO t VALUES ('multi\nline secret')\n"),
            "INSERT INTO t VALUES (?)"
        );
        let long = format!("SELECT {}", "a, ".repeat(60));
        assert_eq!(excerpt(&long).chars().count(), EXCERPT_CHARS + 1);
        assert!(excerpt(&long).ends_with('…'));
        // Control characters are escaped (the digit reads as a value).
        assert_eq!(excerpt("SELECT \u{1b}[2J"), "SELECT \\x1b[?");
        assert_eq!(excerpt(""), "");
        // An unterminated literal hides everything after it.
        assert_eq!(excerpt("SELECT 'never closed secret"), "SELECT ?");
    }

    #[test]
    fn stop_commands_name_the_pid() {
        let backend = Backend {
            pid: 4321,
            application: "confiture 0a1b2c3d".into(),
            role: "app".into(),
            state: "active".into(),
            since: "2026-12-06 23:50:01 UTC".into(),
            seconds: 12,
            query: "SELECT pg_sleep(?)".into(),
        };
        assert_eq!(backend.run(), Some("0a1b2c3d"));
        assert!(
            backend
                .stop_commands()
                .starts_with("SELECT pg_cancel_backend(4321);")
        );
        assert_eq!(
            backend.to_string(),
            "pid 4321 (confiture 0a1b2c3d, role app), active since 2026-12-06 23:50:01 UTC \
             (12 s): `SELECT pg_sleep(?)`"
        );
    }
}
