//! `confiture migrate ...` commands.
// STUB — helper B replaces this file.

use crate::cli::{BaselineArgs, DownArgs, GenerateArgs, Globals, UpArgs, VerifyArgs};
use crate::error::ExitCode;

/// `migrate generate`.
pub fn generate(_g: &Globals, _a: &GenerateArgs) -> anyhow::Result<ExitCode> {
    todo!()
}
/// `migrate up`.
pub async fn up(_g: &Globals, _a: &UpArgs) -> anyhow::Result<ExitCode> {
    todo!()
}
/// `migrate down`.
pub async fn down(_g: &Globals, _a: &DownArgs) -> anyhow::Result<ExitCode> {
    todo!()
}
/// `migrate status`.
pub async fn status(_g: &Globals) -> anyhow::Result<ExitCode> {
    todo!()
}
/// `migrate verify`.
pub async fn verify(_g: &Globals, _a: &VerifyArgs) -> anyhow::Result<ExitCode> {
    todo!()
}
/// `migrate baseline`.
pub async fn baseline(_g: &Globals, _a: &BaselineArgs) -> anyhow::Result<ExitCode> {
    todo!()
}
