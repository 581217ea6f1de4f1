//! Which database a connection reaches, by the server's identity rather than by the spelling
//! of its URL: `localhost` and `127.0.0.1`, a socket, `?sslmode=...` all reach the same one.

use anyhow::Context;
use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use crate::error::Failure;

/// A database as the server identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseIdentity {
    /// `system_identifier` of the cluster (shared by its physical replicas), when the role
    /// may read it.
    pub system_identifier: Option<i64>,
    /// The database's oid and name.
    pub database: (u32, String),
    /// This session's backend: process id and start time (to find it from another session).
    backend: (i32, String),
}

impl DatabaseIdentity {
    /// The identity of the database `client` is connected to.
    pub async fn of(client: &Client) -> anyhow::Result<DatabaseIdentity> {
        let row = client
            .query_one(
                "SELECT d.oid, d.datname::text, pg_catalog.pg_backend_pid(), \
                        a.backend_start::text \
                 FROM pg_catalog.pg_database d, pg_catalog.pg_stat_activity a \
                 WHERE d.datname = pg_catalog.current_database() \
                   AND a.pid = pg_catalog.pg_backend_pid()",
                &[],
            )
            .await
            .context("reading which database this is")?;
        // pg_control_system() may be revoked from ordinary roles: then the backend probe decides.
        let system_identifier = client
            .query_one(
                "SELECT system_identifier FROM pg_catalog.pg_control_system()",
                &[],
            )
            .await
            .ok()
            .map(|row| row.get(0));
        Ok(DatabaseIdentity {
            system_identifier,
            database: (row.get(0), row.get(1)),
            backend: (
                row.get(2),
                row.get::<_, Option<String>>(3).unwrap_or_default(),
            ),
        })
    }

    /// A digest of the identity (cluster and database), for checkpoints.
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.system_identifier.unwrap_or(0).to_le_bytes());
        hasher.update(self.database.0.to_le_bytes());
        hasher.update(self.database.1.as_bytes());
        format!("{:x}", hasher.finalize())
    }
}

/// Refuses a sync whose source and target are one database: by `system_identifier` and
/// database when both are known, else by finding the source's session from the target's.
pub async fn refuse_same_database(
    source: &DatabaseIdentity,
    target: &DatabaseIdentity,
    target_client: &Client,
) -> anyhow::Result<()> {
    let same = match (source.system_identifier, target.system_identifier) {
        (Some(a), Some(b)) => a == b && source.database.1 == target.database.1,
        _ => target_client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity \
                 WHERE pid = $1 AND backend_start::text = $2 \
                   AND datname = pg_catalog.current_database())",
                &[&source.backend.0, &source.backend.1],
            )
            .await
            .context("checking that the target is not the source")?
            .get(0),
    };
    if same {
        return Err(Failure::config(format!(
            "--from and --to are the same database (`{}` on the same server)",
            source.database.1
        ))
        .hint("sync copies one database into another; name two different ones")
        .into());
    }
    Ok(())
}
