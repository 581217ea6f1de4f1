//! Typed bindings generated from `wit/` (the `full-plugin` world, which includes every kind).
//!
//! The host links every import of `full-plugin` for every plugin and looks each export up on
//! its own (`GuestIndices`), so a component that provides only some kinds still loads.

wasmtime::component::bindgen!({
    world: "full-plugin",
    path: "../wit",
});

pub use confiture::plugin::{database, host, types};
pub use exports::confiture::plugin::{hooks, lint, metadata, strategy};
