//! Hook plugin `bench-hook-a`: does nothing on every event (see `plugins/bench-hook-common`).

const NAME: &str = "bench-hook-a";
include!("../../bench-hook-common/hook.rs");
