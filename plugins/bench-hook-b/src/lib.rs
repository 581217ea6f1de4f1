//! Hook plugin `bench-hook-b`: does nothing on every event (see `plugins/bench-hook-common`).

const NAME: &str = "bench-hook-b";
include!("../../bench-hook-common/hook.rs");
