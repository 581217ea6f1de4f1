//! Versioned migrations: files on disk, the tracking table and its companions (the audit trail,
//! approvals, schedules), plans, and the one applier that runs them up and down.
//!
//! - [`apply`]: the applier `migrate up`, `migrate down`, dry runs, the wizard and
//!   `run-scheduled` share.
//! - [`ledger`], [`audit`], [`approvals`], [`schedule`]: the tracking table and the tables
//!   kept beside it.
//! - [`commands`], [`team`], [`scheduled`]: the commands (the wizard's user interface lives in
//!   [`crate::wizard`]).

pub mod apply;
pub mod approvals;
pub mod audit;
pub mod commands;
mod confirm;
mod down;
pub mod files;
pub mod ledger;
pub mod plan;
pub mod report;
pub mod schedule;
pub mod scheduled;
pub(crate) mod session;
pub mod team;
#[cfg(test)]
mod testing;
mod up;
pub mod when;

pub(crate) use commands::{Context, assess_live, pending, read_applied};
