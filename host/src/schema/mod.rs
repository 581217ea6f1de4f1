//! Schema build: collect DDL files, concatenate, hash, apply.
// STUB — helper C replaces this file.

use crate::cli::{BuildArgs, Globals};
use crate::error::ExitCode;

/// `confiture build`.
pub async fn build(_g: &Globals, _a: &BuildArgs) -> anyhow::Result<ExitCode> {
    todo!()
}
