//! Hook plugin `bench-hook-c`: does nothing on every event (see `plugins/bench-hook-common`).

const NAME: &str = "bench-hook-c";
include!("../../bench-hook-common/hook.rs");
