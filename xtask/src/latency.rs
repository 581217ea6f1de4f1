//! A TCP relay on 127.0.0.1 that holds every chunk for a fixed delay in each direction, in
//! order: what a network between a client and a local PostgreSQL adds to each round trip. The
//! benchmarks use it to measure a tool as it runs against a server on another machine. Plain
//! threads: a thread's sleep is precise to tens of microseconds, where tokio's timer rounds up
//! to whole milliseconds.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;

/// A running relay; it stops with the process.
pub struct Relay {
    /// The port clients connect to.
    pub port: u16,
}

impl Relay {
    /// Starts a relay to `127.0.0.1:target` that adds `round_trip` to every round trip (half
    /// of it each way).
    pub fn start(target: u16, round_trip: Duration) -> anyhow::Result<Relay> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).context("binding the relay")?;
        let port = listener.local_addr()?.port();
        let delay = round_trip / 2;
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if let Ok(server) = TcpStream::connect(("127.0.0.1", target)) {
                    relay(client, server, delay);
                }
            }
        });
        Ok(Relay { port })
    }
}

/// Relays between `client` and `server`, `delay` each way, on threads of their own.
fn relay(client: TcpStream, server: TcpStream, delay: Duration) {
    for (from, to) in [(&client, &server), (&server, &client)] {
        let pair = (from.try_clone(), to.try_clone());
        if let (Ok(from), Ok(to)) = pair {
            let _ = (from.set_nodelay(true), to.set_nodelay(true));
            delayed(from, to, delay);
        }
    }
}

/// Copies `from` to `to`, each chunk written `delay` after it was read.
fn delayed(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
    let (sender, receiver) = mpsc::channel::<(Instant, Vec<u8>)>();
    std::thread::spawn(move || {
        let mut buffer = vec![0; 64 * 1024];
        while let Ok(n @ 1..) = from.read(&mut buffer) {
            if sender
                .send((Instant::now() + delay, buffer[..n].to_vec()))
                .is_err()
            {
                break;
            }
        }
    });
    std::thread::spawn(move || {
        while let Ok((due, chunk)) = receiver.recv() {
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            if to.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}
