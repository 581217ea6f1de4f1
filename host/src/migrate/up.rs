//! `confiture migrate up`: apply pending migrations, or show / rehearse them.

use std::time::Instant;

use tokio_postgres::Client;

use super::apply::{Applier, AuditTrail, Ended, Outcome, SessionReset, Settings, Unit};
use super::audit::AuditLog;
use super::commands::{Context, LockOptions, assess_live, finish, item};
use super::files::{Migration, compare_versions};
use super::ledger::AppliedRow;
use super::plan::{State, drift_refusal, plan};
use super::report::{FailureReport, Item, Progress, UpMode, UpReport};
use crate::context::Globals;
use crate::db::lock::MigrationLock;
use crate::error::{ExitCode, Failure};
use crate::hooks::HookRun;
use crate::plugins::HookEvent;

/// What `confiture migrate up` is asked to do (its flags, as plain values).
#[derive(Debug, Clone, Default)]
pub struct UpRequest {
    /// Apply up to and including this version.
    pub target: Option<String>,
    /// Print the plan and change nothing.
    pub dry_run: bool,
    /// Run the pending migrations in one transaction, then roll it back.
    pub dry_run_execute: bool,
    /// Ask before applying, whatever the environment says.
    pub require_confirmation: bool,
    /// Answer yes to confirmations.
    pub yes: bool,
    /// How to wait for the migration lock.
    pub lock: LockOptions,
}

/// `migrate up`.
pub async fn up(g: &Globals, a: &UpRequest) -> anyhow::Result<ExitCode> {
    let mut ctx = Context::open(g)?;
    let target = match &a.target {
        Some(v) => Some(ctx.find(v)?.version.clone()),
        None => None,
    };
    let client = ctx.connect().await?;
    if a.dry_run {
        let applied = read_applied(&ctx, &client).await?;
        let (pending, missing) = pending(&ctx, &applied, target.as_deref(), &g.out)?;
        ctx.units(&pending)?;
        let report = UpReport {
            not_run: pending
                .iter()
                .zip(assess_live(&ctx, &client, &pending).await?)
                .map(|(m, risk)| Item {
                    risk: Some(risk.level),
                    risk_reasons: Some(risk.reasons()),
                    ..item(m, None)
                })
                .collect(),
            ..UpReport::new(ctx.target(), UpMode::DryRun, missing)
        };
        return Ok(finish(&g.out, &report, None));
    }
    let mut hooks = HookRun::load(g, &ctx.project, "migrate up", a.dry_run_execute)?;
    let result = async {
        hooks.validate(HookEvent::PreValidate, &client).await?;
        let lock = ctx.lock(&a.lock, &g.out).await?;
        let result = run(&ctx, &client, target.as_deref(), a, g, &mut hooks, &lock).await;
        lock.release().await;
        result
    }
    .await;
    let mut report = match result {
        Ok(report) => report,
        Err(err) => {
            hooks.failed(None, false, &err, &client).await;
            return Err(err);
        }
    };
    report.hooks = hooks.take_outcomes();
    Ok(finish(&g.out, &report, report.failure.as_ref()))
}

/// The tracking rows, or none when the table does not exist yet.
pub(crate) async fn read_applied(
    ctx: &Context,
    client: &Client,
) -> anyhow::Result<Vec<AppliedRow>> {
    if ctx.ledger.exists(client).await? {
        ctx.ledger.applied(client).await
    } else {
        Ok(Vec::new())
    }
}

/// The pending migrations up to `target`, after refusing drift and warning about missing files.
pub(crate) fn pending<'a>(
    ctx: &'a Context,
    applied: &[AppliedRow],
    target: Option<&str>,
    out: &crate::output::Output,
) -> anyhow::Result<(Vec<&'a Migration>, Vec<Item>)> {
    let entries = plan(&ctx.migrations, applied);
    if let Some(refusal) = drift_refusal(&entries, |m| ctx.show(&m.up_path)) {
        return Err(refusal.into());
    }
    let mut missing = Vec::new();
    for e in entries.iter().filter(|e| e.state == State::Missing) {
        out.warn(format!(
            "migration {}_{} is applied but its file is missing from {}",
            e.version,
            e.name,
            ctx.show(&ctx.project.migrations_dir())
        ));
        missing.push(Item {
            version: e.version.clone(),
            name: e.name.clone(),
            duration_ms: None,
            ..Item::default()
        });
    }
    let pending: Vec<&str> = entries
        .iter()
        .filter(|e| e.state == State::Pending)
        .map(|e| e.version.as_str())
        .collect();
    let pending: Vec<&'a Migration> = ctx
        .migrations
        .iter()
        .filter(|m| pending.contains(&m.version.as_str()))
        .filter(|m| target.is_none_or(|t| compare_versions(&m.version, t).is_le()))
        .collect();
    Ok((pending, missing))
}

