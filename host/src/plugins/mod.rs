//! The plugin runtime: wasmtime 48 with the component model, running sandboxed plugins built
//! against the `confiture:plugin@0.2.0` contract in `wit/` or an older supported version
//! (`wit/v0.1.0/`; see [`versions`]).
//!
//! - [`engine`]: one engine per process (Cranelift, epoch interruption with a ticker thread),
//!   and the linker with WASI preview 2 and the contract's imports.
//! - [`registry`]: discovery of `*.wasm` in the plugins directory and `--plugin PATH`.
//! - [`run`]: a command run's engine (from its context) and the one load of the plugin set
//!   that hooks, lint rules and sync strategies go through.
//! - [`plugin`]: loading one file: header checks, [`cache`] (compiled artifacts on disk),
//!   [`compile`] (bounded compilation in a child process),
//!   [`component`] (exports, contract version, kinds), pre-instantiation and [`metadata`].
//! - [`sandbox`]: the per-store state: nothing granted, memory cap, stdout/stderr to the log.
//! - [`imports`]: the host side of `host` and `database`; [`keyed_hash`]; [`database`].
//! - [`versions`]: older contract versions served through the current bindings.
//! - Calls: [`strategy`] ([`StrategyWorker`], one instance per thread, reused across batches),
//!   [`hooks`] ([`call_hook`], async, serving the database), [`lint`] ([`run_lint`]).
//! - [`commands`]: `confiture plugins list|inspect`; [`scaffold`]: `plugins new`; [`role`]:
//!   `plugins create-role`.
//!
//! The embedding is synchronous (no wasmtime async support): strategy workers are plain
//! threads, and hooks run on a blocking thread while the caller's async task serves their
//! database calls over a channel, so the database may be a borrowed transaction.

mod bindings;
pub mod cache;
pub mod calls;
pub mod commands;
pub mod compile;
pub mod component;
pub mod database;
pub mod engine;
pub mod hooks;
mod imports;
pub mod keyed_hash;
pub mod lint;
pub mod log;
pub mod metadata;
pub mod plugin;
mod progress;
pub mod registry;
pub mod role;
pub mod run;
mod sandbox;
pub mod scaffold;
pub mod strategy;
mod templates;
mod text_batch;
pub mod versions;
#[cfg(test)]
mod wasm_fixtures;

pub use bindings::hooks::HookContext;
pub use bindings::lint::{LintContext, Violation};
pub use bindings::strategy::{Batch, TextBatch};
pub use bindings::types::KeyValue;
pub use calls::{CallFailure, PluginCallError};
pub use component::{CONTRACT_VERSION, Kind};
pub use database::{DbError, HookDatabase, HookSession, IntegrityBreach, PgDatabase, Rows};
pub use engine::{EngineOptions, PluginEngine};
pub use hooks::{HookCallError, HookEvent, call_hook};
pub use lint::run_lint;
pub use log::{LogLevel, LogRecord, LogSource, PluginLog};
pub use plugin::{DEFAULT_MEMORY_MB, Plugin};
pub use registry::{PluginSet, PluginSources};
pub use strategy::StrategyWorker;
