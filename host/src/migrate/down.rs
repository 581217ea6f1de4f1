//! `confiture migrate down`: roll back applied migrations with their `.down.sql`, newest first.

use std::time::Instant;

use super::apply::{Applier, AuditTrail, Left, Outcome, SessionReset, Settings, Unit};
use super::audit::AuditLog;
use super::commands::{Context, LockOptions, finish};
use super::files::{compare_versions, same_version};
use super::ledger::AppliedRow;
use super::report::{DownReport, FailureReport, Item, Progress};
use crate::context::Globals;
use crate::error::{ExitCode, Failure};
use crate::hooks::HookRun;
use crate::plugins::HookEvent;

/// A rollback's `.down.sql`, read.
struct DownFile<'a> {
    row: &'a AppliedRow,
    file: String,
    sql: String,
    checksum: String,
}

/// What `confiture migrate down` is asked to do (its flags, as plain values).
#[derive(Debug, Clone, Default)]
pub struct DownRequest {
    /// Roll back this many migrations (default 1).
    pub steps: Option<u32>,
    /// Roll back every migration newer than this version.
    pub target: Option<String>,
    /// Print what would be rolled back and change nothing.
    pub dry_run: bool,
    /// Answer yes to confirmations.
    pub yes: bool,
    /// How to wait for the migration lock.
    pub lock: LockOptions,
}

/// `migrate down`.
pub async fn down(g: &Globals, a: &DownRequest) -> anyhow::Result<ExitCode> {
    let mut ctx = Context::open(g)?;
    let client = ctx.connect().await?;
    if !ctx.ledger.exists(&client).await? {
        return Err(ctx.no_tracking_table());
    }
    let mut hooks = if a.dry_run {
        HookRun::none(g.out.format)
    } else {
        HookRun::load(g, &ctx.project, "migrate down", false)?
    };
    hooks.validate(HookEvent::PreValidate, &client).await?;
    let lock = match ctx.lock(&a.lock, &g.out).await {
        Ok(lock) => lock,
        Err(err) => {
            hooks.failed(None, false, &err, &client).await;
            return Err(err);
        }
    };
    let result = async {
        let mut applied = ctx.ledger.applied(&client).await?;
        applied.sort_by(|x, y| compare_versions(&y.version, &x.version));
        let selected = select(&ctx, &applied, a)?;
        let files = read(&ctx, &selected)?;
        let units = files
            .iter()
            .map(|f| Unit::down(f.row, f.file.clone(), &f.sql, f.checksum.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut report = DownReport {
            target: ctx.target(),
            dry_run: a.dry_run,
            rolled_back: Vec::new(),
            duration_ms: 0,
            failure: None,
            hooks: Vec::new(),
        };
        if a.dry_run {
            report.rolled_back = units.iter().map(|u| Item::of(u, None)).collect();
            return Ok(report);
        }
        hooks.validate(HookEvent::PostValidate, &client).await?;
        if units.is_empty() {
            return Ok(report);
        }
        ctx.confirm_if(
            false,
            &format!(
                "Roll back {} migration(s) on {}?",
                units.len(),
                ctx.db.spec.redacted()
            ),
            a.yes,
        )?;
        // Where a team keeps an audit trail, rollbacks and their failures are recorded there
        // as `up` records applications.
        let log = AuditLog::beside(&ctx.ledger);
        let log = log.exists(&client).await?.then_some(log);
        let actor = crate::identity::current(None);
        let started = Instant::now();
        let mut applier = Applier {
            client: &client,
            ledger: &ctx.ledger,
            settings: Settings::from_env(&ctx.project.env),
            hooks: &mut hooks,
            audit: log.as_ref().map(|log| AuditTrail {
                log,
                actor: &actor,
                environment: &ctx.project.env.name,
            }),
            out: &g.out,
            reset: SessionReset::for_server(&client).await?,
        };
        let mut progress = Progress {
            out: &g.out,
            done: "rolled back",
        };
        let outcomes = applier.apply(&lock, &units, &mut progress).await?;
        for (unit, outcome) in units.iter().zip(&outcomes) {
            match outcome {
                Outcome::Applied { .. } => report.rolled_back.push(Item::of(unit, Some(outcome))),
                Outcome::Failed(failure) => {
                    if failure.left == Left::Committed {
                        report.rolled_back.push(Item::of(unit, None));
                    }
                    report.failure = Some(FailureReport::of(unit, failure, false));
                }
                _ => {}
            }
        }
        report.duration_ms = started.elapsed().as_millis() as u64;
        anyhow::Ok(report)
    }
    .await;
    lock.release().await;
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

/// The rows to roll back, newest first: `--steps N` (default 1) or everything after `--target`.
fn select<'a>(
    ctx: &Context,
    applied: &'a [AppliedRow],
    a: &DownRequest,
) -> anyhow::Result<Vec<&'a AppliedRow>> {
    if let Some(target) = &a.target {
        let known = applied.iter().any(|r| same_version(&r.version, target))
            || ctx
                .migrations
                .iter()
                .any(|m| same_version(&m.version, target));
        if !known {
            return Err(Failure::config(format!(
                "no migration with version {target} on disk or in the tracking table"
            ))
            .hint("`confiture migrate status` lists the versions")
            .into());
        }
        return Ok(applied
            .iter()
            .filter(|r| compare_versions(&r.version, target).is_gt())
            .collect());
    }
    let steps = a.steps.unwrap_or(1) as usize;
    Ok(applied.iter().take(steps).collect())
}

/// Reads every selected `.down.sql`; if any is missing nothing runs (exit 8, naming each).
fn read<'a>(ctx: &Context, selected: &[&'a AppliedRow]) -> anyhow::Result<Vec<DownFile<'a>>> {
    let mut files = Vec::new();
    let mut irreversible = Vec::new();
    for row in selected {
        let migration = ctx
            .migrations
            .iter()
            .find(|m| same_version(&m.version, &row.version));
        match migration.and_then(|m| m.down_path.as_ref()) {
            Some(path) => {
                let file = ctx.show(path);
                let sql = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("cannot read {file}: {e}"))?;
                let checksum = migration
                    .map(|m| m.checksum.clone())
                    .or_else(|| row.checksum.clone())
                    .unwrap_or_default();
                files.push(DownFile {
                    row,
                    file,
                    sql,
                    checksum,
                });
            }
            None => {
                let expected = ctx
                    .project
                    .migrations_dir()
                    .join(format!("{}_{}.down.sql", row.version, row.name));
                irreversible.push(ctx.show(&expected));
            }
        }
    }
    if !irreversible.is_empty() {
        return Err(Failure::new(
            ExitCode::Irreversible,
            format!(
                "cannot roll back: no down migration {}; nothing was rolled back",
                irreversible.join(", ")
            ),
        )
        .hint("write the missing .down.sql file(s), or roll back fewer steps")
        .into());
    }
    Ok(files)
}
