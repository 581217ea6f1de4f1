//! `risk:`: the table sizes that sharpen risk levels ([`SizeThresholds`], defined by `risk`),
//! checked for consistency.

use super::yaml::{at_line, line_of_key};
use crate::error::Failure;
use crate::risk::SizeThresholds;

/// Checks `risk:`: a huge table is also a large one.
pub(super) fn thresholds(
    risk: SizeThresholds,
    shown: &str,
    text: &str,
) -> Result<SizeThresholds, Failure> {
    if risk.huge_table_rows < risk.large_table_rows {
        return Err(Failure::config(format!(
            "{}: `risk.huge_table_rows` ({}) is below `risk.large_table_rows` ({})",
            at_line(shown, line_of_key(text, "huge_table_rows")),
            risk.huge_table_rows,
            risk.large_table_rows
        ))
        .hint("a huge table is also a large one: raise huge_table_rows"));
    }
    Ok(risk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::settings::testing::{failure, parse};

    #[test]
    fn risk_and_wizard_settings() {
        let env = parse(
            "risk:\n  large_table_rows: 5000\n  huge_table_rows: 90000\n\
             wizard:\n  approvals_required:\n    high: 1\n    critical: 2\n",
        )
        .unwrap();
        assert_eq!(
            (env.risk.large_table_rows, env.risk.huge_table_rows),
            (5000, 90000)
        );
        let required = env.wizard.approvals_required;
        assert_eq!(
            (
                required.at(crate::risk::Level::Low),
                required.at(crate::risk::Level::High),
                required.at(crate::risk::Level::Critical)
            ),
            (0, 1, 2)
        );
        let defaults = parse("name: x\n").unwrap();
        assert_eq!(defaults.risk, SizeThresholds::default());
        assert_eq!(
            defaults
                .wizard
                .approvals_required
                .at(crate::risk::Level::Critical),
            0
        );
        let f = failure("wizard:\n  approvals_required:\n    severe: 1\n");
        assert!(f.message.contains("local.yaml:3:"), "{}", f.message);
        assert!(f.message.contains("severe"), "{}", f.message);
        let f = failure("risk:\n  large_table_rows: 10\n  huge_table_rows: 5\n");
        assert!(f.message.contains("local.yaml:3"), "{}", f.message);
    }
}
