//! Who is running Confiture: the name recorded for applications, approvals, schedules and the
//! audit trail, and handed to hooks.
//!
//! One person has one identity whatever its spelling: a name is trimmed and lowercased
//! ([`normalise`]) when it is found and again wherever two names are compared, so
//! `ANA@Example.org` and ` ana@example.org ` are the same person — who cannot approve their own
//! migration — and the audit trail records `ana@example.org`.

use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The person running this command: `explicit` (`--as`), else `CONFITURE_USER`, else git's
/// `user.email`, else the OS user (`USER`, `LOGNAME`, `USERNAME`); `None` when none is known.
/// The name is [`normalise`]d.
pub fn find(explicit: Option<&str>) -> Option<String> {
    let explicit = explicit.map(normalise).filter(|v| !v.is_empty());
    if explicit.is_some() {
        return explicit;
    }
    env_var("CONFITURE_USER")
        .or_else(|| git_email().clone())
        .or_else(|| {
            ["USER", "LOGNAME", "USERNAME"]
                .into_iter()
                .find_map(env_var)
        })
        .map(|name| normalise(&name))
}

/// The form identities are recorded and compared in: trimmed and lowercased (emails are
/// case-insensitive in practice, and a spelling must never make one person two).
pub fn normalise(name: &str) -> String {
    name.trim().to_lowercase()
}

/// True when `a` and `b` name the same person (see [`normalise`]); rows recorded before
/// identities were normalised compare the same way.
pub fn same(a: &str, b: &str) -> bool {
    normalise(a) == normalise(b)
}

/// [`find`], or `unknown` when nothing names the person.
pub fn current(explicit: Option<&str>) -> String {
    find(explicit).unwrap_or_else(|| "unknown".into())
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// `git config user.email`, asked once per process (none when git is missing or unset).
fn git_email() -> &'static Option<String> {
    static EMAIL: OnceLock<Option<String>> = OnceLock::new();
    EMAIL.get_or_init(|| {
        let output = Command::new("git")
            .args(["config", "--get", "user.email"])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        let email = String::from_utf8(output.stdout).ok()?.trim().to_string();
        (output.status.success() && !email.is_empty()).then_some(email)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_name_wins_and_blank_is_ignored() {
        assert_eq!(
            find(Some("  ana@example.org ")).as_deref(),
            Some("ana@example.org")
        );
        // A blank --as is no name: the same person as without it.
        assert_eq!(find(Some("   ")), find(None));
        assert_ne!(find(Some("   ")).as_deref(), Some("   "));
    }

    #[test]
    fn spellings_of_one_email_are_one_person() {
        assert_eq!(
            find(Some(" ANA@Example.org\t")).as_deref(),
            Some("ana@example.org")
        );
        assert!(same("ANA@Example.org", "ana@example.org "));
        assert!(same("Élodie@Example.org", "élodie@example.org"));
        assert!(!same("ana@example.org", "anna@example.org"));
    }
}
