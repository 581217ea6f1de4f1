//! One consistent snapshot of the source, shared by every reading connection.

use std::sync::{Arc, Mutex};

use anyhow::Context;
use tokio_postgres::Client;

use crate::db::session::{self, READ_SETTINGS};
use crate::sync::connect::Connector;

/// A source connection: the connector's, with the read-only settings pinned too.
async fn connect(connector: &dyn Connector) -> anyhow::Result<Client> {
    let client = connector
        .connect()
        .await
        .context("connecting to the source")?;
    session::pin(&client, READ_SETTINGS).await?;
    Ok(client)
}

/// The coordinator connection: a `REPEATABLE READ, READ ONLY` transaction that exported its
/// snapshot. It must stay open while workers import the snapshot.
pub(crate) struct SourceSnapshot {
    client: Client,
    id: String,
}

impl SourceSnapshot {
    /// Opens the coordinator transaction and exports its snapshot.
    pub(crate) async fn begin(connector: &dyn Connector) -> anyhow::Result<SourceSnapshot> {
        let client = connect(connector).await?;
        client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .context("starting the source snapshot transaction")?;
        let id: String = client
            .query_one("SELECT pg_export_snapshot()", &[])
            .await
            .context("exporting the source snapshot")?
            .get(0);
        Ok(SourceSnapshot { client, id })
    }

    /// The coordinator connection, inside the snapshot.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// The exported snapshot's id.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }
}

/// Source connections that all read the exported snapshot; idle ones are reused.
pub(crate) struct SourcePool {
    connector: Arc<dyn Connector>,
    snapshot: String,
    idle: Mutex<Vec<Client>>,
}

impl SourcePool {
    /// A pool of connections importing `snapshot`.
    pub(crate) fn new(connector: Arc<dyn Connector>, snapshot: &str) -> SourcePool {
        SourcePool {
            connector,
            snapshot: snapshot.to_string(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// An idle connection, or a new one that imported the snapshot.
    pub(crate) async fn get(&self) -> anyhow::Result<Client> {
        if let Some(client) = self.idle.lock().expect("pool lock").pop() {
            return Ok(client);
        }
        let client = connect(self.connector.as_ref()).await?;
        let sql = format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '{}'",
            self.snapshot.replace('\'', "''")
        );
        client
            .batch_execute(&sql)
            .await
            .context("importing the source snapshot")?;
        Ok(client)
    }

    /// Gives back a connection that finished its work cleanly.
    pub(crate) fn put(&self, client: Client) {
        self.idle.lock().expect("pool lock").push(client);
    }
}
