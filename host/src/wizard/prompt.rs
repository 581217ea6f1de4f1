//! What the wizard shows and asks, independent of how: the crossterm terminal UI
//! ([`super::tui`]) or plain line prompts ([`super::line`]).

use std::time::Duration;

use crate::risk::{Level, MigrationRisk};

/// How a question was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Yes (or, for a review, "reviewed: go on").
    Yes,
    /// No (or, for a review, "quit").
    No,
    /// No answer before the timeout: counts as no.
    TimedOut,
    /// The input ended (EOF on stdin): counts as no.
    NoInput,
}

impl Answer {
    /// True only for [`Answer::Yes`]: every other answer means no.
    pub fn is_yes(self) -> bool {
        self == Answer::Yes
    }
}

/// One pending migration as the wizard shows it.
#[derive(Debug, Clone)]
pub struct PendingView<'a> {
    /// `version_name`.
    pub slug: String,
    /// The `.up.sql` file relative to the project root.
    pub path: String,
    /// Its SQL, as on disk.
    pub sql: &'a str,
    /// Runs outside a transaction (`-- confiture: no-transaction`).
    pub no_transaction: bool,
    /// Its risk: the level and each statement's assessment by line.
    pub risk: MigrationRisk,
    /// Who approved it and what is missing, when approvals are required (one line).
    pub approvals: Option<String>,
}

impl PendingView<'_> {
    /// The migration's level.
    pub fn level(&self) -> Level {
        self.risk.level
    }

    /// `(line, level, reason)` for every statement above low, in order: what a review marks.
    pub fn marks(&self) -> Vec<(u32, Level, String)> {
        self.risk
            .statements
            .iter()
            .filter(|(_, a)| a.level > Level::Low)
            .flat_map(|(line, a)| {
                a.worst_reasons()
                    .map(move |r| (*line, a.level, r.message.clone()))
            })
            .collect()
    }
}

/// The wizard's side of the conversation. Every question takes an optional timeout; no answer
/// within it is [`Answer::TimedOut`], which the wizard treats as no. `Send`: the wizard asks
/// through [`crate::bridge::run_blocking`], which may move a question to another thread.
pub trait Prompter: Send {
    /// Shows one line of text (progress, an outcome); may contain ANSI styles from
    /// [`crate::output::paint`].
    fn say(&mut self, line: &str) -> anyhow::Result<()>;

    /// Shows the pending migrations with their risk level and reasons (and approvals).
    fn overview(&mut self, pending: &[PendingView]) -> anyhow::Result<()>;

    /// Shows a migration's SQL for review with its risky statements marked, until the operator
    /// is done: [`Answer::Yes`] to go on, [`Answer::No`] to stop the wizard.
    fn review(
        &mut self,
        migration: &PendingView,
        timeout: Option<Duration>,
    ) -> anyhow::Result<Answer>;

    /// Asks a yes/no question; a bare Enter answers `default_yes`.
    fn confirm(
        &mut self,
        question: &str,
        default_yes: bool,
        timeout: Option<Duration>,
    ) -> anyhow::Result<Answer>;

    /// Asks the operator to type `expected` exactly (e.g. the database name): [`Answer::Yes`]
    /// when the typed text matches, [`Answer::No`] when it does not.
    fn type_to_confirm(
        &mut self,
        prompt: &str,
        expected: &str,
        timeout: Option<Duration>,
    ) -> anyhow::Result<Answer>;
}

/// `question [Y/n] ` (or `[y/N]`): the capital letter is what a bare Enter answers.
pub fn question_text(question: &str, default_yes: bool) -> String {
    let choices = if default_yes { "[Y/n]" } else { "[y/N]" };
    format!("{question} {choices} ")
}

/// What is shown when a question times out, e.g. `(no answer in 30 s: no)`.
pub fn timed_out(timeout: Option<Duration>) -> String {
    let timeout = timeout.unwrap_or_default();
    let seconds = if timeout.subsec_nanos() == 0 {
        timeout.as_secs().to_string()
    } else {
        format!("{:.1}", timeout.as_secs_f64())
    };
    format!("(no answer in {seconds} s: no)")
}
