//! `wizard:`: the approvals a migration needs per risk level.

use serde::Deserialize;

/// `wizard:` in an environment file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WizardSettings {
    /// Approvals needed (from people other than the one applying) per risk level.
    #[serde(default)]
    pub approvals_required: ApprovalsRequired,
}

/// `wizard.approvals_required`: approvals per risk level; a level left out needs none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApprovalsRequired {
    /// For low-risk migrations.
    pub low: u32,
    /// For high-risk migrations.
    pub high: u32,
    /// For critical migrations.
    pub critical: u32,
}

impl ApprovalsRequired {
    /// The approvals a migration at `level` needs.
    pub fn at(&self, level: crate::risk::Level) -> u32 {
        match level {
            crate::risk::Level::Low => self.low,
            crate::risk::Level::High => self.high,
            crate::risk::Level::Critical => self.critical,
        }
    }
}
