//! `confiture migrate up`: apply pending migrations, or show / rehearse them.

use std::time::Instant;

use tokio_postgres::Client;

use super::commands::{Context, assess_live, finish, item};
use super::files::{Migration, compare_versions};
use super::ledger::AppliedRow;
use super::plan::{State, plan};
use super::report::{FailureReport, Item, UpMode, UpReport};
use super::runner::{Bookkeeping, Settings, Step, StepAudit, run_step};
use crate::cli::{Globals, UpArgs};
use crate::db::script::run_script;
use crate::error::{ExitCode, Failure};
use crate::hooks::{HookRun, MigrationRef, Status};
use crate::output::{paint, style};
use crate::plugins::hooks::Direction;
use crate::plugins::{HookEvent, PgDatabase};
use crate::wizard::audit::{AuditEvent, AuditLog, EventKind};

/// `migrate up`.
pub async fn up(g: &Globals, a: &UpArgs) -> anyhow::Result<ExitCode> {
    let ctx = Context::open(g)?;
    let target = match &a.target {
        Some(v) => Some(ctx.find(v)?.version.clone()),
        None => None,
    };
    let mut client = ctx.db.spec.connect().await?;
    if a.dry_run {
        let applied = read_applied(&ctx, &client).await?;
        let (pending, missing) = pending(&ctx, &applied, target.as_deref(), &g.out)?;
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
        let result = if a.dry_run_execute {
            rehearse(&ctx, &mut client, target.as_deref(), g, &mut hooks).await
        } else {
            apply(&ctx, &mut client, target.as_deref(), a, g, &mut hooks).await
        };
        lock.release().await?;
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

/// A pending migration as hooks see it.
fn hook_ref(ctx: &Context, m: &Migration) -> MigrationRef {
    MigrationRef {
        version: m.version.clone(),
        name: m.name.clone(),
        checksum: m.checksum.clone(),
        direction: Direction::Up,
        path: ctx.show(&m.up_path),
        sql: m.up_sql.clone(),
    }
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
    applied: &'a [AppliedRow],
    target: Option<&str>,
    out: &crate::output::Output,
) -> anyhow::Result<(Vec<&'a Migration>, Vec<Item>)> {
    let entries = plan(&ctx.migrations, applied);
    let changed: Vec<String> = entries
        .iter()
        .filter(|e| e.state == State::Changed)
        .filter_map(|e| e.migration)
        .map(|m| ctx.show(&m.up_path))
        .collect();
    if !changed.is_empty() {
        return Err(Failure::new(
            ExitCode::Failure,
            format!(
                "refusing to migrate: applied migration file(s) changed since they were applied \
                 (checksum differs from the tracking table): {}",
                changed.join(", ")
            ),
        )
        .hint(
            "restore the applied version of each file and put new changes in a new migration; \
             `confiture migrate verify` lists all drift",
        )
        .into());
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
    let pending: Vec<&Migration> = entries
        .iter()
        .filter(|e| e.state == State::Pending)
        .filter_map(|e| e.migration)
        .filter(|m| target.is_none_or(|t| compare_versions(&m.version, t).is_le()))
        .collect();
    Ok((pending, missing))
}

/// Applies the pending migrations, each with its tracking row, stopping at the first failure.
async fn apply(
    ctx: &Context,
    client: &mut Client,
    target: Option<&str>,
    a: &UpArgs,
    g: &Globals,
    hooks: &mut HookRun,
) -> anyhow::Result<UpReport> {
    let out = &g.out;
    let applied = read_applied(ctx, client).await?;
    let (pending, missing) = pending(ctx, &applied, target, out)?;
    hooks.validate(HookEvent::PostValidate, client).await?;
    let mut report = UpReport::new(ctx.target(), UpMode::Apply, missing);
    if pending.is_empty() {
        return Ok(report);
    }
    crate::wizard::approvals::enforce(ctx, client, &pending).await?;
    ctx.confirm_if(
        a.require_confirmation,
        &format!(
            "Apply {} migration(s) to {}?",
            pending.len(),
            ctx.db.spec.redacted()
        ),
        a.yes,
    )?;
    ctx.ledger.ensure(&*client).await?;
    out.line(format!(
        "Applying {} migration(s) to {}",
        pending.len(),
        report.target.database
    ));
    let settings = Settings::from_env(&ctx.project.env);
    // Where a team keeps an audit trail (the wizard created it), `up` records its applications
    // and failures there too.
    let trail = AuditLog::beside(&ctx.ledger);
    let trail = trail.exists(&*client).await?.then_some(trail);
    let actor = crate::identity::current(None);
    let event = |kind, m: &Migration, outcome| {
        AuditEvent::about(kind, &actor, &ctx.project.env.name, m, None, outcome)
    };
    let started = Instant::now();
    for (index, m) in pending.iter().enumerate() {
        let applied = event(EventKind::Applied, m, "applied");
        let audit = trail.as_ref().map(|log| StepAudit {
            log,
            event: &applied,
        });
        match apply_migration(ctx, client, m, settings, audit, out, hooks).await {
            Ok(elapsed) => {
                let ms = elapsed.as_millis() as u64;
                out.line(format!(
                    "  {} {} ({ms} ms)",
                    paint(style::OK, "applied"),
                    m.slug()
                ));
                report.applied.push(item(m, Some(ms)));
            }
            Err(err) => {
                out.line(format!("  {} {}", paint(style::ERR, "failed "), m.slug()));
                let failure = FailureReport::new(&item(m, None), m.no_transaction, &err);
                if let Some(log) = &trail {
                    let failed = AuditEvent {
                        detail: Some(failure.message.clone()),
                        ..event(EventKind::Failed, m, "failed")
                    };
                    log.append(&*client, &failed).await?;
                }
                report.failure = Some(failure);
                report.not_run = pending[index + 1..].iter().map(|m| item(m, None)).collect();
                break;
            }
        }
    }
    report.duration_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// Applies one pending migration with its tracking row (and `audit` entry, in the same
/// transaction when it has one), firing the hooks around it; after a failure the failure hooks
/// (`post-rollback`, `on-error`) have fired and the error is returned.
pub(crate) async fn apply_migration(
    ctx: &Context,
    client: &mut Client,
    m: &Migration,
    settings: Settings,
    audit: Option<StepAudit<'_>>,
    out: &crate::output::Output,
    hooks: &mut HookRun,
) -> anyhow::Result<std::time::Duration> {
    let hook = hook_ref(ctx, m);
    let step = Step {
        file: ctx.show(&m.up_path),
        sql: &m.up_sql,
        no_transaction: m.no_transaction,
        bookkeeping: Bookkeeping::Record(m),
        hook: &hook,
        audit,
    };
    let result = run_step(client, &ctx.ledger, &step, settings, out, hooks).await;
    if let Err(err) = &result {
        hooks
            .failed(Some(&hook), !m.no_transaction, err, client)
            .await;
    }
    result
}

/// `--dry-run-execute`: runs the pending migrations in one transaction, then rolls it back.
async fn rehearse(
    ctx: &Context,
    client: &mut Client,
    target: Option<&str>,
    g: &Globals,
    hooks: &mut HookRun,
) -> anyhow::Result<UpReport> {
    let out = &g.out;
    let settings = Settings::from_env(&ctx.project.env);
    let exists = ctx.ledger.exists(&*client).await?;
    let applied = read_applied(ctx, client).await?;
    let (pending, missing) = pending(ctx, &applied, target, out)?;
    hooks.validate(HookEvent::PostValidate, client).await?;
    let mut report = UpReport::new(ctx.target(), UpMode::DryRunExecute, missing);
    out.line(format!(
        "Dry run: running {} migration(s) in one transaction that will be rolled back",
        pending.len()
    ));
    let started = Instant::now();
    let tx = client.transaction().await?;
    tx.batch_execute(&settings.set_sql(true)).await?;
    if !exists {
        ctx.ledger.ensure(&tx).await?;
    }
    let mut failed = None;
    for (index, m) in pending.iter().enumerate() {
        if m.no_transaction {
            report.skipped.push(item(m, None));
            continue;
        }
        let hook = hook_ref(ctx, m);
        let step_started = Instant::now();
        let result = async {
            let mut db = PgDatabase::transaction(&tx);
            hooks
                .fire(
                    HookEvent::PreExecute,
                    Some(&hook),
                    Status::Running,
                    None,
                    None,
                    Some(&mut db),
                )
                .await?;
            run_script(&tx, &ctx.show(&m.up_path), &m.up_sql).await?;
            let ms = step_started.elapsed().as_millis();
            ctx.ledger.record(&tx, m, ms as i64).await?;
            let mut db = PgDatabase::transaction(&tx);
            hooks
                .fire(
                    HookEvent::PostExecute,
                    Some(&hook),
                    Status::Applied,
                    Some(ms as u64),
                    None,
                    Some(&mut db),
                )
                .await?;
            anyhow::Ok(())
        }
        .await;
        let ms = step_started.elapsed().as_millis() as u64;
        match result {
            Ok(()) => {
                out.line(format!(
                    "  {} {} ({ms} ms)",
                    paint(style::OK, "ran"),
                    m.slug()
                ));
                report.applied.push(item(m, Some(ms)));
            }
            Err(err) => {
                out.line(format!("  {} {}", paint(style::ERR, "failed"), m.slug()));
                let mut failure = FailureReport::new(&item(m, Some(ms)), false, &err);
                failure.state = "rolled back: this was a dry run, nothing was changed".into();
                report.failure = Some(failure);
                report.not_run = pending[index + 1..].iter().map(|m| item(m, None)).collect();
                failed = Some((hook, err));
                break;
            }
        }
    }
    tx.rollback().await?;
    if let Some((hook, err)) = failed {
        hooks.failed(Some(&hook), true, &err, client).await;
    }
    report.duration_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}
