//! Hostile test plugin `hostile-read-env`: tries to read environment variables. A hook on every
//! event and strategy `hostile_read_env`; the hook fails with what it observed, the strategy
//! returns it as every value. The host's sandbox must contain it (see `plugins/hostile/README.md`).

/// What the plugin does in every call; its text is what it observed.
fn attempt() -> String {
    let home = match std::env::var("HOME") {
        Ok(home) => format!("HOME={home}"),
        Err(error) => format!("no HOME: {error}"),
    };
    let all: Vec<String> = std::env::vars()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    let args: Vec<String> = std::env::args().collect();
    format!(
        "{home}; {} variables [{}]; {} arguments",
        all.len(),
        all.join(", "),
        args.len()
    )
}

include!("../../common.rs");
hostile_plugin!(
    "hostile-read-env",
    "hostile_read_env",
    "tries to read environment variables"
);

confiture_sdk::export_plugin!(Hostile: hook, strategy);
