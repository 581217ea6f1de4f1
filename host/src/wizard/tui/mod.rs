//! The wizard's terminal UI (crossterm): yes/no questions answered with one key, typed
//! confirmations, and a full-screen, scrollable review of a migration's SQL.
//!
//! It runs whenever stdin is a terminal, whatever stdout is: questions and the review go to the
//! terminal itself ([`tty::Terminal`]), progress lines to stdout when stdout is not the
//! terminal (a pipe, `tee`, a file). Echo is off for the whole session and raw mode on only
//! while keys are read; keys typed before a question is shown are discarded, so a key pressed
//! during a long migration cannot answer the next question. The terminal is restored on every
//! way out: errors, panics, SIGINT, SIGTERM and SIGHUP.

mod highlight;
mod keys;
mod review;
mod tty;

use std::borrow::Cow;
use std::io::{self, IsTerminal, Write};
use std::os::unix::fs::FileTypeExt;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use crossterm::cursor::MoveTo;
use crossterm::event::{self, Event, KeyEvent, KeyEventKind};
use crossterm::queue;
use crossterm::style::Print;
use crossterm::terminal::{self, Clear, ClearType};

pub use keys::answer_for;
use keys::{LineKey, ReviewKey, line_key, review_key};
use review::Review;
use tty::Terminal;

use super::prompt::{Answer, PendingView, Prompter, question_text, timed_out};
use super::view::overview_lines;

/// The size assumed when the terminal does not report one (or reports zero).
const FALLBACK_SIZE: (usize, usize) = (80, 24);

/// How long one wait for a key lasts when there is no deadline (then it simply waits again).
const IDLE_POLL: Duration = Duration::from_secs(60);

/// How long a question waits for `tee` to take the progress written before it.
const PIPE_SETTLE: Duration = Duration::from_secs(1);

/// How often that wait looks at the pipe.
const PIPE_POLL: Duration = Duration::from_millis(5);

/// How often the review redraws its countdown.
const TICK: Duration = Duration::from_secs(1);

/// Asks the wizard's questions on the terminal (stdin must be one; stdout may be anything).
#[derive(Debug)]
pub struct TerminalPrompter {
    terminal: Terminal,
    /// Show colours on the terminal; off when `NO_COLOR` (or `--color never`) says so.
    colour: bool,
    /// Where progress lines and the overview go.
    progress: Progress,
}

/// Where [`Prompter::say`] and [`Prompter::overview`] write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    /// The terminal: stdout is the terminal, or stdout carries a JSON report.
    Terminal,
    /// stdout, which is not the terminal (a pipe, `tee`, a file): the run's log keeps them.
    Stdout {
        /// stdout is a pipe (`| tee`): its reader may still hold progress for the screen.
        pipe: bool,
    },
}

impl TerminalPrompter {
    /// A prompter on this process's terminal; fails when stdin is not a terminal.
    /// `json_on_stdout`: stdout carries the JSON report, so progress goes to the terminal.
    pub fn new(json_on_stdout: bool) -> anyhow::Result<Self> {
        if !io::stdin().is_terminal() {
            bail!("the terminal UI needs a terminal on stdin");
        }
        let terminal = Terminal::open()?;
        let colour = terminal.colour();
        let progress = if json_on_stdout || io::stdout().is_terminal() {
            Progress::Terminal
        } else {
            Progress::Stdout {
                pipe: stdout_is_a_pipe(),
            }
        };
        Ok(TerminalPrompter {
            terminal,
            colour,
            progress,
        })
    }

