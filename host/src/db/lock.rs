//! The session-level advisory locks that serialise migration runs on one database.
//!
//! A run holds two keys: Confiture's own, per tracking table (what every Confiture release
//! takes), and the upstream Python Confiture's, per database (what upstream takes), so a run of
//! either tool — and of older and newer Confiture during a rolling upgrade — excludes the others.
//!
//! The locks live on a dedicated connection that never opens a transaction, and are taken by
//! polling `pg_try_advisory_lock` with jittered exponential backoff. A migrator *blocked* in
//! `pg_advisory_lock()` would be a running query that `CREATE INDEX CONCURRENTLY` in the lock
//! holder waits for — a deadlock — so we never block inside the server. (Upstream does block:
//! while it waits for us, our `CREATE INDEX CONCURRENTLY` waits for it, until upstream's own
//! lock timeout ends its wait.)

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio_postgres::{Client, Statement};

use crate::db::{ConnectionSpec, activity};
use crate::error::{ExitCode, Failure};
use crate::output::Output;

/// How long to wait for the lock.
#[derive(Debug, Clone, Copy)]
pub enum LockWait {
    /// Fail at once when another run holds it.
    NoWait,
    /// Poll until this much time has passed.
    UpTo(Duration),
}

/// The advisory lock key for a tracking table: the first 8 bytes of
/// SHA-256(`confiture:migrations:<table>`), as a signed 64-bit integer.
pub fn lock_key(table: &str) -> i64 {
    let digest = Sha256::digest(format!("confiture:migrations:{table}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// The upstream Python Confiture's advisory lock namespace: the class of its
/// `pg_advisory_lock(namespace, id)` (a constant, the same for every database and table).
pub const UPSTREAM_LOCK_NAMESPACE: i32 = 1_751_936_052;

/// The upstream Python Confiture's lock id for a database: the first 4 bytes of
/// SHA-256(database name), big-endian, as a positive 31-bit integer.
pub fn upstream_lock_id(database: &str) -> i32 {
    let digest = Sha256::digest(database.as_bytes());
    let value = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) & 0x7fff_ffff;
    i32::try_from(value).expect("31 bits fit an i32")
}

/// One advisory lock key, as `pg_locks` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    /// Confiture's: `pg_advisory_lock(bigint)`.
    Own(i64),
    /// Upstream's: `pg_advisory_lock(int, int)`.
    Upstream(i32, i32),
}

impl Key {
    /// `(classid, objid, objsubid)` in `pg_locks`.
    fn in_pg_locks(self) -> (i64, i64, i16) {
        match self {
            Key::Own(key) => ((key >> 32) & 0xffff_ffff, key & 0xffff_ffff, 1),
            Key::Upstream(class, id) => (i64::from(class), i64::from(id), 2),
        }
    }

    async fn try_take(self, client: &Client) -> anyhow::Result<bool> {
        let row = match self {
            Key::Own(key) => {
                client
                    .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                    .await?
            }
            Key::Upstream(class, id) => {
                client
                    .query_one("SELECT pg_try_advisory_lock($1, $2)", &[&class, &id])
                    .await?
            }
        };
        Ok(row.get(0))
    }

    async fn release(self, client: &Client) -> anyhow::Result<()> {
        match self {
            Key::Own(key) => {
                client
                    .query_one("SELECT pg_advisory_unlock($1)", &[&key])
                    .await?
            }
            Key::Upstream(class, id) => {
                client
                    .query_one("SELECT pg_advisory_unlock($1, $2)", &[&class, &id])
                    .await?
            }
        };
        Ok(())
    }
}

/// A held migration lock (both keys). Released by [`MigrationLock::release`], or when the
/// process exits (the server drops session locks with the connection).
pub struct MigrationLock {
    client: Client,
    keys: Vec<Key>,
    table: String,
    /// The backend holding it.
    pid: i32,
    /// [`MigrationLock::verify`]'s query, prepared once on the lock's connection: planning
    /// the `pg_locks` query cost more than running it (pgbench: 0.37 ms a run unprepared,
    /// 0.16 ms prepared), and it runs before every migration.
    verify: Statement,
}

/// How long [`MigrationLock::verify`] waits for the server's answer.
const VERIFY_TIMEOUT: Duration = Duration::from_secs(30);

/// The run no longer holds its migration lock: another run may have taken it since.
#[derive(Debug)]
pub struct LockLost {
    /// The tracking table the lock is for.
    pub table: String,
    /// What happened to it.
    pub why: String,
}

impl std::fmt::Display for LockLost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the migration lock for `{}` was lost: {}; the run stopped so that no migration \
             runs unprotected (another run may have started since)",
            self.table, self.why
        )
    }
}

