//! Opening connections to the source and the target.

use std::future::Future;
use std::pin::Pin;

use tokio_postgres::Client;

use crate::db::connect::ConnectionSpec;
use crate::db::session::{self, DATA_SETTINGS};

/// Opens a new connection to one database; workers open one each.
pub trait Connector: Send + Sync {
    /// A new connection, its connection task already spawned.
    fn connect(&self) -> Pin<Box<dyn Future<Output = anyhow::Result<Client>> + Send + '_>>;
}

/// The project's connections: TCP or Unix socket, with TLS as the settings ask, and the
/// settings that change how values are printed and parsed pinned as pg_dump pins them.
impl Connector for ConnectionSpec {
    fn connect(&self) -> Pin<Box<dyn Future<Output = anyhow::Result<Client>> + Send + '_>> {
        Box::pin(async move {
            let client = ConnectionSpec::connect(self).await?;
            session::pin(&client, DATA_SETTINGS).await?;
            Ok(client)
        })
    }
}
