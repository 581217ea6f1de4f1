//! The interactive migration wizard: its user interface only. Approvals, schedules, the audit
//! trail and the applier it drives live in [`crate::migrate`].
//!
//! The wizard talks to the operator through a [`prompt::Prompter`]: the crossterm terminal UI
//! ([`tui`]) on a terminal, plain line prompts ([`line`]) otherwise.

pub mod input;
pub mod line;
pub mod prompt;
pub mod run;
pub mod tui;
pub mod view;