impl std::error::Error for LockLost {}

impl MigrationLock {
    /// Takes the lock for `table` on the database `spec` points at, waiting as `wait` says.
    ///
    /// While waiting, says once who holds the lock. Contention past the wait is exit code 6.
    pub async fn acquire(
        spec: &ConnectionSpec,
        table: &str,
        wait: LockWait,
        out: &Output,
    ) -> anyhow::Result<MigrationLock> {
        let client = spec.connect().await?;
        client
            .batch_execute(&format!(
                "SET application_name = '{}'",
                super::run::lock_application_name()
            ))
            .await?;
        let row = client
            .query_one(
                "SELECT current_database()::text, pg_catalog.pg_backend_pid()",
                &[],
            )
            .await?;
        let (database, pid): (String, i32) = (row.get(0), row.get(1));
        let keys = [
            Key::Own(lock_key(table)),
            Key::Upstream(UPSTREAM_LOCK_NAMESPACE, upstream_lock_id(&database)),
        ];
        let started = Instant::now();
        let mut delay = Duration::from_millis(50);
        let mut announced = false;
        let mut held = 0;
        loop {
            // In order: a run that holds Confiture's key waits for upstream's, never the
            // reverse, so two Confiture runs never each hold one key.
            while held < keys.len() && keys[held].try_take(&client).await? {
                held += 1;
            }
            if held == keys.len() {
                let verify = client.prepare(&held_count_sql(&keys)).await?;
                return Ok(MigrationLock {
                    client,
                    verify,
                    keys: keys.to_vec(),
                    table: table.to_string(),
                    pid,
                });
            }
            let holder = holder(&client, keys[held]).await?;
            let limit = match wait {
                LockWait::NoWait => Duration::ZERO,
                LockWait::UpTo(limit) => limit,
            };
            if started.elapsed() >= limit {
                for key in &keys[..held] {
                    key.release(&client).await?;
                }
                let waited = match wait {
                    LockWait::NoWait => "--no-wait was given".to_string(),
                    LockWait::UpTo(l) => format!("gave up after {}s", l.as_secs()),
                };
                return Err(Failure::new(
                    ExitCode::LockContention,
                    format!(
                        "another run holds the migration lock for `{table}` on {} ({holder}); {waited}",
                        spec.redacted()
                    ),
                )
                .hint("wait for that run to finish, or raise --lock-wait SECS")
                .into());
            }
            if !announced {
                out.warn(format!(
                    "waiting for the migration lock for `{table}`: held by {holder}"
                ));
                announced = true;
            }
            let remaining = limit.saturating_sub(started.elapsed());
            tokio::time::sleep(jitter(delay).min(remaining)).await;
            delay = (delay * 2).min(Duration::from_secs(2));
        }
    }

    /// Checks that the lock is still held: its connection is open and the server shows both
    /// keys granted to it. Asked before every migration starts: one prepared query (the keys are
    /// integers written into it), so that it costs one round trip on the lock's connection and
    /// can travel while the migration's connection opens its transaction.
    pub async fn verify(&self) -> Result<(), LockLost> {
        let lost = |why: String| LockLost {
            table: self.table.clone(),
            why,
        };
        if self.client.is_closed() {
            return Err(lost(self.closed()));
        }
        let query = self.client.query_one(&self.verify, &[]);
        match tokio::time::timeout(VERIFY_TIMEOUT, query).await {
            Ok(Ok(row)) if row.get::<_, i64>(0) == self.keys.len() as i64 => Ok(()),
            Ok(Ok(_)) => Err(lost(format!(
                "the server no longer shows it held by its connection (pid {}): something \
                 released it",
                self.pid
            ))),
            Ok(Err(_)) if self.client.is_closed() => Err(lost(self.closed())),
            Ok(Err(err)) => Err(lost(format!(
                "checking it on its connection (pid {}) failed: {}",
                self.pid,
                crate::error::describe(&err)
            ))),
            Err(_) => Err(lost(format!(
                "its connection (pid {}) did not answer within {} s",
                self.pid,
                VERIFY_TIMEOUT.as_secs()
            ))),
        }
    }

