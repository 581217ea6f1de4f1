//! The checkpoint file: the tables of the groups committed so far, for `resume`, and the
//! fingerprint of what made them, so that a resume never mixes the output of two different runs
//! (a raw run and an anonymized one, two targets, two secrets...).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::error::Failure;
use crate::sync::catalog::TableName;

/// Everything that determines what a run writes, each part a digest (never a secret, never a
/// value): a resume is refused when any part differs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// The source database (its server's `system_identifier` and the database).
    pub source: String,
    /// The target database.
    pub target: String,
    /// The tables the run copies.
    pub tables: String,
    /// Per anonymized table, a digest of what decides its output (its columns' strategies,
    /// params and seeds); a table absent is copied as it is. Compared for the tables a resume
    /// would skip, so a fix to the rules of a table that failed does not block the resume.
    pub anonymization: BTreeMap<String, String>,
    /// The `--strategy` mappings and the strategy plugins' components (`none` without plugins).
    pub plugins: String,
    /// A keyed digest of a fixed label under the deployment secret (`none` without one).
    pub secret: String,
}

impl Fingerprint {
    /// What differs between `self` (the checkpoint's) and `other` (this run's), for a resume
    /// that would skip `committed`.
    fn differences(&self, other: &Fingerprint, committed: &BTreeSet<TableName>) -> Vec<String> {
        let parts = [
            ("source database", &self.source, &other.source),
            ("target database", &self.target, &other.target),
            ("set of tables", &self.tables, &other.tables),
            ("set of strategy plugins", &self.plugins, &other.plugins),
            ("ANONYMIZATION_SECRET", &self.secret, &other.secret),
        ];
        let mut differences: Vec<String> = parts
            .into_iter()
            .filter(|(_, a, b)| a != b)
            .map(|(name, _, _)| name.to_string())
            .collect();
        let tables: Vec<String> = committed
            .iter()
            .map(ToString::to_string)
            .filter(|t| self.anonymization.get(t) != other.anonymization.get(t))
            .collect();
        if !tables.is_empty() {
            differences.push(format!(
                "anonymization (raw or anonymized, strategies, params) of {}",
                tables.join(", ")
            ));
        }
        differences
    }
}

/// Tables whose group was committed, kept in a JSON file rewritten atomically.
#[derive(Debug)]
pub struct Checkpoint {
    path: PathBuf,
    state: CheckpointFile,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CheckpointFile {
    version: u32,
    fingerprint: Fingerprint,
    committed: BTreeSet<TableName>,
}

/// Version 2 added the fingerprint.
const VERSION: u32 = 2;

impl Checkpoint {
    /// Reads the checkpoint at `path` (empty when absent) when resuming, or starts an empty
    /// one (replacing the file) otherwise. A resume of a checkpoint written by a run with
    /// another `fingerprint` is refused (exit 5), naming what differs.
    pub fn open(
        path: &Path,
        resume: bool,
        fingerprint: &Fingerprint,
    ) -> anyhow::Result<Checkpoint> {
        let state = if resume && path.exists() {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the checkpoint {}", path.display()))?;
            let version = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["version"].as_u64());
            if version != Some(u64::from(VERSION)) {
                return Err(Failure::config(format!(
                    "the checkpoint {} was written by another version of confiture (it records \
                     no fingerprint of the run), so resuming from it could mix two runs",
                    path.display()
                ))
                .hint("run without --resume: every table is copied again")
                .into());
            }
            let state: CheckpointFile = serde_json::from_str(&text)
                .with_context(|| format!("parsing the checkpoint {}", path.display()))?;
            let differences = state.fingerprint.differences(fingerprint, &state.committed);
            if !differences.is_empty() {
                return Err(Failure::config(format!(
                    "cannot resume from {}: it was written by a run with a different {}",
                    path.display(),
                    differences.join(", a different ")
                ))
                .hint(
                    "resume with the same databases, tables, anonymization, plugins and secret, \
                     or run without --resume to copy every table again",
                )
                .into());
            }
            // The committed tables' parts match: from now on, this run's rules are recorded.
            CheckpointFile {
                fingerprint: fingerprint.clone(),
                ..state
            }
        } else {
            CheckpointFile {
                version: VERSION,
                fingerprint: fingerprint.clone(),
                committed: BTreeSet::new(),
            }
        };
        let checkpoint = Checkpoint {
            path: path.to_path_buf(),
            state,
        };
        checkpoint.write()?;
        Ok(checkpoint)
    }

    /// True when every table of `tables` was committed.
    pub fn contains_all(&self, tables: &[TableName]) -> bool {
        tables.iter().all(|t| self.state.committed.contains(t))
    }

    /// Records the tables of a committed group and rewrites the file.
    pub fn commit(&mut self, tables: &[TableName]) -> anyhow::Result<()> {
        self.state.committed.extend(tables.iter().cloned());
        self.write()
    }

    /// Writes the file atomically: a temporary file beside it, then a rename.
    fn write(&self) -> anyhow::Result<()> {
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let json = serde_json::to_vec_pretty(&self.state).expect("a checkpoint serializes");
        std::fs::write(&tmp, json)
            .with_context(|| format!("writing the checkpoint {}", tmp.display()))?;
        std::fs::rename(&tmp, &self.path)
            .with_context(|| format!("replacing the checkpoint {}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fingerprint(users: Option<&str>) -> Fingerprint {
        Fingerprint {
            source: "s".into(),
            target: "t".into(),
            tables: "x".into(),
            anonymization: users
                .map(|d| ("public.users".to_string(), d.to_string()))
                .into_iter()
                .collect(),
            plugins: "none".into(),
            secret: "none".into(),
        }
    }

    #[test]
    fn a_resume_needs_the_same_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sync.ckpt");
        let mut raw = Checkpoint::open(&path, false, &fingerprint(None)).unwrap();
        raw.commit(&[TableName::new("public", "users")]).unwrap();
        let error = Checkpoint::open(&path, true, &fingerprint(Some("abc"))).unwrap_err();
        assert_eq!(
            crate::error::exit_code_of(&error),
            crate::error::ExitCode::Config
        );
        let message = error.to_string();
        assert!(
            message.contains("a different anonymization")
                && message.contains("public.users")
                && !message.contains("source"),
            "{message}"
        );
        let same = Checkpoint::open(&path, true, &fingerprint(None)).unwrap();
        assert!(same.contains_all(&[TableName::new("public", "users")]));
        std::fs::write(&path, r#"{"version": 1, "committed": []}"#).unwrap();
        let error = Checkpoint::open(&path, true, &fingerprint(None)).unwrap_err();
        assert!(error.to_string().contains("another version"), "{error}");
    }
}
