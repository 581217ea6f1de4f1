//! The y/N question before changing a protected database.

use std::io::{BufRead, IsTerminal, Write};

use crate::error::{ExitCode, Failure};

/// Asks `question [y/N]` on the terminal. `yes` answers it; without a terminal on stdin the
/// question cannot be asked and the operation is refused (exit 7).
pub fn confirm(question: &str, yes: bool) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Failure::new(
            ExitCode::Refused,
            format!("confirmation needed (\"{question}\") but stdin is not a terminal"),
        )
        .hint("pass --yes to confirm non-interactively")
        .into());
    }
    let mut stderr = std::io::stderr();
    let _ = write!(stderr, "{question} [y/N] ");
    let _ = stderr.flush();
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(Failure::new(ExitCode::Refused, "not confirmed; nothing was changed").into()),
    }
}