    /// `text` with its ANSI styles, or without them when colour is off.
    fn styled<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.colour {
            Cow::Borrowed(text)
        } else {
            Cow::Owned(anstream::adapter::strip_str(text).to_string())
        }
    }

    /// Writes `text` to the terminal as is (no newline added).
    fn print(&self, text: &str) -> anyhow::Result<()> {
        self.terminal.write(self.styled(text).as_bytes())
    }

    /// Writes progress `text` (no newline added) where progress goes.
    fn progress(&self, text: &str) -> anyhow::Result<()> {
        match self.progress {
            Progress::Terminal => self.print(text),
            Progress::Stdout { .. } => {
                let mut out = anstream::stdout();
                write!(out, "{text}")
                    .and_then(|()| out.flush())
                    .context("writing to stdout")
            }
        }
    }

    /// Before a question: waits (at most [`PIPE_SETTLE`]) until the reader of a piped stdout
    /// (`tee`) has taken the progress written so far, so that it reaches the screen before
    /// the question rather than in the middle of its line.
    fn let_progress_through(&self) {
        if self.progress != (Progress::Stdout { pipe: true }) {
            return;
        }
        let deadline = Instant::now() + PIPE_SETTLE;
        while unread_in_stdout() > 0 && Instant::now() < deadline {
            std::thread::sleep(PIPE_POLL);
        }
    }

    /// Redraws the whole screen with `lines`, at most `height` of them, in one write.
    fn draw(&self, lines: &[String], height: usize) -> anyhow::Result<()> {
        let mut frame = Vec::new();
        for (row, line) in (0..=u16::MAX).zip(lines.iter().take(height)) {
            queue!(
                frame,
                MoveTo(0, row),
                Clear(ClearType::CurrentLine),
                Print(self.styled(line))
            )
            .context("drawing the review")?;
        }
        self.terminal.write(&frame)
    }
}

impl Prompter for TerminalPrompter {
    fn say(&mut self, line: &str) -> anyhow::Result<()> {
        self.progress(&format!("{line}\n"))
    }

    fn overview(&mut self, pending: &[PendingView]) -> anyhow::Result<()> {
        let mut text = overview_lines(pending).join("\n");
        text.push('\n');
        self.progress(&text)
    }

    /// The full-screen review on the alternate screen. The timeout is a deadline for the whole
    /// review, shown as a countdown in the header: scrolling does not extend it.
    fn review(
        &mut self,
        migration: &PendingView,
        timeout: Option<Duration>,
    ) -> anyhow::Result<Answer> {
        let review = Review::new(migration);
        self.let_progress_through();
        let deadline = deadline(timeout);
        let answer = {
            let _raw = self.terminal.raw()?;
            let _screen = self.terminal.alternate_screen()?;
            let mut top = 0;
            loop {
                let (width, height) = screen_size();
                top = top.min(review.max_top(height));
                let remaining = deadline.map(|at| at.saturating_duration_since(Instant::now()));
                self.draw(&review.render(width, height, top, remaining), height)?;
                match next_event(deadline, deadline.map(|_| TICK))? {
                    Wait::Key(key) => match review_key(key) {
                        Some(ReviewKey::Done(answer)) => break answer,
                        Some(key) => top = review.scrolled(top, key, height),
                        None => {}
                    },
                    Wait::Deadline => break Answer::TimedOut,
                    Wait::Resized | Wait::Tick => {}
                }
            }
        };
        if answer == Answer::TimedOut {
            self.print(&format!("{}\n", timed_out(timeout)))?;
        }
        Ok(answer)
    }

    fn confirm(
        &mut self,
        question: &str,
        default_yes: bool,
        timeout: Option<Duration>,
    ) -> anyhow::Result<Answer> {
        self.let_progress_through();
        let deadline = deadline(timeout);
        let answer = {
            let _raw = self.terminal.raw()?;
            self.print(&raw_text(&question_text(question, default_yes)))?;
            loop {
                match next_event(deadline, None)? {
                    Wait::Key(key) => {
                        if let Some(answer) = answer_for(key, default_yes) {
                            break answer;
                        }
                    }
                    Wait::Deadline => break Answer::TimedOut,
                    Wait::Resized | Wait::Tick => {}
                }
            }
        };
        let echo = match answer {
            Answer::Yes => "yes".to_string(),
            Answer::TimedOut => timed_out(timeout),
            Answer::No | Answer::NoInput => "no".to_string(),
        };
        self.print(&format!("{echo}\n"))?;
        Ok(answer)
    }

