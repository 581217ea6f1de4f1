//! `confiture migrate wizard`: pending migrations one at a time — their risk and reasons, an
//! optional review of the SQL, a backup confirmation before critical ones, approvals, and a
//! question before each — applied with the hooks firing, stopping at the first no, timeout or
//! failure. Every step is recorded in the audit trail.

use std::io::Write;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::input::{self, InputMode};
use super::line::LinePrompter;
use super::prompt::{Answer, PendingView, Prompter};
use super::tui::TerminalPrompter;
use crate::bridge::run_blocking;
use crate::context::Globals;
use crate::db::lock::MigrationLock;
use crate::error::{ExitCode, Failure};
use crate::hooks::{HookOutcome, HookRun};
use crate::migrate::apply::{
    Admission, Applier, AuditTrail, Flow, Outcome, SessionReset, Settings, Unit,
};
use crate::migrate::approvals::ApprovalStatus;
use crate::migrate::audit::EventKind;
use crate::migrate::commands::LockOptions;
use crate::migrate::files::Migration;
use crate::migrate::report::{FailureReport, level_tag};
use crate::migrate::session::Session;
use crate::migrate::team;
use crate::migrate::when::parse_time;
use crate::output::{Report, paint, style};
use crate::plugins::HookEvent;
use crate::risk::{Level, MigrationRisk};

/// What `confiture migrate wizard` is asked to do (its flags, as plain values).
#[derive(Debug, Clone, Default)]
pub struct WizardRequest {
    /// Stop after this version.
    pub target: Option<String>,
    /// Open each migration's SQL before its question.
    pub review: bool,
    /// Answer yes for low-risk migrations.
    pub auto: bool,
    /// Before a critical migration, require typing the database name to confirm a backup.
    pub require_backup: bool,
    /// Give up on any question after this many seconds.
    pub timeout: Option<u64>,
    /// Require at least one approval from someone else for every migration.
    pub collaborative: bool,
    /// Schedule the confirmed migrations for this time instead of applying them now.
    pub schedule: Option<String>,
    /// How to wait for the migration lock.
    pub lock: LockOptions,
}

/// `migrate wizard`.
pub async fn wizard(g: &Globals, a: &WizardRequest) -> anyhow::Result<ExitCode> {
    // Parsed once, before anything else: `+2h` counts from when the command started.
    let schedule_at = match &a.schedule {
        Some(at) => Some(parse_time(at, Utc::now())?),
        None => None,
    };
    let session = Session::open(g, None).await?;
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
        let result = drive(&session, g, a, schedule_at, mode, &mut hooks, &lock).await;
        lock.release().await;
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
    session: &Session,
    g: &Globals,
    a: &WizardRequest,
    schedule_at: Option<DateTime<Utc>>,
    mode: InputMode,
    hooks: &mut HookRun,
    lock: &MigrationLock,
) -> anyhow::Result<WizardReport> {
    let out = &g.out;
    let pending = session.pending(a.target.as_deref(), out).await?;
    let refs: Vec<&Migration> = pending.iter().map(|(m, _)| *m).collect();
    let mut units = session.ctx.units(&refs)?;
    for (unit, (_, risk)) in units.iter_mut().zip(&pending) {
        unit.risk = Some(risk.level);
    }
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
    let prompter: Box<dyn Prompter> = match mode {
        InputMode::Terminal => Box::new(TerminalPrompter::new(out.is_json())?),
        InputMode::Lines | InputMode::None => Box::new(LinePrompter::new(out.is_json())),
    };
    let mut wizard = Wizard {
        session,
        prompter,
        pending: &pending,
        views: &views,
        approvals: &approvals,
        args: a,
        schedule_at,
        timeout: a.timeout.map(Duration::from_secs),
        steps: pending
            .iter()
            .map(|(m, risk)| StepOutcome::new(m, risk.level))
            .collect(),
        stopped: None,
    };
    wizard.say(format!(
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
    ))?;
    run_blocking(|| wizard.prompter.overview(&views))?;
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
    session.audit.ensure(&session.client).await?;
    if schedule_at.is_some() {
        wizard.schedule_all().await?;
    } else {
        let mut applier = Applier {
            client: &session.client,
            ledger: &session.ctx.ledger,
            settings: Settings::from_env(&session.ctx.project.env),
            hooks,
            audit: Some(AuditTrail {
                log: &session.audit,
                actor: &session.actor,
                environment: session.environment(),
            }),
            out,
            reset: SessionReset::for_server(&session.client).await?,
        };
        // The wizard is the run's flow: it asks before each migration and shows each outcome.
        applier.apply(lock, &units, &mut wizard).await?;
    }
    if let Some(stop) = &wizard.stopped {
        wizard.say(stop.explain())?;
    }
    report.steps = wizard.steps;
    report.stopped = wizard.stopped;
    Ok(report)
}

