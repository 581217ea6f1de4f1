//! Turning what goes wrong inside a plugin call into an error that names the plugin and the
//! call: a timeout, running out of memory, a trap (a panic), an error the plugin returned, or
//! a result that breaks the contract.

use serde::Serialize;
use wasmtime::Trap;

use super::sandbox::HostState;
use crate::text::neutralise;

/// What kind of failure a call had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallFailure {
    /// It ran past its time limit and was interrupted.
    Timeout,
    /// It asked for more memory than its cap.
    OutOfMemory,
    /// It trapped (a Rust panic aborts with a trap).
    Trap,
    /// It returned an error of its own.
    Returned,
    /// It returned something that breaks the contract.
    Invalid,
    /// The host could not run it (instantiation, a missing export).
    Host,
    /// A database call it made was refused: a statement its grant does not allow, or a grant
    /// that cannot be honoured on this connection.
    Refused,
    /// After one of its database calls the host's transaction or session was not intact.
    Integrity,
}

/// A failed plugin call. The instance it ran in is discarded; other plugins are unaffected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("plugin {plugin}: {call} {detail}")]
pub struct PluginCallError {
    /// The plugin's name.
    pub plugin: String,
    /// The call, e.g. `anonymize(users.email)` or `handle(pre-execute 001_init)`.
    pub call: String,
    /// What kind of failure.
    pub failure: CallFailure,
    /// What happened, e.g. `timed out after 30000 ms`.
    pub detail: String,
}

impl PluginCallError {
    /// An error of `failure` kind.
    pub fn new(plugin: &str, call: &str, failure: CallFailure, detail: impl Into<String>) -> Self {
        // What a plugin said, and the names in its call (user SQL's), are printed: neutralised
        // here, once, for every output.
        PluginCallError {
            plugin: neutralise(plugin).into_owned(),
            call: neutralise(call).into_owned(),
            failure,
            detail: neutralise(&detail.into()).into_owned(),
        }
    }

    /// Classifies an error wasmtime returned from a call into the plugin.
    pub(crate) fn from_wasmtime(
        plugin: &str,
        call: &str,
        err: wasmtime::Error,
        state: &HostState,
        timeout_ms: u64,
    ) -> Self {
        if let Some(asked) = state.limiter.exceeded {
            return Self::new(
                plugin,
                call,
                CallFailure::OutOfMemory,
                format!(
                    "ran out of memory: it asked for {} MiB and its limit is {} MiB \
                     (raise plugins.{plugin}.memory_mb if it really needs more)",
                    asked.div_ceil(1024 * 1024),
                    state.limiter.cap_mb()
                ),
            );
        }
        match err.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => Self::new(
                plugin,
                call,
                CallFailure::Timeout,
                format!("timed out after {timeout_ms} ms"),
            ),
            Some(trap) => {
                let tail = state.stderr_tail();
                let detail = match (trap, last_line(&tail)) {
                    (Trap::UnreachableCodeReached, Some(line)) => {
                        format!("panicked: {line}")
                    }
                    (_, Some(line)) => format!("trapped ({trap}); its last output: {line}"),
                    (_, None) => format!("trapped: {trap}"),
                };
                Self::new(plugin, call, CallFailure::Trap, detail)
            }
            None => Self::new(
                plugin,
                call,
                CallFailure::Host,
                format!("failed: {}", anyhow::Error::from(err)),
            ),
        }
    }
}

/// The most telling line of a plugin's stderr: Rust's `panicked at ...:` line is followed by
/// the message, so both are joined.
fn last_line(tail: &str) -> Option<String> {
    let lines: Vec<&str> = tail.lines().filter(|l| !l.trim().is_empty()).collect();
    if let Some(i) = lines.iter().rposition(|l| l.contains("panicked at")) {
        let message = lines.get(i + 1).map(|m| format!(" {}", m.trim()));
        return Some(format!(
            "{}{}",
            lines[i].trim(),
            message.unwrap_or_default()
        ));
    }
    lines
        .iter()
        .rev()
        .find(|l| !l.starts_with("note:"))
        .map(|l| l.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::log::PluginLog;
    use crate::plugins::sandbox::tests::context;
    use crate::plugins::sandbox::{HostState, PluginKey};

    #[test]
    fn a_failed_call_is_told_by_what_stopped_it() {
        let state = || HostState::new(context(PluginLog::off(), PluginKey::NoSecret), 2);
        let classify = |state: &HostState, err: wasmtime::Error| {
            let error = PluginCallError::from_wasmtime("p", "handle(x)", err, state, 250);
            (error.failure, error.detail)
        };
        let quiet = state();
        assert_eq!(
            classify(&quiet, Trap::Interrupt.into()),
            (CallFailure::Timeout, "timed out after 250 ms".to_string())
        );
        assert_eq!(
            classify(&quiet, Trap::MemoryOutOfBounds.into()),
            (
                CallFailure::Trap,
                format!("trapped: {}", Trap::MemoryOutOfBounds)
            )
        );
        assert_eq!(
            classify(&quiet, wasmtime::Error::msg("no export named run")),
            (CallFailure::Host, "failed: no export named run".to_string())
        );
        let panicked = state();
        panicked.write_stderr(b"thread 'main' panicked at src/lib.rs:3:9:\nboom\n");
        assert_eq!(
            classify(&panicked, Trap::UnreachableCodeReached.into()).1,
            "panicked: thread 'main' panicked at src/lib.rs:3:9: boom"
        );
        assert_eq!(
            classify(&panicked, Trap::MemoryOutOfBounds.into()).1,
            format!(
                "trapped ({}); its last output: thread 'main' panicked at src/lib.rs:3:9: boom",
                Trap::MemoryOutOfBounds
            )
        );
        // Past its memory cap, whatever the trap: what it asked for and what to raise.
        let mut greedy = state();
        greedy.limiter.exceeded = Some(3 * 1024 * 1024 + 1);
        assert_eq!(
            classify(&greedy, Trap::UnreachableCodeReached.into()),
            (
                CallFailure::OutOfMemory,
                "ran out of memory: it asked for 4 MiB and its limit is 2 MiB (raise \
                 plugins.p.memory_mb if it really needs more)"
                    .to_string()
            )
        );
    }

    #[test]
    fn blank_lines_and_notes_are_not_the_telling_line() {
        assert_eq!(last_line("a\n\n  \n").as_deref(), Some("a"));
        assert_eq!(
            last_line("a\nnote: run with RUST_BACKTRACE=1\n").as_deref(),
            Some("a")
        );
        assert_eq!(
            last_line("x panicked at a.rs:1:1:\n\nmessage").as_deref(),
            Some("x panicked at a.rs:1:1: message")
        );
    }

    #[test]
    fn panic_lines_are_joined() {
        let tail = "thread '<unnamed>' panicked at src/lib.rs:9:5:\nboom\nnote: run with \
                    `RUST_BACKTRACE=1`\n";
        assert_eq!(
            last_line(tail).as_deref(),
            Some("thread '<unnamed>' panicked at src/lib.rs:9:5: boom")
        );
        assert_eq!(last_line("a\nb\n").as_deref(), Some("b"));
        assert_eq!(last_line(""), None);
        let err = PluginCallError::new(
            "email-strategy",
            "anonymize(users.email)",
            CallFailure::Timeout,
            "timed out after 30000 ms",
        );
        assert_eq!(
            err.to_string(),
            "plugin email-strategy: anonymize(users.email) timed out after 30000 ms"
        );
    }
}
