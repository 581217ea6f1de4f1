//! `confiture-sdk`: what a Rust plugin author depends on to write Confiture plugins —
//! migration hooks, anonymization strategies and lint rules — as WebAssembly components.
//!
//! The crate is reserved and versioned together with the WIT contract in `wit/`; its API (the
//! generated guest bindings wrapped in an idiomatic layer and one `export!`-style macro per
//! plugin kind) is delivered with the plugin platform. It exposes nothing yet.
