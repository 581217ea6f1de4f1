//! `confiture migrate down`: roll back applied migrations with their `.down.sql`, newest first.

use std::time::Instant;

use super::commands::{Context, finish};
use super::files::{compare_versions, is_no_transaction, same_version};
use super::ledger::AppliedRow;
use super::report::{DownReport, FailureReport, Item};
use super::runner::{Bookkeeping, Settings, Step, run_step};
use crate::cli::{DownArgs, Globals};
use crate::error::{ExitCode, Failure};
use crate::hooks::{HookRun, MigrationRef};
use crate::output::{paint, style};
use crate::plugins::HookEvent;
use crate::plugins::hooks::Direction;

/// A rollback ready to run: the row and its `.down.sql`.
struct Rollback<'a> {
    row: &'a AppliedRow,
    file: String,
    sql: String,
    checksum: String,
}

impl Rollback<'_> {
    /// The rollback as hooks see it.
    fn hook_ref(&self) -> MigrationRef {
        MigrationRef {
            version: self.row.version.clone(),
            name: self.row.name.clone(),
            checksum: self.checksum.clone(),
            direction: Direction::Down,
            path: self.file.clone(),
            sql: self.sql.clone(),
        }
    }
}

/// `migrate down`.
pub async fn down(g: &Globals, a: &DownArgs) -> anyhow::Result<ExitCode> {
    let ctx = Context::open(g)?;
    let mut client = ctx.db.spec.connect().await?;
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
        let rollbacks = prepare(&ctx, &selected)?;
        let mut report = DownReport {
            target: ctx.target(),
            dry_run: a.dry_run,
            rolled_back: Vec::new(),
            duration_ms: 0,
            failure: None,
            hooks: Vec::new(),
        };
        if a.dry_run {
            report.rolled_back = rollbacks.iter().map(|r| item(r.row, None)).collect();
            return Ok(report);
        }
        hooks.validate(HookEvent::PostValidate, &client).await?;
        if rollbacks.is_empty() {
            return Ok(report);
        }
        ctx.confirm_if(
            false,
            &format!(
                "Roll back {} migration(s) on {}?",
                rollbacks.len(),
                ctx.db.spec.redacted()
            ),
            a.yes,
        )?;
        let settings = Settings::from_env(&ctx.project.env);
        let started = Instant::now();
        for r in &rollbacks {
            let hook = r.hook_ref();
            let step = Step {
                file: r.file.clone(),
                sql: &r.sql,
                no_transaction: is_no_transaction(&r.sql),
                bookkeeping: Bookkeeping::Remove(&r.row.version),
                hook: &hook,
                audit: None,
            };
            let slug = format!("{}_{}", r.row.version, r.row.name);
            match run_step(
                &mut client,
                &ctx.ledger,
                &step,
                settings,
                &g.out,
                &mut hooks,
            )
            .await
            {
                Ok(elapsed) => {
                    let ms = elapsed.as_millis() as u64;
                    g.out.line(format!(
                        "  {} {slug} ({ms} ms)",
                        paint(style::OK, "rolled back")
                    ));
                    report.rolled_back.push(item(r.row, Some(ms)));
                    if let Err(abort) = hooks.rolled_back(&hook, Some(ms), None, &client).await {
                        let err = anyhow::Error::from(abort);
                        let mut failure = FailureReport::new(&item(r.row, None), false, &err);
                        failure.state = format!(
                            "{slug} was rolled back (committed); the hook stopped the run before \
                             any later rollback"
                        );
                        report.failure = Some(failure);
                        hooks.failed(Some(&hook), false, &err, &client).await;
                        break;
                    }
                }
                Err(err) => {
                    g.out
                        .line(format!("  {} {slug}", paint(style::ERR, "failed")));
                    hooks
                        .failed(Some(&hook), !step.no_transaction, &err, &client)
                        .await;
                    report.failure = Some(FailureReport::new(
                        &item(r.row, None),
                        step.no_transaction,
                        &err,
                    ));
                    break;
                }
            }
        }
        report.duration_ms = started.elapsed().as_millis() as u64;
        anyhow::Ok(report)
    }
    .await;
    lock.release().await?;
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

fn item(row: &AppliedRow, duration_ms: Option<u64>) -> Item {
    Item {
        version: row.version.clone(),
        name: row.name.clone(),
        duration_ms,
        ..Item::default()
    }
}

/// The rows to roll back, newest first: `--steps N` (default 1) or everything after `--target`.
fn select<'a>(
    ctx: &Context,
    applied: &'a [AppliedRow],
    a: &DownArgs,
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
fn prepare<'a>(ctx: &Context, selected: &[&'a AppliedRow]) -> anyhow::Result<Vec<Rollback<'a>>> {
    let mut rollbacks = Vec::new();
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
                rollbacks.push(Rollback {
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
    Ok(rollbacks)
}
