//! The `confiture lint` command: project and configuration, sources, the run, the report, the
//! exit code.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use super::config::{LintConfig, Source, resolve};
use super::registry::Registry;
use super::report::{render, rule_list};
use super::rule::Severity;
use super::{engine, sources};
use crate::context::Globals;
use crate::error::{ExitCode, Failure};
use crate::output::Format;
use crate::project::{Environment, Project};

/// What `confiture lint` is asked to do (its flags, as plain values).
#[derive(Debug, Clone, Default)]
pub struct LintRequest {
    /// Files or directories to lint (empty: the environment's include_dirs and migrations dir).
    pub paths: Vec<PathBuf>,
    /// Fail when a finding is at least this severe (default: linting.fail_level, else
    /// critical).
    pub fail_level: Option<Severity>,
    /// Rules or categories not to run.
    pub exclude_rules: Vec<String>,
    /// Write the report to this file instead of standard output.
    pub output: Option<PathBuf>,
    /// List the rules and exit.
    pub list_rules: bool,
    /// Also run the lint rules of these WASM plugins or directories of them.
    pub rules: Vec<PathBuf>,
}

/// Runs `confiture lint`: exit 0 when nothing reaches the fail level, 1 when something does,
/// 5 for bad configuration or usage.
pub fn run(g: &Globals, args: &LintRequest) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let project = open(g, args)?;
    let mut registry = Registry::builtin();
    super::plugin_rules::load(g, &project, &args.rules, &mut registry)?;
    let text = std::fs::read_to_string(&project.env.file).unwrap_or_default();
    let shown = project.show(&project.env.file);
    let source = Source {
        shown: &shown,
        text: &text,
    };
    let config = resolve(
        &project.env.linting,
        &registry,
        &source,
        &args.exclude_rules,
        project.env.lock_timeout_ms > 0,
    )?;
    let format = g.out.format;

    if args.list_rules {
        let document = list(&registry, &config, format);
        write_out(args.output.as_deref(), &document, &cwd)?;
        return Ok(ExitCode::Ok);
    }

    let found = if args.paths.is_empty() {
        sources::defaults(&project)?
    } else {
        sources::explicit(&project, &args.paths, &cwd)?
    };
    if found.is_empty() {
        g.out.warn(format!(
            "no SQL files to lint (looked in {}); pass PATHs or set include_dirs",
            looked_in(&project, args)
        ));
    }
    let files = sources::parse(&found)?;
    let fail_level = args
        .fail_level
        .or(config.fail_level)
        .unwrap_or(Severity::Critical);
    let report = engine::lint(&files, &registry, &config, fail_level);
    let colour = args.output.is_none() && format == Format::Text;
    let document = render(&report, format, &registry, colour);
    write_out(args.output.as_deref(), &document, &cwd)?;
    if let Some(path) = &args.output {
        eprintln!(
            "wrote the lint report ({} findings) to {}",
            report.findings.len(),
            path.display()
        );
    }
    let code = if report.failed {
        ExitCode::Failure
    } else {
        ExitCode::Ok
    };
    // The process ends right after this command: freeing thousands of parsed statements one by
    // one would cost more than the whole analysis, so they are left to the process exit.
    std::mem::forget(files);
    std::mem::forget(report);
    Ok(code)
}

/// The project, or — when there is none and PATHs or --list-rules were given — the current
/// directory with the default settings, so a lone SQL file can be linted (and the rules
/// listed) anywhere.
fn open(g: &Globals, args: &LintRequest) -> anyhow::Result<Project> {
    match Project::find_root(&g.project_dir) {
        Ok(_) => g.project(),
        Err(_) if !args.paths.is_empty() || args.list_rules => {
            let root = g
                .project_dir
                .canonicalize()
                .with_context(|| format!("opening {}", g.project_dir.display()))?;
            let file = root.join(format!("db/environments/{}.yaml", g.env));
            Ok(Project {
                env: Environment::defaults(&g.env, file),
                root,
            })
        }
        Err(err) => Err(err),
    }
}

fn looked_in(project: &Project, args: &LintRequest) -> String {
    if args.paths.is_empty() {
        let mut dirs: Vec<String> = project
            .env
            .include_dirs
            .iter()
            .map(|d| d.path.display().to_string())
            .collect();
        dirs.push(project.env.migrations_dir.display().to_string());
        dirs.join(", ")
    } else {
        let paths: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        paths.join(", ")
    }
}

/// Writes to `--output` (relative to the current directory), or to standard output.
fn write_out(output: Option<&Path>, document: &str, cwd: &Path) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            let path = cwd.join(path);
            let plain = anstream::adapter::strip_str(document).to_string();
            std::fs::write(&path, plain).map_err(|e| {
                Failure::config(format!(
                    "cannot write the report to {}: {e}",
                    path.display()
                ))
                .into()
            })
        }
        None => {
            // anstream strips styles when stdout is not a terminal (or NO_COLOR is set); only
            // text carries styles, so machine formats skip that pass.
            let written = if document.contains('\u{1b}') {
                let mut stdout = anstream::stdout();
                stdout
                    .write_all(document.as_bytes())
                    .and_then(|_| stdout.flush())
            } else {
                let mut stdout = std::io::stdout().lock();
                stdout
                    .write_all(document.as_bytes())
                    .and_then(|_| stdout.flush())
            };
            written.context("writing the report")
        }
    }
}

/// One row of `--list-rules --format json`.
#[derive(Serialize)]
struct RuleRow<'a> {
    id: &'a str,
    category: &'a str,
    default_severity: Severity,
    severity: Severity,
    enabled: bool,
    description: &'a str,
}

fn list(registry: &Registry, config: &LintConfig, format: Format) -> String {
    let rows: Vec<RuleRow> = registry
        .rules()
        .iter()
        .map(|r| RuleRow {
            id: r.id(),
            category: r.category().as_str(),
            default_severity: r.default_severity(),
            severity: config.override_of(r.id()).unwrap_or(r.default_severity()),
            enabled: config.is_enabled(r.id()),
            description: r.description(),
        })
        .collect();
    match format {
        Format::Json => crate::output::json_document(&serde_json::json!({ "rules": rows })),
        _ => {
            let rows: Vec<(String, String, Severity, bool)> = rows
                .iter()
                .map(|r| {
                    (
                        r.id.to_string(),
                        r.category.to_string(),
                        r.severity,
                        r.enabled,
                    )
                })
                .collect();
            rule_list(registry, &rows)
        }
    }
}
