//! Schema build (`confiture build`): collect the DDL files of an environment in natural order,
//! concatenate them into one file with a hashed header, and optionally apply them to an empty
//! database.

mod apply;
mod collect;
mod render;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

pub use apply::ApplyReport;
pub use render::Source;

use collect::collect;
use render::{read_sources, render};

use crate::context::Globals;
use crate::error::{ExitCode, Failure};
use crate::output::{Report, paint, style};

/// The result of `confiture build`.
#[derive(Debug, Serialize)]
pub struct BuildReport {
    /// The environment built.
    pub environment: String,
    /// The file written (relative to the project root when inside it).
    pub output: String,
    /// The sources, in build order.
    pub files: Vec<Source>,
    /// Size of the written file in bytes.
    pub bytes: usize,
    /// SHA-256 of the content after the header (also written in the header).
    pub sha256: String,
    /// Wall time of the whole command, in milliseconds.
    pub duration_ms: u128,
    /// What `--apply` did, when given.
    pub applied: Option<ApplyReport>,
}

impl Report for BuildReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "{} {} from {} file{} ({} bytes) in {} ms",
            paint(style::OK, "Built"),
            self.output,
            self.files.len(),
            if self.files.len() == 1 { "" } else { "s" },
            self.bytes,
            self.duration_ms
        )?;
        writeln!(out, "  {} {}", paint(style::DIM, "sha256"), self.sha256)?;
        for file in &self.files {
            writeln!(out, "  {} {}", paint(style::DIM, "-"), file.path)?;
        }
        if let Some(applied) = &self.applied {
            if !applied.dropped_schemas.is_empty() {
                writeln!(
                    out,
                    "{} schemas first: {}",
                    paint(style::WARN, "Dropped"),
                    applied.dropped_schemas.join(", ")
                )?;
            }
            writeln!(
                out,
                "{} to {} ({}): {} statements in one transaction",
                paint(style::OK, "Applied"),
                applied.database,
                applied.source,
                applied.statements
            )?;
            match applied.migrations_recorded.len() {
                0 => writeln!(
                    out,
                    "No migration recorded as applied (--mark-migrations-applied records \
                     those of db/migrations/ without running them)"
                )?,
                n => writeln!(
                    out,
                    "{} {n} migration{} as applied in {} (not run: db/schema/ holds them)",
                    paint(style::OK, "Recorded"),
                    if n == 1 { "" } else { "s" },
                    applied.tracking_table
                )?,
            }
        }
        Ok(())
    }
}

/// What `confiture build` is asked to do (its flags, as plain values).
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Where to write the schema, relative to `--project` (default:
    /// `db/generated/schema_<env>.sql` in the project).
    pub output: Option<PathBuf>,
    /// Create the schema in the target database.
    pub apply: bool,
    /// With `apply`: also record every migration as applied, without running it.
    pub mark_migrations_applied: bool,
    /// With `apply`: drop every user schema in the target database first.
    pub drop_existing: bool,
    /// Apply to a protected environment without asking.
    pub yes: bool,
}

/// `confiture build [--output FILE] [--apply [--drop-existing] [--mark-migrations-applied]]
/// [--yes]`.
pub async fn build(g: &Globals, args: &BuildOptions) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let project = g.project()?;
    if args.apply && project.env.protected && !args.yes {
        return Err(Failure::new(
            ExitCode::Refused,
            format!(
                "environment `{}` is protected ({}); `build --apply` would change its database",
                project.env.name,
                project.show(&project.env.file)
            ),
        )
        .hint("pass --yes to apply anyway")
        .into());
    }
    let output = match &args.output {
        Some(path) if path.is_absolute() => path.clone(),
        Some(path) => g.project_dir.join(path),
        None => project
            .root
            .join("db/generated")
            .join(format!("schema_{}.sql", g.env)),
    };
    let files = collect(&project, Some(&output))?;
    if files.is_empty() {
        return Err(collect::nothing_found(&project).into());
    }
    let sources = read_sources(&files)?;
    let rendered = render(&project.env.name, &sources);
    write_output(&output, &rendered.text)?;
    let shown_output = project.show(&output.canonicalize().unwrap_or(output));

    let applied = if args.apply {
        let migrations = if args.mark_migrations_applied {
            crate::migrate::files::discover(&project.migrations_dir())?
        } else {
            Vec::new()
        };
        let target = g.database(&project)?;
        g.out.line(format!(
            "Applying {} files to {}",
            sources.len(),
            target.spec.redacted()
        ));
        Some(
            apply::apply(
                &project,
                &target,
                &sources,
                &migrations,
                args.drop_existing,
                &g.out,
            )
            .await?,
        )
    } else {
        None
    };

    g.out.report(&BuildReport {
        environment: project.env.name.clone(),
        output: shown_output,
        bytes: rendered.text.len(),
        files: sources,
        sha256: rendered.sha256,
        duration_ms: started.elapsed().as_millis(),
        applied,
    });
    Ok(ExitCode::Ok)
}

/// Writes the built schema, creating its directory.
fn write_output(path: &Path, text: &str) -> anyhow::Result<()> {
    let failure = |what: &str, path: &Path, e: std::io::Error| {
        Failure::new(
            ExitCode::Build,
            format!("cannot {what} {}: {e}", path.display()),
        )
        .hint("choose another place with --output FILE")
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| failure("create", parent, e))?;
    }
    std::fs::write(path, text).map_err(|e| failure("write", path, e))?;
    Ok(())
}
