//! Hostile test plugin `hostile-read-file`: tries to read /etc/passwd. A hook on every event and
//! strategy `hostile_read_file`; the hook fails with what it observed, the strategy returns it as
//! every value. The host's sandbox must contain it (see `plugins/hostile/README.md`).

/// What the plugin does in every call; its text is what it observed.
fn attempt() -> String {
    match std::fs::read("/etc/passwd") {
        Ok(bytes) => format!("read /etc/passwd: {}", String::from_utf8_lossy(&bytes)),
        Err(error) => format!("could not read /etc/passwd: {error}"),
    }
}

include!("../../common.rs");
hostile_plugin!(
    "hostile-read-file",
    "hostile_read_file",
    "tries to read /etc/passwd"
);

confiture_sdk::export_plugin!(Hostile: hook, strategy);
