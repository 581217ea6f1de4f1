//! Hostile test plugin `hostile-table-bomb`: a hook on every event and strategy
//! `hostile_table_bomb` whose code is harmless; `cargo xtask build-plugins` adds 99 tables of a
//! million entries each (about 800 MB) to the component's main module, so that every instance
//! asks for them when it starts (see `plugins/hostile/README.md`). The memory cap must refuse
//! them before any of this code runs.

/// What every call reports: only an instance whose tables were allocated gets here.
fn attempt() -> String {
    "hostile-table-bomb ran: its tables were allocated".to_string()
}

include!("../../common.rs");
hostile_plugin!(
    "hostile-table-bomb",
    "hostile_table_bomb",
    "declares 99 tables of a million entries each"
);

confiture_sdk::export_plugin!(Hostile: hook, strategy);