    /// True when the server, asked on the lock's connection, reports the transaction `txid`
    /// (of another session) rolled back. False when it cannot say (its connection is gone too).
    pub async fn rolled_back(&self, txid: i64) -> bool {
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&txid];
        let asked = self
            .client
            .query_one("SELECT pg_catalog.txid_status($1)::text", &params);
        match tokio::time::timeout(VERIFY_TIMEOUT, asked).await {
            Ok(Ok(row)) => row.get::<_, Option<String>>(0).as_deref() == Some("aborted"),
            _ => false,
        }
    }

    /// The sessions blocking this run's connections that wait for a lock (see
    /// [`activity::blocking_run`]), asked on the lock's connection; none when it cannot say.
    pub async fn blocking_this_run(&self) -> Vec<activity::Backend> {
        let application = super::run::application_name();
        let asked = activity::blocking_run(&self.client, &application);
        match tokio::time::timeout(VERIFY_TIMEOUT, asked).await {
            Ok(Ok(backends)) => backends,
            _ => Vec::new(),
        }
    }

    /// Why the lock is gone when its connection closed.
    fn closed(&self) -> String {
        format!(
            "its connection (pid {}) was closed — by the server (a DBA's pg_terminate_backend, \
             a restart) or by the network — and PostgreSQL released the lock with it",
            self.pid
        )
    }

    /// Releases the lock and closes its connection. Never fails the run: when the connection
    /// is already gone, the server released the lock with it, and closing the connection
    /// releases it in any case.
    pub async fn release(self) {
        for key in self.keys.iter().rev() {
            if key.release(&self.client).await.is_err() {
                break;
            }
        }
    }
}

/// How many of `keys` the server shows granted to the session that asks.
fn held_count_sql(keys: &[Key]) -> String {
    let held: Vec<String> = keys
        .iter()
        .map(|key| {
            let (class, object, sub) = key.in_pg_locks();
            format!("(classid::bigint = {class} AND objid::bigint = {object} AND objsubid = {sub})")
        })
        .collect();
    format!(
        "SELECT pg_catalog.count(*) FROM pg_catalog.pg_locks \
         WHERE locktype = 'advisory' AND granted AND pid = pg_catalog.pg_backend_pid() \
           AND ({})",
        held.join(" OR ")
    )
}

/// Who holds the advisory lock `key` — pid, application, role, since when — and, when it is
/// a Confiture run's, what that run's other sessions are running (first line, no values).
async fn holder(client: &Client, key: Key) -> anyhow::Result<String> {
    let (class, object, sub) = key.in_pg_locks();
    let row = client
        .query_opt(
            "SELECT a.pid, coalesce(nullif(a.application_name, ''), '?'), \
                    to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"'), \
                    coalesce(a.usename::text, '?') \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.database = \
                   (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.objsubid = $3 \
             LIMIT 1",
            &[&class, &object, &sub],
        )
        .await?;
    let Some(row) = row else {
        return Ok("a session that just released it".to_string());
    };
    let application: String = row.get(1);
    let mut text = format!(
        "pid {} ({}, role {}) connected since {}",
        row.get::<_, i32>(0),
        crate::text::neutralise(&application),
        row.get::<_, String>(3),
        row.get::<_, Option<String>>(2)
            .unwrap_or_else(|| "?".into())
    );
    if let Some(run) = super::run::run_of(&application) {
        let busy = activity::busy_in_run(client, run).await?;
        if busy.is_empty() {
            text.push_str("; its run has no statement running");
        }
        for backend in busy {
            text.push_str(&format!("; its run is running on {backend}"));
        }
    }
    Ok(text)
}

/// `delay` scaled by a pseudo-random factor in [0.5, 1.5), so that waiters spread out.
fn jitter(delay: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let seed = u64::from(nanos) ^ (u64::from(std::process::id()) << 20);
    let fraction = (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) as f64 / (1u64 << 53) as f64;
    delay.mul_f64(0.5 + fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_key_is_upstreams() {
        // Upstream: int.from_bytes(sha256(name)[:4], "big") & 0x7FFFFFFF, in namespace
        // 1751936052 (values computed with Python's hashlib).
        assert_eq!(upstream_lock_id("postgres"), 692_237_180);
        assert!(upstream_lock_id("app") >= 0);
        assert_ne!(upstream_lock_id("app"), upstream_lock_id("app2"));
        assert_eq!(Key::Upstream(7, 9).in_pg_locks(), (7, 9, 2));
        assert_eq!(Key::Own(-2).in_pg_locks(), (0xffff_ffff, 0xffff_fffe, 1));
    }

    #[test]
    fn key_is_stable_and_depends_on_the_table() {
        assert_eq!(lock_key("tb_confiture"), lock_key("tb_confiture"));
        assert_ne!(lock_key("tb_confiture"), lock_key("ops.tb_confiture"));
    }

    #[test]
    fn jitter_stays_within_half_to_one_and_a_half() {
        for _ in 0..100 {
            let d = jitter(Duration::from_millis(100));
            assert!(d >= Duration::from_millis(50) && d < Duration::from_millis(150));
        }
    }
}
