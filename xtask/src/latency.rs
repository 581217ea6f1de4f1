//! A TCP relay on 127.0.0.1 that holds every chunk for a fixed delay in each direction, in
//! order: what a network between a client and a local PostgreSQL adds to each round trip. The
//! benchmarks use it to measure a tool as it runs against a server on another machine.

use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// A running relay; it stops with the process (its runtime runs on a thread of its own).
pub struct Relay {
    /// The port clients connect to.
    pub port: u16,
}

impl Relay {
    /// Starts a relay to `127.0.0.1:target` that adds `round_trip` to every round trip (half
    /// of it each way).
    pub fn start(target: u16, round_trip: Duration) -> anyhow::Result<Relay> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the relay's runtime")?;
        let listener = runtime
            .block_on(TcpListener::bind(("127.0.0.1", 0)))
            .context("binding the relay")?;
        let port = listener.local_addr()?.port();
        std::thread::spawn(move || runtime.block_on(serve(listener, target, round_trip / 2)));
        Ok(Relay { port })
    }
}

/// Accepts connections and relays each to `target`, `delay` each way.
async fn serve(listener: TcpListener, target: u16, delay: Duration) {
    while let Ok((client, _)) = listener.accept().await {
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(("127.0.0.1", target)).await else {
                return;
            };
            let _ = (client.set_nodelay(true), server.set_nodelay(true));
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            tokio::join!(
                delayed(client_read, server_write, delay),
                delayed(server_read, client_write, delay)
            );
        });
    }
}

/// Copies `from` to `to`, each chunk written `delay` after it was read.
async fn delayed(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
) {
    let (sender, mut receiver) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reading = async move {
        let mut buffer = vec![0; 64 * 1024];
        while let Ok(n @ 1..) = from.read(&mut buffer).await {
            if sender
                .send((Instant::now() + delay, buffer[..n].to_vec()))
                .is_err()
            {
                break;
            }
        }
    };
    let writing = async move {
        while let Some((due, chunk)) = receiver.recv().await {
            tokio::time::sleep_until(due).await;
            if to.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reading, writing);
}
