//! The session-level advisory lock that serialises migration runs on one database.
//!
//! The lock lives on a dedicated connection that never opens a transaction, and is taken by
//! polling `pg_try_advisory_lock` with jittered exponential backoff. A migrator *blocked* in
//! `pg_advisory_lock()` would be a running query that `CREATE INDEX CONCURRENTLY` in the lock
//! holder waits for — a deadlock — so we never block inside the server.

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use crate::db::ConnectionSpec;
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

/// A held migration lock. Released by [`MigrationLock::release`], or when the process exits
/// (the server drops session locks with the connection).
pub struct MigrationLock {
    client: Client,
    key: i64,
}

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
            .batch_execute("SET application_name = 'confiture migrate'")
            .await?;
        let key = lock_key(table);
        let started = Instant::now();
        let mut delay = Duration::from_millis(50);
        let mut announced = false;
        loop {
            let row = client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                .await?;
            if row.get::<_, bool>(0) {
                return Ok(MigrationLock { client, key });
            }
            let holder = holder(&client, key).await?;
            let limit = match wait {
                LockWait::NoWait => Duration::ZERO,
                LockWait::UpTo(limit) => limit,
            };
            if started.elapsed() >= limit {
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

    /// Releases the lock and closes its connection.
    pub async fn release(self) -> anyhow::Result<()> {
        self.client
            .query_one("SELECT pg_advisory_unlock($1)", &[&self.key])
            .await?;
        Ok(())
    }
}

/// Who holds the advisory lock `key`: pid, application name and since when.
async fn holder(client: &Client, key: i64) -> anyhow::Result<String> {
    let row = client
        .query_opt(
            "SELECT a.pid, coalesce(nullif(a.application_name, ''), '?'), \
                    to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ'), coalesce(a.usename::text, '?') \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.database = \
                   (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND l.classid::bigint = (($1::bigint >> 32) & 4294967295) \
               AND l.objid::bigint = ($1::bigint & 4294967295) AND l.objsubid = 1 \
             LIMIT 1",
            &[&key],
        )
        .await?;
    Ok(match row {
        Some(row) => format!(
            "pid {} ({}, role {}) connected since {}",
            row.get::<_, i32>(0),
            row.get::<_, String>(1),
            row.get::<_, String>(3),
            row.get::<_, Option<String>>(2)
                .unwrap_or_else(|| "?".into())
        ),
        None => "a session that just released it".to_string(),
    })
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
