//! Hook plugin `bench-hook-d`: does nothing on every event (see `plugins/bench-hook-common`).

const NAME: &str = "bench-hook-d";
include!("../../bench-hook-common/hook.rs");
