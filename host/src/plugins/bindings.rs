//! Typed bindings generated from `wit/`, the current contract (the `full-plugin` world, which
//! includes every kind).
//!
//! The host links every import of `full-plugin` for every plugin, and looks each export up on
//! its own under the contract version the component speaks ([`super::versions`]), so a
//! component that provides only some kinds, or was built against an older version, still loads.

wasmtime::component::bindgen!({
    world: "full-plugin",
    path: "../wit",
});

pub use confiture::plugin::{database, host, types};
pub use exports::confiture::plugin::{hooks, lint, metadata, strategy};
