//! Which way the wizard can talk to the operator.

use std::io::IsTerminal;
use std::os::unix::fs::{FileTypeExt, MetadataExt};

/// How the wizard gets its answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputMode {
    /// stdin is a terminal: the crossterm UI on it, whatever stdout is (a pipe, `tee`, a file),
    /// so that keys typed ahead are discarded rather than read as answers.
    Terminal,
    /// stdin is a pipe or a file: plain line prompts.
    Lines,
    /// stdin is closed or `/dev/null`: nobody can answer.
    None,
}

/// The mode for this process's stdin.
pub fn detect() -> InputMode {
    if std::io::stdin().is_terminal() {
        InputMode::Terminal
    } else if stdin_absent() {
        InputMode::None
    } else {
        InputMode::Lines
    }
}

/// True when stdin is closed or is `/dev/null`.
fn stdin_absent() -> bool {
    let Ok(stdin) =
        std::fs::metadata("/proc/self/fd/0").or_else(|_| std::fs::metadata("/dev/fd/0"))
    else {
        return true;
    };
    let Ok(null) = std::fs::metadata("/dev/null") else {
        return false;
    };
    stdin.file_type().is_char_device() && stdin.rdev() == null.rdev()
}
