//! The plan: each migration on disk or in the tracking table, and its state.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::files::{Migration, compare_versions, same_version};
use super::ledger::AppliedRow;
use crate::error::{ExitCode, Failure};

/// Where a migration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Applied, and its file is unchanged.
    Applied,
    /// On disk, not applied yet.
    Pending,
    /// Applied, but its `.up.sql` changed since (checksum differs).
    Changed,
    /// Applied, but its file is gone.
    Missing,
}

impl State {
    /// The lower-case word for text output.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Changed => "changed",
            State::Missing => "missing",
        }
    }
}

/// One line of the plan.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// The version.
    pub version: String,
    /// The name (from the file, else from the table).
    pub name: String,
    /// The state.
    pub state: State,
    /// The file, when on disk.
    pub migration: Option<&'a Migration>,
    /// The tracking row, when applied.
    pub row: Option<&'a AppliedRow>,
}

impl Entry<'_> {
    /// When it was applied.
    pub fn applied_at(&self) -> Option<DateTime<Utc>> {
        self.row.map(|r| r.applied_at)
    }
}

/// Matches the files on disk with the tracking rows, ordered by version.
pub fn plan<'a>(migrations: &'a [Migration], applied: &'a [AppliedRow]) -> Vec<Entry<'a>> {
    let mut entries: Vec<Entry<'a>> = migrations
        .iter()
        .map(|m| {
            let row = applied
                .iter()
                .find(|r| same_version(&r.version, &m.version));
            let state = match row {
                None => State::Pending,
                Some(r) if r.checksum.as_deref().is_some_and(|c| c != m.checksum) => State::Changed,
                Some(_) => State::Applied,
            };
            Entry {
                version: m.version.clone(),
                name: m.name.clone(),
                state,
                migration: Some(m),
                row,
            }
        })
        .collect();
    for row in applied {
        if !migrations
            .iter()
            .any(|m| same_version(&m.version, &row.version))
        {
            entries.push(Entry {
                version: row.version.clone(),
                name: row.name.clone(),
                state: State::Missing,
                migration: None,
                row: Some(row),
            });
        }
    }
    entries.sort_by(|a, b| compare_versions(&a.version, &b.version));
    entries
}

/// The refusal to migrate while applied files changed since they were applied (their checksum
/// differs from the tracking row's), naming each file as `show` gives it; `None` when no file
/// drifted. A row without a checksum (older upstream rows) is not drift.
pub fn drift_refusal(
    entries: &[Entry<'_>],
    show: impl Fn(&Migration) -> String,
) -> Option<Failure> {
    let changed: Vec<String> = entries
        .iter()
        .filter(|e| e.state == State::Changed)
        .filter_map(|e| e.migration)
        .map(show)
        .collect();
    if changed.is_empty() {
        return None;
    }
    Some(
        Failure::new(
            ExitCode::Failure,
            format!(
                "refusing to migrate: applied migration file(s) changed since they were applied \
                 (checksum differs from the tracking table): {}",
                changed.join(", ")
            ),
        )
        .hint(
            "restore the applied version of each file and put new changes in a new migration; \
             `confiture migrate verify` lists all drift",
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::testing::{migration, row};

    #[test]
    fn states_from_disk_and_table() {
        let disk = vec![
            migration("01", "a"),
            migration("02", "b"),
            migration("10", "c"),
            migration("11", "d"),
        ];
        let table = vec![
            row("01", Some(disk[0].checksum.clone())),
            row("02", Some("different".into())),
            row("03", None),
            row("10", None),
            row("1", None),
        ];
        let states: Vec<(String, State)> = plan(&disk, &table)
            .into_iter()
            .map(|e| (e.version, e.state))
            .collect();
        assert_eq!(
            states,
            vec![
                ("01".into(), State::Applied),
                ("02".into(), State::Changed),
                ("03".into(), State::Missing),
                ("1".into(), State::Missing),
                ("10".into(), State::Applied),
                ("11".into(), State::Pending),
            ]
        );
    }

    fn show(m: &Migration) -> String {
        m.up_path.display().to_string()
    }

    #[test]
    fn a_changed_applied_file_is_refused_by_name() {
        let disk = vec![
            migration("01", "a"),
            migration("02", "b"),
            migration("03", "c"),
        ];
        let table = vec![
            row("01", Some(disk[0].checksum.clone())),
            row(
                "02",
                Some(super::super::files::sha256_hex(b"b, as applied")),
            ),
            row(
                "03",
                Some(super::super::files::sha256_hex(b"c, as applied")),
            ),
        ];
        let refusal = drift_refusal(&plan(&disk, &table), show).expect("drift is refused");
        assert_eq!(refusal.code, ExitCode::Failure);
        assert!(
            refusal.message.ends_with(": 02_m.up.sql, 03_m.up.sql"),
            "names every changed file, and only those: {}",
            refusal.message
        );
        assert!(refusal.hint.unwrap().contains("new migration"));
    }

    #[test]
    fn unchanged_pending_missing_and_unchecked_rows_are_not_drift() {
        let disk = vec![migration("01", "a"), migration("02", "b")];
        let table = vec![
            row("01", Some(disk[0].checksum.clone())),
            row("02", None),
            row("03", Some("gone".into())),
        ];
        assert!(drift_refusal(&plan(&disk, &table), show).is_none());
        assert!(drift_refusal(&plan(&disk, &[]), show).is_none());
        // One changed byte is drift.
        let table = vec![row("01", Some(migration("01", "a ").checksum))];
        assert!(drift_refusal(&plan(&disk, &table), show).is_some());
    }
}
