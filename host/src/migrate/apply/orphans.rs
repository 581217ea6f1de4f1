//! Before the first unit runs: statements that other Confiture runs left running on the server.
//!
//! A run killed with `kill -9` (or whose machine died) releases its migration lock with its
//! connections, but PostgreSQL keeps running the statement it was executing until that
//! statement ends — holding its locks, in a transaction that will roll back. Such a session
//! (a Confiture `application_name` of another run, not idle, its run holding no lock) is named
//! with the command that stops it. When it holds a lock on a table a unit of this run names,
//! the run refuses before anything runs (exit 6, as for a lock another run holds): it would
//! otherwise wait on that lock and fail on `lock_timeout` half-way through. Otherwise the run
//! goes on, with a warning.

use anyhow::Context as _;
use tokio_postgres::Client;

use super::Unit;
use crate::db::activity::{self, Backend};
use crate::error::{ExitCode, Failure};
use crate::output::Output;
use crate::sql::inspect::has_keyword;

/// Warns about each orphaned statement, and refuses (exit 6) when one holds a lock on a table
/// that `units` name.
pub(super) async fn check(client: &Client, units: &[Unit<'_>], out: &Output) -> anyhow::Result<()> {
    let orphans = activity::orphans(client)
        .await
        .context("looking for statements left running by earlier Confiture runs")?;
    let mut conflicts = Vec::new();
    for orphan in &orphans {
        let locks = activity::relation_locks(client, orphan.pid)
            .await
            .context("reading the locks of a statement left running by another run")?;
        let contested: Vec<String> = locks
            .iter()
            .filter_map(|(relation, mode)| {
                let users: Vec<String> = units
                    .iter()
                    .filter(|u| has_keyword(u.sql, relation))
                    .map(Unit::slug)
                    .collect();
                (!users.is_empty())
                    .then(|| format!("{relation} ({mode}, used by {})", users.join(", ")))
            })
            .collect();
        if contested.is_empty() {
            out.warn(format!(
                "{}; it holds no lock on a table this run uses, so the run goes on; to stop it: {}",
                left_running(orphan),
                orphan.stop_commands()
            ));
        } else {
            conflicts.push((orphan, contested));
        }
    }
    if conflicts.is_empty() {
        return Ok(());
    }
    let described: Vec<String> = conflicts
        .iter()
        .map(|(orphan, contested)| {
            format!(
                "{}; it holds locks on {}",
                left_running(orphan),
                contested.join(", ")
            )
        })
        .collect();
    let stops: Vec<String> = conflicts.iter().map(|(o, _)| o.stop_commands()).collect();
    Err(Failure::new(
        ExitCode::LockContention,
        format!(
            "{}; nothing was run: this run would wait on those locks",
            described.join("; ")
        ),
    )
    .hint(format!(
        "wait for it to end (its transaction rolls back when its statement ends), or stop it \
         now: {}",
        stops.join(" ")
    ))
    .into())
}

/// What an orphaned session is, in words.
fn left_running(orphan: &Backend) -> String {
    format!(
        "a statement of another Confiture run (run {}) is still running on the server, and that \
         run holds no migration lock (a run killed mid-statement leaves its statement running): \
         {orphan}",
        orphan.run().unwrap_or("?")
    )
}
