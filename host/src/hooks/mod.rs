//! Migration hooks: the events a migration run fires, the context given to hook plugins,
//! registration (which plugin fires on which event, in which order, with which failure
//! policy), and dispatch through the plugin runtime.
//!
//! - [`registry`]: from the loaded plugins and the environment file's `hooks:` to the ordered
//!   list of hooks per event ([`Registration`]); also what `confiture hooks list` shows.
//! - [`dispatch`]: [`HookRun`], one per command run: fires an event, applies the policies,
//!   and records every call's outcome for the text and JSON output.
//! - [`commands`]: `confiture hooks list`.
//!
//! Plugins are loaded once per run and only when the plugins directory (or `--plugin`) holds
//! at least one component: a project without plugins never starts wasmtime.

pub mod commands;
pub mod dispatch;
pub mod registry;

pub use dispatch::{HookAbort, HookOutcome, HookRun, HookStop, MigrationRef, Status};
pub use registry::{Registered, Registration};
