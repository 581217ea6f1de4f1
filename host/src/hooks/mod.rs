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

use crate::plugins::HookEvent;

/// Every event, in the order a run fires them ([`HookEvent::ALL`]).
pub const EVENTS: [HookEvent; 6] = HookEvent::ALL;

/// The WIT spelling of an event (`pre-execute`), as used in config and output
/// ([`HookEvent::name`]).
pub fn event_name(event: HookEvent) -> &'static str {
    event.name()
}