/// The wizard while it runs: its prompter, what it knows about each pending migration, and
/// how each step ended.
struct Wizard<'a> {
    session: &'a Session,
    prompter: Box<dyn Prompter>,
    pending: &'a [(&'a Migration, MigrationRisk)],
    views: &'a [PendingView<'a>],
    approvals: &'a [Option<ApprovalStatus>],
    args: &'a WizardRequest,
    schedule_at: Option<DateTime<Utc>>,
    timeout: Option<Duration>,
    steps: Vec<StepOutcome>,
    stopped: Option<Stop>,
}

impl Wizard<'_> {
    fn say(&mut self, line: String) -> anyhow::Result<()> {
        self.prompter.say(&line)
    }

    /// The pending migration with `version`.
    fn index_of(&self, version: &str) -> usize {
        self.pending
            .iter()
            .position(|(m, _)| m.version == version)
            .unwrap_or(0)
    }

    /// Schedules each pending migration the operator says yes to, stopping at the first no.
    async fn schedule_all(&mut self) -> anyhow::Result<()> {
        let Some(at) = self.schedule_at else {
            return Ok(());
        };
        for index in 0..self.pending.len() {
            if !self.ask(index).await? {
                return Ok(());
            }
            let (m, risk) = &self.pending[index];
            let scheduled =
                team::add(self.session, m, risk.level, at, self.args.collaborative).await?;
            self.say(format!(
                "  {} {} for {}",
                paint(style::OK, "scheduled"),
                m.slug(),
                scheduled.run_at.format("%Y-%m-%d %H:%M:%S UTC")
            ))?;
            self.steps[index].outcome = Step::Scheduled;
            self.steps[index].detail = Some(scheduled.run_at.to_rfc3339());
        }
        Ok(())
    }

    /// Asks about the pending migration `index`: its approvals (when applying now), the
    /// review, the backup confirmation, the question itself. False when the wizard stops here
    /// (the step and the reason are recorded).
    async fn ask(&mut self, index: usize) -> anyhow::Result<bool> {
        let session = self.session;
        let a = self.args;
        let (m, risk) = &self.pending[index];
        let level = risk.level;
        let timeout = self.timeout;
        if self.schedule_at.is_none()
            && let Some(status) = &self.approvals[index]
            && !status.complete()
        {
            let summary = status.summary();
            self.say(format!(
                "{} {} needs {} approval(s) from someone other than {}: {summary}",
                paint(style::ERR, "blocked"),
                m.slug(),
                status.required,
                session.actor
            ))?;
            let event = session.event(
                EventKind::Blocked,
                m,
                Some(level),
                "approvals missing",
                Some(summary.clone()),
            );
            session.record(&event).await?;
            self.steps[index].outcome = Step::Blocked;
            self.steps[index].detail = Some(summary);
            self.stopped = Some(Stop::Blocked);
            return Ok(false);
        }
        if a.review {
            let view = &self.views[index];
            let prompter = &mut self.prompter;
            let answer = run_blocking(|| prompter.review(view, timeout))?;
            let step = match answer {
                Answer::Yes => Step::Reviewed,
                Answer::No => Step::StoppedAtReview,
                other => Step::from_answer(other),
            };
            let event = session.event(EventKind::Review, m, Some(level), step.word(), None);
            session.record(&event).await?;
            if !answer.is_yes() {
                return Ok(self.stop(index, step));
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
                "{} is CRITICAL. Type the database name `{database}` to confirm that a backup \
                 of it exists and was checked:",
                m.slug()
            );
            let prompter = &mut self.prompter;
            let answer = run_blocking(|| prompter.type_to_confirm(&prompt, &database, timeout))?;
            let outcome = match answer {
                Answer::Yes => "confirmed",
                Answer::No => "not confirmed",
                other => Step::from_answer(other).word(),
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
                return Ok(self.stop(index, Step::backup(answer)));
            }
        }
        let answer = if a.auto && level == Level::Low {
            self.say(format!(
                "{} {} (low risk, --auto)",
                paint(style::DIM, "auto: yes for"),
                m.slug()
            ))?;
            Answer::Yes
        } else {
            let question = match &self.schedule_at {
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
            let prompter = &mut self.prompter;
            run_blocking(|| prompter.confirm(&question, default_yes, timeout))?
        };
        if !answer.is_yes() {
            let step = Step::from_answer(answer);
            let event = session.event(EventKind::Declined, m, Some(level), step.word(), None);
            session.record(&event).await?;
            return Ok(self.stop(index, step));
        }
        Ok(true)
    }

    /// Records that the wizard stopped at step `index` with `step`; returns false.
    fn stop(&mut self, index: usize, step: Step) -> bool {
        self.steps[index].outcome = step;
        self.stopped = Some(Stop::Answered { answer: step });
        false
    }
}

