//! Opening connections to the source and the target.

use std::future::Future;
use std::pin::Pin;

use tokio_postgres::Client;

use crate::db::connect::ConnectionSpec;

/// Opens a new connection to one database; workers open one each.
pub trait Connector: Send + Sync {
    /// A new connection, its connection task already spawned.
    fn connect(&self) -> Pin<Box<dyn Future<Output = anyhow::Result<Client>> + Send + '_>>;
}

/// The project's connections: TCP or Unix socket, with TLS as the settings ask.
impl Connector for ConnectionSpec {
    fn connect(&self) -> Pin<Box<dyn Future<Output = anyhow::Result<Client>> + Send + '_>> {
        Box::pin(ConnectionSpec::connect(self))
    }
}
