//! Finding the schema's `.sql` files: what the environment's `include_dirs` select (see
//! [`crate::project::schema_files`]), in build order.

use std::path::Path;

use crate::error::{ExitCode, Failure};
use crate::project::Project;
use crate::project::schema_files::{MissingDirs, select};

pub use crate::project::schema_files::SchemaFile as SourceFile;

/// Collects the environment's schema files in build order. `skip` (the build's own output) is
/// never collected.
pub fn collect(project: &Project, skip: Option<&Path>) -> anyhow::Result<Vec<SourceFile>> {
    select(project, skip, MissingDirs::Fail)
}

/// No files to build from: a build failure that says where Confiture looked.
pub fn nothing_found(project: &Project) -> Failure {
    let dirs: Vec<String> = project
        .env
        .include_dirs
        .iter()
        .map(|d| d.path.display().to_string())
        .collect();
    Failure::new(
        ExitCode::Build,
        format!(
            "no .sql files found under include_dirs ({}) of {}",
            dirs.join(", "),
            project.show(&project.env.file)
        ),
    )
    .hint("add schema files such as db/schema/10_tables/users.sql, or check include_dirs and exclude_dirs")
}