impl Flow for Wizard<'_> {
    async fn admit(&mut self, unit: &Unit<'_>) -> anyhow::Result<Admission> {
        let index = self.index_of(&unit.version);
        Ok(if self.ask(index).await? {
            Admission::Apply
        } else {
            Admission::Stop
        })
    }

    async fn starting(&mut self, unit: &Unit<'_>) -> anyhow::Result<()> {
        self.say(format!("  applying {} ...", unit.slug()))
    }

    async fn finished(&mut self, unit: &Unit<'_>, outcome: &Outcome) -> anyhow::Result<()> {
        let index = self.index_of(&unit.version);
        match outcome {
            Outcome::Applied { elapsed } => {
                let ms = elapsed.as_millis() as u64;
                self.say(format!(
                    "  {} {} in {ms} ms",
                    paint(style::OK, "applied"),
                    unit.slug()
                ))?;
                self.steps[index].outcome = Step::Applied;
                self.steps[index].duration_ms = Some(ms);
            }
            Outcome::Failed(failure) => {
                let failure = FailureReport::of(unit, failure, false);
                self.say(format!(
                    "  {} {}: {}",
                    paint(style::ERR, "failed"),
                    unit.slug(),
                    failure.message
                ))?;
                self.say(format!("  {}", failure.state))?;
                self.steps[index].outcome = Step::Failed;
                self.steps[index].detail = Some(failure.message.clone());
                self.stopped = Some(Stop::Failed(Box::new(failure)));
            }
            _ => {}
        }
        Ok(())
    }
}

fn view<'a>(
    session: &Session,
    m: &'a Migration,
    risk: &MigrationRisk,
    approvals: Option<&ApprovalStatus>,
) -> PendingView<'a> {
    PendingView {
        slug: m.slug(),
        path: session.ctx.show(&m.up_path),
        sql: &m.up_sql,
        no_transaction: m.no_transaction,
        risk: risk.clone(),
        approvals: approvals.map(ApprovalStatus::summary),
    }
}

