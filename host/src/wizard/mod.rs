//! The interactive migration wizard and what a team needs around it: approvals bound to a
//! migration's checksum, scheduled applications, and an append-only audit trail in the target
//! database.
//!
//! The wizard talks to the operator through a [`prompt::Prompter`]: the crossterm terminal UI
//! ([`tui`]) on a terminal, plain line prompts ([`line`]) otherwise.

pub mod approvals;
pub mod audit;
pub mod input;
pub mod line;
pub mod prompt;
pub mod run;
pub mod schedule;
pub mod scheduled;
pub mod session;
pub mod team;
pub mod tui;
pub mod view;
pub mod when;
