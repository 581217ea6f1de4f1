//! `confiture migrate wizard`: pending migrations one at a time — their risk and reasons, an
//! optional review of the SQL, a backup confirmation before critical ones, approvals, and a
//! question before each — applied with the hooks firing, stopping at the first no, timeout or
//! failure. Every step is recorded in the audit trail.

use std::io::Write;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::approvals::ApprovalStatus;
use super::audit::EventKind;
use super::input::{self, InputMode};
use super::line::LinePrompter;
use super::prompt::{Answer, PendingView, Prompter};
use super::session::Session;
use super::team;
use super::tui::TerminalPrompter;
use super::view::level_tag;
use super::when::parse_time;
use crate::cli::{Globals, WizardArgs};
use crate::error::{ExitCode, Failure};
use crate::hooks::{HookOutcome, HookRun};
use crate::migrate::files::Migration;
use crate::migrate::item;
use crate::migrate::report::FailureReport;
use crate::migrate::runner::{Settings, StepAudit};
use crate::output::{Report, paint, style};
use crate::plugins::HookEvent;
use crate::risk::{Level, MigrationRisk};

/// `migrate wizard`.
pub async fn wizard(g: &Globals, a: &WizardArgs) -> anyhow::Result<ExitCode> {
    // Parsed once, before anything else: `+2h` counts from when the command started.
    let schedule_at = match &a.schedule {
        Some(at) => Some(parse_time(at, Utc::now())?),
        None => None,
    };
    let mut session = Session::open(g, None).await?;
    let mode = input::detect();
    let mut hooks = if schedule_at.is_some() {
        HookRun::none(g.out.format)
    } else {
        HookRun::load(g, &session.ctx.project, "migrate wizard", false)?
    };
    let result = async {
        hooks
            .validate(HookEvent::PreValidate, &session.client)
            .await?;
        let lock = session.ctx.lock(&a.lock, &g.out).await?;
        let result = drive(&mut session, g, a, schedule_at, mode, &mut hooks).await;
        lock.release().await?;
        result
    }
    .await;
    let mut report = match result {
        Ok(report) => report,
        Err(err) => {
            hooks.failed(None, false, &err, &session.client).await;
            return Err(err);
        }
    };
    report.hooks = hooks.take_outcomes();
    g.out.report(&report);
    Ok(report.exit_code())
}

