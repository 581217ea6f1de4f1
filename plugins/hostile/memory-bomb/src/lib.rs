//! Hostile test plugin `hostile-memory-bomb`: allocates memory until it dies. A hook on every event
//! and strategy `hostile_memory_bomb`; the hook fails with what it observed, the strategy returns
//! it as every value. The host's sandbox must contain it (see `plugins/hostile/README.md`).

/// What the plugin does in every call; its text is what it observed.
fn attempt() -> String {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        // 1 MiB at a time, touched so the pages are really used.
        hoard.push(vec![0xa5; 1 << 20]);
        std::hint::black_box(&hoard);
    }
}

include!("../../common.rs");
hostile_plugin!(
    "hostile-memory-bomb",
    "hostile_memory_bomb",
    "allocates memory until it dies"
);

confiture_sdk::export_plugin!(Hostile: hook, strategy);
