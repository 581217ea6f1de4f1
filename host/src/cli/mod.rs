//! Command-line definitions (clap) and dispatch: each command hands its arguments to the module
//! that does the work and returns the process exit code. A command whose work lives in a layer
//! that must not know the command line (`db`) has its entry here.

mod args;
mod commands;
mod db_command;
mod migrate_commands;
mod values;

use std::path::PathBuf;

pub use args::*;
use clap::Parser;

use crate::context::Globals;
use crate::error::{ExitCode, Failure};
use crate::output::Output;

/// Parses the command line; usage errors exit with code 5 (2 with upstream's exit codes),
/// `--help`/`--version` with 0.
pub fn parse() -> Result<Cli, ExitCode> {
    match Cli::try_parse() {
        Ok(cli) => {
            crate::error::set_convention(cli.exit_codes);
            Ok(cli)
        }
        Err(err) => {
            let _ = err.print();
            if upstream_codes_asked(std::env::args()) {
                crate::error::set_convention(crate::error::Convention::Upstream);
            }
            Err(if err.use_stderr() {
                ExitCode::Usage
            } else {
                ExitCode::Ok
            })
        }
    }
}

/// True when a command line that did not parse still asked for upstream's exit codes
/// (`--exit-codes upstream`, `--exit-codes=upstream` or `CONFITURE_EXIT_CODES=upstream`).
fn upstream_codes_asked(args: impl Iterator<Item = String>) -> bool {
    let args: Vec<String> = args.collect();
    let flag = args
        .windows(2)
        .any(|w| w[0] == "--exit-codes" && w[1] == "upstream")
        || args.iter().any(|a| a == "--exit-codes=upstream");
    flag || std::env::var("CONFITURE_EXIT_CODES").is_ok_and(|v| v == "upstream")
}

/// Runs the parsed command.
pub async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    if cli.config.is_some() && cli.env.is_some() {
        return Err(Failure::config(
            "both --env (or CONFITURE_ENV) and --config choose the environment",
        )
        .hint("pass one: --env NAME reads db/environments/NAME.yaml, --config FILE reads FILE")
        .into());
    }
    let globals = Globals {
        env_chosen: cli.env.is_some() || cli.config.is_some(),
        env: cli.env.unwrap_or_else(|| "local".to_string()),
        config: cli.config,
        database_url: cli.database_url,
        migrations_dir: cli.migrations_dir,
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
        Command::Init(args) => commands::init(g, &args),
        Command::Db(cmd) => db_command::run(g, &cmd).await,
        Command::Build(args) => commands::build(g, &args).await,
        Command::Migrate(cmd) => match cmd {
            MigrateCommand::Generate(args) => migrate_commands::generate(g, &args),
            MigrateCommand::Up(args) => migrate_commands::up(g, &args).await,
            MigrateCommand::Down(args) => migrate_commands::down(g, &args).await,
            MigrateCommand::Status => crate::migrate::commands::status(g).await,
            MigrateCommand::Verify(args) => migrate_commands::verify(g, &args).await,
            MigrateCommand::Baseline(args) => migrate_commands::baseline(g, &args).await,
            MigrateCommand::Wizard(args) => migrate_commands::wizard(g, &args).await,
            MigrateCommand::Approve(args) => migrate_commands::approve(g, &args).await,
            MigrateCommand::Schedule(args) => migrate_commands::schedule(g, &args).await,
            MigrateCommand::RunScheduled(args) => migrate_commands::run_scheduled(g, &args).await,
            MigrateCommand::Audit(args) => migrate_commands::audit(g, &args).await,
        },
        Command::Plugins(cmd) => match cmd {
            PluginsCommand::List => crate::plugins::commands::list(g),
            PluginsCommand::Inspect(args) => commands::plugins_inspect(g, &args),
            PluginsCommand::New(args) => commands::plugins_new(g, &args),
            PluginsCommand::CreateRole(args) => commands::plugins_create_role(g, &args).await,
        },
        Command::Hooks(cmd) => match cmd {
            HooksCommand::List => crate::hooks::commands::list(g),
        },
        Command::Lint(args) => commands::lint(g, &args),
        Command::Sync(args) => commands::sync(g, &args).await,
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