/// The wizard's session, step by step.
async fn drive(
    session: &mut Session,
    g: &Globals,
    a: &WizardArgs,
    schedule_at: Option<DateTime<Utc>>,
    mode: InputMode,
    hooks: &mut HookRun,
) -> anyhow::Result<WizardReport> {
    let out = &g.out;
    let pending = session.pending(a.target.as_deref(), out).await?;
    hooks
        .validate(HookEvent::PostValidate, &session.client)
        .await?;
    let mut report = WizardReport {
        database: session.ctx.db.spec.redacted(),
        environment: session.environment().to_string(),
        operator: session.actor.clone(),
        steps: Vec::new(),
        stopped: None,
        hooks: Vec::new(),
    };
    if pending.is_empty() {
        out.line("Nothing to apply: the database is up to date.");
        return Ok(report);
    }
    let mut approvals = Vec::new();
    for (m, risk) in &pending {
        let required = session.required(risk.level, a.collaborative);
        approvals.push(if required > 0 {
            Some(session.approvals(m, &session.actor, required).await?)
        } else {
            None
        });
    }
    let views: Vec<PendingView> = pending
        .iter()
        .zip(&approvals)
        .map(|((m, risk), status)| view(session, m, risk, status.as_ref()))
        .collect();
    let mut prompter: Box<dyn Prompter> = match mode {
        InputMode::Terminal => Box::new(TerminalPrompter::new()?),
        InputMode::Lines | InputMode::None => Box::new(LinePrompter::new(out.is_json())),
    };
    let timeout = a.timeout.map(Duration::from_secs);
    say(
        &mut *prompter,
        format!(
            "{} environment `{}`{} — {}, as {}",
            paint(style::BOLD, "Migration wizard:"),
            session.environment(),
            if session.ctx.project.env.protected {
                " (protected)"
            } else {
                ""
            },
            report.database,
            session.actor
        ),
    )?;
    blocking(|| prompter.overview(&views))?;
    if mode == InputMode::None {
        let all_low = pending.iter().all(|(_, r)| r.level == Level::Low);
        let protected = session.ctx.project.env.protected;
        if !(a.auto && all_low) || a.review || protected {
            let (m, risk) = &pending[0];
            let event = session.event(
                EventKind::Declined,
                m,
                Some(risk.level),
                "no input",
                Some("no terminal and no stdin to answer the wizard".into()),
            );
            session.record(&event).await?;
            return Err(no_input(a, protected, &pending).into());
        }
    }
    session.ctx.ledger.ensure(&session.client).await?;
    session.audit.ensure(&session.client).await?;
    let settings = Settings::from_env(&session.ctx.project.env);
    for (index, ((m, risk), view)) in pending.iter().zip(&views).enumerate() {
        let level = risk.level;
        let mut step = StepOutcome::new(m, level);
        let stop = 'step: {
            if schedule_at.is_none()
                && let Some(status) = &approvals[index]
                && !status.complete()
            {
                let summary = status.summary();
                say(
                    &mut *prompter,
                    format!(
                        "{} {} needs {} approval(s) from someone other than {}: {summary}",
                        paint(style::ERR, "blocked"),
                        m.slug(),
                        status.required,
                        session.actor
                    ),
                )?;
                let event = session.event(
                    EventKind::Blocked,
                    m,
                    Some(level),
                    "approvals missing",
                    Some(summary.clone()),
                );
                session.record(&event).await?;
                step.outcome = "blocked".into();
                step.detail = Some(summary);
                break 'step Some(Stop::Blocked);
            }
            if a.review {
                let answer = blocking(|| prompter.review(view, timeout))?;
                let outcome = match answer {
                    Answer::Yes => "reviewed",
                    Answer::No => "stopped at review",
                    _ => word(answer),
                };
                let event = session.event(EventKind::Review, m, Some(level), outcome, None);
                session.record(&event).await?;
                if !answer.is_yes() {
                    step.outcome = outcome.into();
                    break 'step Some(Stop::Answered {
                        answer: step.outcome.clone(),
                    });
                }
            }
            if level == Level::Critical && a.require_backup {
                let database = session
                    .ctx
                    .db
                    .spec
                    .dbname()
                    .unwrap_or("postgres")
                    .to_string();
                let prompt = format!(
                    "{} is CRITICAL. Type the database name `{database}` to confirm that a \
                     backup of it exists and was checked:",
                    m.slug()
                );
                let answer = blocking(|| prompter.type_to_confirm(&prompt, &database, timeout))?;
                let outcome = match answer {
                    Answer::Yes => "confirmed",
                    Answer::No => "not confirmed",
                    _ => word(answer),
                };
                let event = session.event(
                    EventKind::BackupConfirmation,
                    m,
                    Some(level),
                    outcome,
                    Some(format!("database {database}")),
                );
                session.record(&event).await?;
                if !answer.is_yes() {
                    step.outcome = format!("backup {outcome}");
                    break 'step Some(Stop::Answered {
                        answer: step.outcome.clone(),
                    });
                }
            }
            let answer = if a.auto && level == Level::Low {
                say(
                    &mut *prompter,
                    format!(
                        "{} {} (low risk, --auto)",
                        paint(style::DIM, "auto: yes for"),
                        m.slug()
                    ),
                )?;
                Answer::Yes
            } else {
                let question = match &schedule_at {
                    Some(at) => format!(
                        "Schedule {} {} for {}?",
                        m.slug(),
                        level_tag(level),
                        at.format("%Y-%m-%d %H:%M:%S UTC")
                    ),
                    None => format!("Apply {} {}?", m.slug(), level_tag(level)),
                };
                // A bare Enter applies a low-risk migration only.
                let default_yes = level == Level::Low;
                blocking(|| prompter.confirm(&question, default_yes, timeout))?
            };
            if !answer.is_yes() {
                let outcome = word(answer);
                let event = session.event(EventKind::Declined, m, Some(level), outcome, None);
                session.record(&event).await?;
                step.outcome = outcome.into();
                break 'step Some(Stop::Answered {
                    answer: step.outcome.clone(),
                });
            }
            if let Some(at) = schedule_at {
                let scheduled = team::add(session, m, level, at, a.collaborative).await?;
                say(
                    &mut *prompter,
                    format!(
                        "  {} {} for {}",
                        paint(style::OK, "scheduled"),
                        m.slug(),
                        scheduled.run_at.format("%Y-%m-%d %H:%M:%S UTC")
                    ),
                )?;
                step.outcome = "scheduled".into();
                step.detail = Some(scheduled.run_at.to_rfc3339());
                break 'step None;
            }
            say(&mut *prompter, format!("  applying {} ...", m.slug()))?;
            let event = session.event(EventKind::Applied, m, Some(level), "applied", None);
            let audit = StepAudit {
                log: &session.audit,
                event: &event,
            };
            let applied = crate::migrate::apply_migration(
                &session.ctx,
                &mut session.client,
                m,
                settings,
                Some(audit),
                out,
                hooks,
            )
            .await;
            match applied {
                Ok(elapsed) => {
                    let ms = elapsed.as_millis() as u64;
                    say(
                        &mut *prompter,
                        format!("  {} {} in {ms} ms", paint(style::OK, "applied"), m.slug()),
                    )?;
                    step.outcome = "applied".into();
                    step.duration_ms = Some(ms);
                    None
                }
                Err(err) => {
                    let failure = FailureReport::new(&item(m, None), m.no_transaction, &err);
                    say(
                        &mut *prompter,
                        format!(
                            "  {} {}: {}",
                            paint(style::ERR, "failed"),
                            m.slug(),
                            failure.message
                        ),
                    )?;
                    say(&mut *prompter, format!("  {}", failure.state))?;
                    let event = session.event(
                        EventKind::Failed,
                        m,
                        Some(level),
                        "failed",
                        Some(failure.message.clone()),
                    );
                    session.record(&event).await?;
                    step.outcome = "failed".into();
                    step.detail = Some(failure.message.clone());
                    Some(Stop::Failed(Box::new(failure)))
                }
            }
        };
        report.steps.push(step);
        if let Some(stop) = stop {
            for (m, risk) in &pending[index + 1..] {
                report.steps.push(StepOutcome::new(m, risk.level));
            }
            say(&mut *prompter, stop.explain())?;
            report.stopped = Some(stop);
            break;
        }
    }
    Ok(report)
}

