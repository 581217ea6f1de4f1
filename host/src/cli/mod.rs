//! Command-line definitions (clap) and dispatch. No logic lives here: each command hands its
//! arguments to the module that does the work and returns the process exit code.

mod args;

use std::path::{Path, PathBuf};

pub use args::*;
use clap::Parser;

use crate::error::{ExitCode, Failure};
use crate::output::Output;
use crate::project::{Project, ResolvedDatabase};

/// What every command receives: the global flags and the output.
#[derive(Debug, Clone)]
pub struct Globals {
    /// `--env`.
    pub env: String,
    /// `--database-url`.
    pub database_url: Option<String>,
    /// `--project`, else the current directory.
    pub project_dir: PathBuf,
    /// Where and how to print.
    pub out: Output,
    /// `--plugin PATH`, repeatable.
    pub plugin_files: Vec<PathBuf>,
    /// `--no-plugin-cache`.
    pub no_plugin_cache: bool,
}

impl Globals {
    /// Opens the project and the chosen environment.
    pub fn project(&self) -> anyhow::Result<Project> {
        Project::open(&self.project_dir, &self.env)
    }

    /// The database the command targets, by the documented precedence.
    pub fn database(&self, project: &Project) -> anyhow::Result<ResolvedDatabase> {
        let ambient = std::env::var("DATABASE_URL").ok();
        crate::project::resolve_database(
            &project.root,
            &project.env,
            self.database_url.as_deref(),
            ambient.as_deref(),
        )
    }
}

/// Parses the command line; usage errors exit with code 5, `--help`/`--version` with 0.
pub fn parse() -> Result<Cli, ExitCode> {
    Cli::try_parse().map_err(|err| {
        let _ = err.print();
        if err.use_stderr() {
            ExitCode::Config
        } else {
            ExitCode::Ok
        }
    })
}

/// Runs the parsed command.
pub async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let globals = Globals {
        env: cli.env,
        database_url: cli.database_url,
        project_dir: cli.project.unwrap_or_else(|| PathBuf::from(".")),
        out: Output::new(cli.format),
        plugin_files: cli.plugins,
        no_plugin_cache: cli.no_plugin_cache,
    };
    let g = &globals;
    if cli.format.is_lint_only() && !matches!(cli.command, Command::Lint(_)) {
        return Err(Failure::config(format!(
            "--format {} is only for `confiture lint`",
            match cli.format {
                crate::output::Format::Sarif => "sarif",
                _ => "github",
            }
        ))
        .hint("use --format text or --format json with this command")
        .into());
    }
    match cli.command {
        Command::Init(args) => crate::init::run(g, &args),
        Command::Db(cmd) => crate::db::commands::run(g, &cmd).await,
        Command::Build(args) => crate::schema::build(g, &args).await,
        Command::Migrate(cmd) => match cmd {
            MigrateCommand::Generate(args) => crate::migrate::commands::generate(g, &args),
            MigrateCommand::Up(args) => crate::migrate::commands::up(g, &args).await,
            MigrateCommand::Down(args) => crate::migrate::commands::down(g, &args).await,
            MigrateCommand::Status => crate::migrate::commands::status(g).await,
            MigrateCommand::Verify(args) => crate::migrate::commands::verify(g, &args).await,
            MigrateCommand::Baseline(args) => crate::migrate::commands::baseline(g, &args).await,
            MigrateCommand::Wizard(args) => crate::wizard::run::wizard(g, &args).await,
            MigrateCommand::Approve(args) => crate::wizard::team::approve(g, &args).await,
            MigrateCommand::Schedule(args) => crate::wizard::team::schedule(g, &args).await,
            MigrateCommand::RunScheduled(args) => {
                crate::wizard::scheduled::run_scheduled(g, &args).await
            }
            MigrateCommand::Audit(args) => crate::wizard::team::audit(g, &args).await,
        },
        Command::Plugins(cmd) => match cmd {
            PluginsCommand::List => crate::plugins::commands::list(g),
            PluginsCommand::Inspect(args) => crate::plugins::commands::inspect(g, &args),
            PluginsCommand::New(args) => crate::plugins::scaffold::run(g, &args),
            PluginsCommand::CreateRole(args) => crate::plugins::role::create_role(g, &args).await,
        },
        Command::Hooks(cmd) => match cmd {
            HooksCommand::List => crate::hooks::commands::list(g),
        },
        Command::Lint(args) => crate::lint::run(g, &args),
        Command::Sync(args) => crate::sync::command::run(g, &args).await,
        Command::Completions(args) => completions(args.shell),
    }
}

/// `confiture completions SHELL`: the completion script on stdout.
fn completions(shell: CompletionShell) -> anyhow::Result<ExitCode> {
    use clap::CommandFactory;
    use clap_complete::Shell;
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "confiture", &mut script);
    // A reader that stops early (`| head`) is not an error.
    match std::io::Write::write_all(&mut std::io::stdout(), &script) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("writing the completion script"))
        }
        _ => Ok(ExitCode::Ok),
    }
}

/// The directory an `init` targets, for callers that resolve it relative to `--project`.
pub fn init_dir(globals: &Globals, dir: Option<&Path>) -> PathBuf {
    match dir {
        Some(dir) if dir.is_absolute() => dir.to_path_buf(),
        Some(dir) => globals.project_dir.join(dir),
        None => globals.project_dir.clone(),
    }
}
