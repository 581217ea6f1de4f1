//! Anonymization for `confiture sync`: column values travel as PostgreSQL text forms in packed
//! [`TextBatch`]es and each configured column is rewritten by a [`Strategy`].
//!
//! - [`column`]: column types from `format_type`, and [`check_value`] for a text-form value.
//! - [`builtin`]: the native strategies (email, names, dates, keyed bijections, ...).
//! - [`config`]: the `db/sync/anonymization.yaml` file.
//! - [`registry`]: strategy names to strategies, built-ins plus whatever the host registers
//!   ([`plugin`]: every strategy of the WebAssembly plugins), with an optional bounded cache.
//!
//! Keyed strategies derive everything from HMAC-SHA-256 under the deployment secret
//! ([`KeyedHasher`]), so the same input gives the same output on every run and every machine
//! that shares the secret, and nothing without it.

pub mod builtin;
mod cache;
mod charclass;
pub mod column;
pub mod config;
mod keys;
mod params;
pub mod plugin;
pub mod registry;
mod strategy;
mod writer;

#[cfg(test)]
mod bench;
#[cfg(test)]
mod testing;

// The two seams with the host: on integration these point at the host's own types.
pub use crate::plugins::TextBatch;
pub use crate::plugins::keyed_hash::KeyedHasher;

pub use column::{ColumnType, Kind, check_value};
pub use config::{AnonymizationConfig, ColumnRule, NamedStrategy, TableRules};
pub use keys::{MIN_SECRET_BYTES, deployment_hasher, secret_fingerprint, seeded};
pub use params::Params;
pub use registry::{ColumnSite, Registry, ResolvedColumn, StrategyFactory};

pub use strategy::{InvalidOutput, Strategy};
pub use writer::lowercased;