/// Runs a prompt (which blocks on the terminal or stdin) without stalling the runtime.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

fn say(prompter: &mut dyn Prompter, line: String) -> anyhow::Result<()> {
    prompter.say(&line)
}

/// How an answer other than yes is recorded.
fn word(answer: Answer) -> &'static str {
    match answer {
        Answer::Yes => "yes",
        Answer::No => "declined",
        Answer::TimedOut => "timed out",
        Answer::NoInput => "no input",
    }
}

fn view(
    session: &Session,
    m: &Migration,
    risk: &MigrationRisk,
    approvals: Option<&ApprovalStatus>,
) -> PendingView {
    PendingView {
        slug: m.slug(),
        path: session.ctx.show(&m.up_path),
        sql: m.up_sql.clone(),
        no_transaction: m.no_transaction,
        risk: risk.clone(),
        approvals: approvals.map(ApprovalStatus::summary),
    }
}

/// The refusal without anyone to answer.
fn no_input(a: &WizardArgs, protected: bool, pending: &[(Migration, MigrationRisk)]) -> Failure {
    let risky: Vec<String> = pending
        .iter()
        .filter(|(_, r)| r.level > Level::Low)
        .map(|(m, r)| format!("{} ({})", m.slug(), r.level.label()))
        .collect();
    let message = if protected {
        "no terminal and no stdin on a protected environment: the wizard needs someone to \
         answer; nothing was applied"
            .to_string()
    } else if a.review {
        "no terminal and no stdin to read the --review: nothing was applied".to_string()
    } else if a.auto {
        format!(
            "no terminal and no stdin to answer for {}: nothing was applied",
            risky.join(", ")
        )
    } else {
        "no terminal and no stdin to answer the wizard's questions: nothing was applied".into()
    };
    let hint = if protected {
        "run it on a terminal, pipe the answers in (e.g. `printf 'y\\n' | confiture migrate \
         wizard`), or use `confiture migrate up --yes` in automation"
    } else {
        "run it on a terminal, pipe the answers in (e.g. `printf 'y\\n' | confiture migrate \
         wizard`), pass --auto when every pending migration is low risk, or use \
         `confiture migrate up` in automation"
    };
    Failure::new(ExitCode::Refused, message).hint(hint)
}

/// Why the wizard stopped before the end.
#[derive(Debug, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
enum Stop {
    /// No, a timeout or the end of input.
    Answered {
        /// The outcome recorded: `declined`, `timed out`, `no input`, `backup not confirmed`,
        /// `stopped at review`.
        answer: String,
    },
    /// Approvals were missing.
    Blocked,
    /// A migration failed.
    Failed(Box<FailureReport>),
}

impl Stop {
    fn explain(&self) -> String {
        let rest = "nothing after it was applied";
        match self {
            Stop::Answered { answer } => format!("Stopped ({answer}): {rest}."),
            Stop::Blocked => format!(
                "Stopped: approvals missing; {rest}. Ask a colleague to run `confiture migrate \
                 approve VERSION --env ...`."
            ),
            Stop::Failed(_) => format!("Stopped at the failure: {rest}."),
        }
    }
}

/// One pending migration's outcome.
#[derive(Debug, Serialize)]
struct StepOutcome {
    version: String,
    name: String,
    risk: Level,
    /// `applied`, `scheduled`, `failed`, `declined`, `timed out`, `blocked`, ... or `not run`.
    outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

impl StepOutcome {
    fn new(m: &Migration, risk: Level) -> Self {
        StepOutcome {
            version: m.version.clone(),
            name: m.name.clone(),
            risk,
            outcome: "not run".into(),
            duration_ms: None,
            detail: None,
        }
    }
}

/// What the wizard did.
#[derive(Debug, Serialize)]
struct WizardReport {
    database: String,
    environment: String,
    operator: String,
    steps: Vec<StepOutcome>,
    stopped: Option<Stop>,
    hooks: Vec<HookOutcome>,
}

impl WizardReport {
    fn exit_code(&self) -> ExitCode {
        match self.stopped {
            None => ExitCode::Ok,
            Some(Stop::Failed(_)) => ExitCode::Failure,
            Some(_) => ExitCode::Refused,
        }
    }
}

impl Report for WizardReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.steps.is_empty() {
            return Ok(());
        }
        let count = |o: &str| self.steps.iter().filter(|s| s.outcome == o).count();
        writeln!(
            out,
            "{} {} applied, {} scheduled, {} not applied",
            paint(style::BOLD, "Wizard:"),
            count("applied"),
            count("scheduled"),
            self.steps.len() - count("applied") - count("scheduled")
        )
    }
}
