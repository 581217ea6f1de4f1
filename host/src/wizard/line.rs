//! Plain line prompts for the wizard when stdin is not a terminal: questions on stdout (stderr
//! under `--format json`), answers read line by line from stdin and echoed, so a script can
//! drive it (`printf 'y\nn\n' | confiture migrate wizard`) and its log shows the answers. The
//! end of stdin answers no.

use std::io::{BufRead, Write};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use super::prompt::{Answer, PendingView, Prompter, question_text, timed_out};
use super::view::{overview_lines, review_lines};

/// Line prompts on stdin and stdout (or stderr).
pub struct LinePrompter {
    to_stderr: bool,
    lines: Option<Receiver<Option<String>>>,
}

impl LinePrompter {
    /// Prompts on stdout, or on stderr when stdout carries a JSON report.
    pub fn new(to_stderr: bool) -> Self {
        LinePrompter {
            to_stderr,
            lines: None,
        }
    }

    fn write(&mut self, text: &str, newline: bool) -> anyhow::Result<()> {
        let end = if newline { "\n" } else { "" };
        if self.to_stderr {
            let mut err = anstream::stderr();
            write!(err, "{text}{end}")?;
            err.flush()?;
        } else {
            let mut out = anstream::stdout();
            write!(out, "{text}{end}")?;
            out.flush()?;
        }
        Ok(())
    }

    /// The next line of stdin, waiting at most `timeout`. stdin is read on a thread of its own
    /// so that a prompt can time out while a read is blocked.
    fn read_line(&mut self, timeout: Option<Duration>) -> Answered {
        let lines = self.lines.get_or_insert_with(|| {
            let (send, receive) = channel();
            std::thread::spawn(move || {
                let stdin = std::io::stdin();
                let mut stdin = stdin.lock();
                loop {
                    let mut line = String::new();
                    let got = match stdin.read_line(&mut line) {
                        Ok(0) | Err(_) => None,
                        Ok(_) => Some(line.trim_end_matches(['\r', '\n']).to_string()),
                    };
                    let end = got.is_none();
                    if send.send(got).is_err() || end {
                        return;
                    }
                }
            });
            receive
        });
        let got = match timeout {
            Some(t) => lines.recv_timeout(t),
            None => lines.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match got {
            Ok(Some(line)) => Answered::Line(line),
            Ok(None) | Err(RecvTimeoutError::Disconnected) => Answered::End,
            Err(RecvTimeoutError::Timeout) => Answered::TimedOut,
        }
    }

    fn ask(&mut self, prompt: &str, timeout: Option<Duration>) -> anyhow::Result<Answered> {
        self.write(prompt, false)?;
        let answered = self.read_line(timeout);
        match &answered {
            // Echoed: piped answers do not appear on the screen or in a log otherwise.
            Answered::Line(line) => self.write(line, true)?,
            Answered::End => self.write("(end of input: no)", true)?,
            Answered::TimedOut => self.write(&timed_out(timeout), true)?,
        }
        Ok(answered)
    }
}

/// What a read produced.
enum Answered {
    Line(String),
    End,
    TimedOut,
}

impl Prompter for LinePrompter {
    fn say(&mut self, line: &str) -> anyhow::Result<()> {
        self.write(line, true)
    }

    fn overview(&mut self, pending: &[PendingView]) -> anyhow::Result<()> {
        for line in overview_lines(pending) {
            self.write(&line, true)?;
        }
        Ok(())
    }

    fn review(
        &mut self,
        migration: &PendingView,
        timeout: Option<Duration>,
    ) -> anyhow::Result<Answer> {
        for line in review_lines(migration) {
            self.write(&line, true)?;
        }
        self.confirm("Reviewed; go on?", true, timeout)
    }

    fn confirm(
        &mut self,
        question: &str,
        default_yes: bool,
        timeout: Option<Duration>,
    ) -> anyhow::Result<Answer> {
        loop {
            let answer = match self.ask(&question_text(question, default_yes), timeout)? {
                Answered::End => Answer::NoInput,
                Answered::TimedOut => Answer::TimedOut,
                Answered::Line(line) => match line.trim().to_ascii_lowercase().as_str() {
                    "" if default_yes => Answer::Yes,
                    "" => Answer::No,
                    "y" | "yes" => Answer::Yes,
                    "n" | "no" | "q" | "quit" => Answer::No,
                    other => {
                        self.write(&format!("please answer y or n (got `{other}`)"), true)?;
                        continue;
                    }
                },
            };
            return Ok(answer);
        }
    }

    fn type_to_confirm(
        &mut self,
        prompt: &str,
        expected: &str,
        timeout: Option<Duration>,
    ) -> anyhow::Result<Answer> {
        Ok(match self.ask(&format!("{prompt} "), timeout)? {
            Answered::End => Answer::NoInput,
            Answered::TimedOut => Answer::TimedOut,
            Answered::Line(line) if line.trim() == expected => Answer::Yes,
            Answered::Line(_) => Answer::No,
        })
    }
}
