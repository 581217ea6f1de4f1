//! `confiture db start|stop|status|url|reset`.
// STUB — helper A replaces this file.

use crate::cli::{DbCommand, Globals};
use crate::error::ExitCode;

/// Runs one `db` subcommand.
pub async fn run(_g: &Globals, _cmd: &DbCommand) -> anyhow::Result<ExitCode> {
    todo!()
}
