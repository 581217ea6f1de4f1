//! The data path of `confiture sync`: copy every table of a source database into a target with
//! the same schema, from one consistent snapshot, through optional per-table transforms, at
//! close to raw COPY speed.
//!
//! [`run::sync`] discovers the tables ([`catalog`]), groups them by foreign keys ([`plan`]),
//! and loads each group in one target transaction (the `pipeline` module), the rows of
//! transformed tables going through [`copy_binary`] (text columns transformed, every column
//! with a binary form) or [`copy_text`].

mod bars;
pub mod catalog;
pub mod checkpoint;
pub mod command;
pub mod connect;
pub mod copy_binary;
pub mod copy_text;
pub mod identity;
pub mod masking;
mod pipeline;
pub mod plan;
pub mod progress;
mod redact;
pub mod report;
pub mod run;
mod source;
#[cfg(test)]
mod testing;
pub mod transform;

pub use catalog::{Catalog, TableFilter, TableName};
pub use connect::Connector;
pub use pipeline::SequenceSet;
pub use progress::{NoProgress, Progress};
pub use run::{
    DryRunReport, Prepared, SampleRow, SyncOptions, SyncReport, TableReport, TableStatus,
    TransformSample, Transforms, dry_run, prepare, sync,
};
pub use transform::{TableTransform, TransformWorker};