/// Under the lock: checks the pending migrations, then applies them (or, with
/// `--dry-run-execute`, rehearses them in one transaction that is rolled back).
async fn run(
    ctx: &Context,
    client: &Client,
    target: Option<&str>,
    a: &UpRequest,
    g: &Globals,
    hooks: &mut HookRun,
    lock: &MigrationLock,
) -> anyhow::Result<UpReport> {
    let out = &g.out;
    let applied = read_applied(ctx, client).await?;
    let (pending, missing) = pending(ctx, &applied, target, out)?;
    let units = ctx.units(&pending)?;
    hooks.validate(HookEvent::PostValidate, client).await?;
    let rehearse = a.dry_run_execute;
    let mode = if rehearse {
        UpMode::DryRunExecute
    } else {
        UpMode::Apply
    };
    let mut report = UpReport::new(ctx.target(), mode, missing);
    if units.is_empty() && !rehearse {
        return Ok(report);
    }
    if rehearse {
        out.line(format!(
            "Dry run: running {} migration(s) in one transaction that will be rolled back",
            units.len()
        ));
    } else {
        super::approvals::enforce(ctx, client, &pending).await?;
        ctx.confirm_if(
            a.require_confirmation,
            &format!(
                "Apply {} migration(s) to {}?",
                units.len(),
                ctx.db.spec.redacted()
            ),
            a.yes,
        )?;
        out.line(format!(
            "Applying {} migration(s) to {}",
            units.len(),
            report.target.database
        ));
    }
    // Where a team keeps an audit trail (the wizard created it), `up` records its applications
    // and failures there too.
    let log = AuditLog::beside(&ctx.ledger);
    let log = (!rehearse && log.exists(client).await?).then_some(log);
    let actor = crate::identity::current(None);
    let mut applier = Applier {
        client,
        ledger: &ctx.ledger,
        settings: Settings::from_env(&ctx.project.env),
        hooks,
        audit: log.as_ref().map(|log| AuditTrail {
            log,
            actor: &actor,
            environment: &ctx.project.env.name,
        }),
        out,
        reset: SessionReset::for_server(client).await?,
    };
    let started = Instant::now();
    if rehearse {
        let mut progress = Progress { out, done: "ran" };
        let rehearsal = applier.rehearse(lock, &units, &mut progress).await?;
        fill(&mut report, &units, &rehearsal.outcomes, true);
        report.rolled_back = Some(rehearsal.ended == Ended::RolledBack);
        if report.failure.is_none() && rehearsal.ended != Ended::RolledBack {
            return Err(Failure::new(
                ExitCode::Failure,
                format!(
                    "the dry run's transaction could not be confirmed rolled back (the server \
                     reports {:?}): check the database by hand",
                    rehearsal.ended
                ),
            )
            .into());
        }
    } else {
        let mut progress = Progress {
            out,
            done: "applied",
        };
        let outcomes = applier.apply(lock, &units, &mut progress).await?;
        fill(&mut report, &units, &outcomes, false);
    }
    report.duration_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// Sorts the outcomes into the report's lists.
fn fill(report: &mut UpReport, units: &[Unit<'_>], outcomes: &[Outcome], dry_run: bool) {
    for (unit, outcome) in units.iter().zip(outcomes) {
        let listed = Item::of(unit, Some(outcome));
        match outcome {
            Outcome::Applied { .. } | Outcome::Rehearsed { .. } => report.applied.push(listed),
            Outcome::Skipped { .. } => report.skipped.push(listed),
            Outcome::Failed(failure) => {
                report.failure = Some(FailureReport::of(unit, failure, dry_run));
            }
            Outcome::Stopped | Outcome::NotRun => report.not_run.push(listed),
        }
    }
}
