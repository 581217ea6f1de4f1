//! `confiture init`: a new project layout.
// STUB — helper C replaces this file.

use crate::cli::{Globals, InitArgs};
use crate::error::ExitCode;

/// `confiture init`.
pub fn run(_g: &Globals, _a: &InitArgs) -> anyhow::Result<ExitCode> {
    todo!()
}