    fn type_to_confirm(
        &mut self,
        prompt: &str,
        expected: &str,
        timeout: Option<Duration>,
    ) -> anyhow::Result<Answer> {
        self.let_progress_through();
        let deadline = deadline(timeout);
        let (answer, note) = {
            let _raw = self.terminal.raw()?;
            let space = if prompt.ends_with(char::is_whitespace) {
                ""
            } else {
                " "
            };
            self.print(&raw_text(&format!("{prompt}{space}")))?;
            let mut typed = String::new();
            loop {
                match next_event(deadline, None)? {
                    Wait::Key(key) => match line_key(key) {
                        Some(LineKey::Insert(c)) => {
                            typed.push(c);
                            self.print(c.encode_utf8(&mut [0; 4]))?;
                        }
                        Some(LineKey::Backspace) if !typed.is_empty() => {
                            typed.pop();
                            self.print("\x08 \x08")?;
                        }
                        Some(LineKey::Submit) if typed == expected => break (Answer::Yes, None),
                        Some(LineKey::Submit) => break (Answer::No, None),
                        Some(LineKey::Cancel) => break (Answer::No, Some("(cancelled)".into())),
                        Some(LineKey::Backspace) | None => {}
                    },
                    Wait::Deadline => break (Answer::TimedOut, Some(timed_out(timeout))),
                    Wait::Resized | Wait::Tick => {}
                }
            }
        };
        match note {
            Some(note) => self.print(&format!(" {note}\n"))?,
            None => self.print("\n")?,
        }
        Ok(answer)
    }
}

/// What waiting on the terminal brought.
enum Wait {
    /// A key press (or repeat).
    Key(KeyEvent),
    /// The terminal changed size.
    Resized,
    /// The tick passed with nothing else.
    Tick,
    /// The deadline passed.
    Deadline,
}

/// Waits (in raw mode) for a key, a resize, the tick or the deadline.
fn next_event(deadline: Option<Instant>, tick: Option<Duration>) -> anyhow::Result<Wait> {
    loop {
        let left = match deadline {
            Some(at) => match at.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return Ok(Wait::Deadline),
            },
            None => None,
        };
        let step = left.into_iter().chain(tick).min().unwrap_or(IDLE_POLL);
        if !event::poll(step).context("waiting for a key")? {
            if tick.is_some() && deadline.is_none_or(|at| Instant::now() < at) {
                return Ok(Wait::Tick);
            }
            continue;
        }
        match event::read().context("reading a key")? {
            Event::Key(key) if key.kind != KeyEventKind::Release => return Ok(Wait::Key(key)),
            Event::Resize(..) => return Ok(Wait::Resized),
            _ => {}
        }
    }
}

/// True when stdout is a pipe.
fn stdout_is_a_pipe() -> bool {
    std::fs::metadata("/proc/self/fd/1").is_ok_and(|m| m.file_type().is_fifo())
}

/// Bytes written to stdout's pipe that its reader has not read yet (0 when unknown).
fn unread_in_stdout() -> usize {
    let mut unread: nix::libc::c_int = 0;
    // SAFETY: FIONREAD writes one int through a pointer to a live one; on failure it writes
    // nothing and 0 is returned.
    let read = unsafe { nix::libc::ioctl(1, nix::libc::FIONREAD, &mut unread) };
    if read == 0 {
        usize::try_from(unread).unwrap_or(0)
    } else {
        0
    }
}

/// The terminal's `(columns, rows)`, or 80x24 when it reports none (e.g. a fresh pseudo-terminal).
fn screen_size() -> (usize, usize) {
    match terminal::size() {
        Ok((columns, rows)) if columns > 0 && rows > 0 => (columns.into(), rows.into()),
        _ => FALLBACK_SIZE,
    }
}

/// When a question with `timeout` started now stops waiting (`None`: never).
fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|t| Instant::now().checked_add(t))
}

/// Text for raw mode, where a newline does not return the carriage.
fn raw_text(text: &str) -> String {
    text.replace('\n', "\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_notes() {
        assert_eq!(
            timed_out(Some(Duration::from_secs(30))),
            "(no answer in 30 s: no)"
        );
        assert_eq!(
            timed_out(Some(Duration::from_millis(1500))),
            "(no answer in 1.5 s: no)"
        );
    }

    #[test]
    fn raw_text_returns_the_carriage() {
        assert_eq!(raw_text("a\nb "), "a\r\nb ");
    }

    #[test]
    fn deadlines() {
        assert!(deadline(None).is_none());
        assert!(deadline(Some(Duration::MAX)).is_none());
        assert!(deadline(Some(Duration::from_secs(1))).is_some_and(|at| at > Instant::now()));
    }
}
