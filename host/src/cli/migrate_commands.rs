//! The `confiture migrate ...` entries whose clap arguments stop here: each takes its arguments
//! apart into the plain values `migrate` (or `wizard`) takes, calls it and returns the exit
//! code.

use crate::cli::{
    ApproveArgs, AuditArgs, BaselineArgs, DownArgs, GenerateArgs, RunScheduledArgs, ScheduleAction,
    ScheduleArgs, UpArgs, VerifyArgs, WizardArgs,
};
use crate::context::Globals;
use crate::error::{ExitCode, Failure};
use crate::migrate::{commands, scheduled, team};

/// `confiture migrate generate NAME`.
pub fn generate(g: &Globals, args: &GenerateArgs) -> anyhow::Result<ExitCode> {
    commands::generate(g, &args.name)
}

/// `confiture migrate up [--target VERSION] [--dry-run | --dry-run-execute] [...]`.
pub async fn up(g: &Globals, args: &UpArgs) -> anyhow::Result<ExitCode> {
    let request = commands::UpRequest {
        target: args.target.clone(),
        dry_run: args.dry_run,
        dry_run_execute: args.dry_run_execute,
        require_confirmation: args.require_confirmation,
        yes: args.yes,
        lock: args.lock.options(),
    };
    commands::up(g, &request).await
}

/// `confiture migrate down [--steps N | --target VERSION] [--dry-run] [--yes] [...]`.
pub async fn down(g: &Globals, args: &DownArgs) -> anyhow::Result<ExitCode> {
    let request = commands::DownRequest {
        steps: args.steps,
        target: args.target.clone(),
        dry_run: args.dry_run,
        yes: args.yes,
        lock: args.lock.options(),
    };
    commands::down(g, &request).await
}

/// `confiture migrate verify [--run]`.
pub async fn verify(g: &Globals, args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    commands::verify(g, args.run).await
}

/// `confiture migrate baseline --through VERSION [--yes]`.
pub async fn baseline(g: &Globals, args: &BaselineArgs) -> anyhow::Result<ExitCode> {
    let request = commands::BaselineRequest {
        through: args.through.clone(),
        yes: args.yes,
    };
    commands::baseline(g, &request).await
}

/// `confiture migrate wizard [--target VERSION] [--review] [--auto] [...]`.
pub async fn wizard(g: &Globals, args: &WizardArgs) -> anyhow::Result<ExitCode> {
    let request = crate::wizard::run::WizardRequest {
        target: args.target.clone(),
        review: args.review,
        auto: args.auto,
        require_backup: args.require_backup,
        timeout: args.timeout,
        collaborative: args.collaborative,
        schedule: args.schedule.clone(),
        lock: args.lock.options(),
    };
    crate::wizard::run::wizard(g, &request).await
}

/// `confiture migrate approve VERSION [--comment TEXT] [--as WHO]`.
pub async fn approve(g: &Globals, args: &ApproveArgs) -> anyhow::Result<ExitCode> {
    let request = team::ApproveRequest {
        version: args.version.clone(),
        comment: args.comment.clone(),
        approver: args.approver.clone(),
    };
    team::approve(g, &request).await
}

/// `confiture migrate schedule VERSION --at TIME [--collaborative] [--as WHO]`, `schedule list
/// [--all]` and `schedule cancel VERSION [--as WHO]`.
pub async fn schedule(g: &Globals, args: &ScheduleArgs) -> anyhow::Result<ExitCode> {
    match &args.action {
        Some(ScheduleAction::List { all }) => team::schedule_list(g, *all).await,
        Some(ScheduleAction::Cancel { version, by }) => {
            team::schedule_cancel(g, version, by.as_deref()).await
        }
        None => {
            let (Some(version), Some(at)) = (&args.version, &args.at) else {
                return Err(
                    Failure::config("`migrate schedule` needs VERSION and --at TIME")
                        .hint("e.g. `confiture migrate schedule 20261202_add_index --at '+2h'`")
                        .into(),
                );
            };
            let request = team::ScheduleRequest {
                version: version.clone(),
                at: at.clone(),
                collaborative: args.collaborative,
                by: args.by.clone(),
            };
            team::schedule(g, &request).await
        }
    }
}

/// `confiture migrate run-scheduled [--collaborative] [...]`.
pub async fn run_scheduled(g: &Globals, args: &RunScheduledArgs) -> anyhow::Result<ExitCode> {
    let request = scheduled::RunScheduledRequest {
        collaborative: args.collaborative,
        lock: args.lock.options(),
    };
    scheduled::run_scheduled(g, &request).await
}

/// `confiture migrate audit [--migration VERSION] [--limit N]`.
pub async fn audit(g: &Globals, args: &AuditArgs) -> anyhow::Result<ExitCode> {
    let request = team::AuditRequest {
        migration: args.migration.clone(),
        limit: args.limit,
    };
    team::audit(g, &request).await
}
