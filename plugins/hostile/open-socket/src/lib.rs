//! Hostile test plugin `hostile-open-socket`: tries to connect to 127.0.0.1:5432. A hook on every
//! event and strategy `hostile_open_socket`; the hook fails with what it observed, the strategy
//! returns it as every value. The host's sandbox must contain it (see `plugins/hostile/README.md`).

/// What the plugin does in every call; its text is what it observed.
fn attempt() -> String {
    match std::net::TcpStream::connect("127.0.0.1:5432") {
        Ok(stream) => format!("connected to {:?}", stream.peer_addr()),
        Err(error) => format!("could not connect to 127.0.0.1:5432: {error}"),
    }
}

include!("../../common.rs");
hostile_plugin!(
    "hostile-open-socket",
    "hostile_open_socket",
    "tries to connect to 127.0.0.1:5432"
);

confiture_sdk::export_plugin!(Hostile: hook, strategy);