/// The refusal without anyone to answer.
fn no_input(
    a: &WizardRequest,
    protected: bool,
    pending: &[(&Migration, MigrationRisk)],
) -> Failure {
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
        /// The step's outcome: declined, timed out, no input, a backup not confirmed, stopped
        /// at review.
        answer: Step,
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
            Stop::Answered { answer } => format!("Stopped ({}): {rest}.", answer.word()),
            Stop::Blocked => format!(
                "Stopped: approvals missing; {rest}. Ask a colleague to run `confiture migrate \
                 approve VERSION --env ...`."
            ),
            Stop::Failed(_) => format!("Stopped at the failure: {rest}."),
        }
    }
}

/// How a pending migration's step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
enum Step {
    /// Not reached (or not applied after a stop).
    #[serde(rename = "not run")]
    NotRun,
    /// Applied.
    #[serde(rename = "applied")]
    Applied,
    /// Scheduled (`--schedule`).
    #[serde(rename = "scheduled")]
    Scheduled,
    /// It failed.
    #[serde(rename = "failed")]
    Failed,
    /// Approvals were missing.
    #[serde(rename = "blocked")]
    Blocked,
    /// Reviewed (an audit outcome; the step goes on).
    #[serde(rename = "reviewed")]
    Reviewed,
    /// The operator quit the review.
    #[serde(rename = "stopped at review")]
    StoppedAtReview,
    /// The operator said no.
    #[serde(rename = "declined")]
    Declined,
    /// No answer in time.
    #[serde(rename = "timed out")]
    TimedOut,
    /// The input ended.
    #[serde(rename = "no input")]
    NoInput,
    /// The backup was not confirmed.
    #[serde(rename = "backup not confirmed")]
    BackupNotConfirmed,
    /// No backup confirmation in time.
    #[serde(rename = "backup timed out")]
    BackupTimedOut,
    /// The input ended at the backup confirmation.
    #[serde(rename = "backup no input")]
    BackupNoInput,
}

impl Step {
    /// The step for an answer other than yes.
    fn from_answer(answer: Answer) -> Step {
        match answer {
            Answer::Yes | Answer::No => Step::Declined,
            Answer::TimedOut => Step::TimedOut,
            Answer::NoInput => Step::NoInput,
        }
    }

    /// The step for an answer other than yes to the backup confirmation.
    fn backup(answer: Answer) -> Step {
        match answer {
            Answer::TimedOut => Step::BackupTimedOut,
            Answer::NoInput => Step::BackupNoInput,
            Answer::Yes | Answer::No => Step::BackupNotConfirmed,
        }
    }

    /// The words recorded and shown.
    fn word(self) -> &'static str {
        match self {
            Step::NotRun => "not run",
            Step::Applied => "applied",
            Step::Scheduled => "scheduled",
            Step::Failed => "failed",
            Step::Blocked => "blocked",
            Step::Reviewed => "reviewed",
            Step::StoppedAtReview => "stopped at review",
            Step::Declined => "declined",
            Step::TimedOut => "timed out",
            Step::NoInput => "no input",
            Step::BackupNotConfirmed => "backup not confirmed",
            Step::BackupTimedOut => "backup timed out",
            Step::BackupNoInput => "backup no input",
        }
    }
}

/// One pending migration's outcome.
#[derive(Debug, Serialize)]
struct StepOutcome {
    version: String,
    name: String,
    risk: Level,
    outcome: Step,
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
            outcome: Step::NotRun,
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
            // A lost lock (6) or connection (3) keeps its own code.
            Some(Stop::Failed(ref failure)) => match failure.exit_code() {
                ExitCode::MigrationFailed => ExitCode::Failure,
                other => other,
            },
            Some(_) => ExitCode::Refused,
        }
    }
}

impl Report for WizardReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.steps.is_empty() {
            return Ok(());
        }
        let count = |o: Step| self.steps.iter().filter(|s| s.outcome == o).count();
        let (applied, scheduled) = (count(Step::Applied), count(Step::Scheduled));
        writeln!(
            out,
            "{} {applied} applied, {scheduled} scheduled, {} not applied",
            paint(style::BOLD, "Wizard:"),
            self.steps.len() - applied - scheduled
        )
    }
}
