//! The command entries whose clap arguments stop here: each takes its arguments apart into the
//! plain values the feature module takes, calls it and returns the exit code.

use crate::cli::{BuildArgs, InitArgs};
use crate::context::Globals;
use crate::error::ExitCode;

/// `confiture init [DIR] [--force]`.
pub fn init(g: &Globals, args: &InitArgs) -> anyhow::Result<ExitCode> {
    let root = g.init_dir(args.dir.as_deref());
    let report = crate::init::create(&root, args.force)?;
    g.out.report(&report);
    Ok(ExitCode::Ok)
}

/// `confiture build [--output FILE] [--apply [--drop-existing] [--mark-migrations-applied]]
/// [--yes]`.
pub async fn build(g: &Globals, args: &BuildArgs) -> anyhow::Result<ExitCode> {
    let options = crate::schema::BuildOptions {
        output: args.output.clone(),
        apply: args.apply,
        mark_migrations_applied: args.mark_migrations_applied,
        drop_existing: args.drop_existing,
        yes: args.yes,
    };
    crate::schema::build(g, &options).await
}
