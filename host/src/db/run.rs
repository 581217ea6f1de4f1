//! The run's name on the server: every connection a Confiture process opens carries
//! `application_name = 'confiture <run id>'` (unless the settings name another), so that
//! `pg_stat_activity` tells which run a backend belongs to — and a backend left running by a
//! run that died (`kill -9`) can be found, named and cancelled by the next one.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// What every run's `application_name` starts with.
pub const PREFIX: &str = "confiture ";

/// This process's run id: 8 hex digits, different for every run.
pub fn run_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let seed = format!("{now}:{}", std::process::id());
        let digest = Sha256::digest(seed.as_bytes());
        digest[..4].iter().map(|b| format!("{b:02x}")).collect()
    })
}

/// The `application_name` of this run's connections.
pub fn application_name() -> String {
    format!("{PREFIX}{}", run_id())
}

/// The `application_name` of the connection that holds this run's migration lock.
pub fn lock_application_name() -> String {
    format!("{} lock", application_name())
}

/// The run id in another connection's `application_name`, when it is a Confiture run's.
pub fn run_of(application_name: &str) -> Option<&str> {
    let id = application_name.strip_prefix(PREFIX)?.get(..8)?;
    id.bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        .then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_run_id_and_can_be_read_back() {
        let id = run_id();
        assert_eq!(id.len(), 8);
        assert_eq!(run_of(&application_name()), Some(id));
        assert_eq!(run_of(&lock_application_name()), Some(id));
        assert_eq!(run_of("confiture"), None);
        assert_eq!(run_of("confiture ABCDEF01"), None);
        assert_eq!(run_of("psql"), None);
        // A name under PostgreSQL's 63-byte limit.
        assert!(lock_application_name().len() < 64);
    }
}
