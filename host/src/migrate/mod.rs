//! Versioned migrations: files on disk, the tracking table, plans, apply and roll back.

pub mod commands;
mod confirm;
mod down;
pub mod files;
pub mod ledger;
pub mod plan;
pub mod report;
pub mod runner;
mod up;

pub(crate) use commands::{Context, apply_migration, assess_live, item, pending, read_applied};
