//! Hostile test plugin `hostile-endless-loop`: loops forever. A hook on every event and strategy
//! `hostile_endless_loop`; the hook fails with what it observed, the strategy returns it as every
//! value. The host's sandbox must contain it (see `plugins/hostile/README.md`).

/// What the plugin does in every call; its text is what it observed.
fn attempt() -> String {
    let mut turns: u64 = 0;
    loop {
        turns = std::hint::black_box(turns.wrapping_add(1));
    }
}

include!("../../common.rs");
hostile_plugin!(
    "hostile-endless-loop",
    "hostile_endless_loop",
    "loops forever"
);

confiture_sdk::export_plugin!(Hostile: hook, strategy);
