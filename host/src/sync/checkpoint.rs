//! The checkpoint file: the tables of the groups committed so far, for `resume`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::sync::catalog::TableName;

/// Tables whose group was committed, kept in a JSON file rewritten atomically.
#[derive(Debug)]
pub struct Checkpoint {
    path: PathBuf,
    state: CheckpointFile,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CheckpointFile {
    version: u32,
    committed: BTreeSet<TableName>,
}

const VERSION: u32 = 1;

impl Checkpoint {
    /// Reads the checkpoint at `path` (empty when absent) when resuming, or starts an empty
    /// one (replacing the file) otherwise.
    pub fn open(path: &Path, resume: bool) -> anyhow::Result<Checkpoint> {
        let state = if resume && path.exists() {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the checkpoint {}", path.display()))?;
            let state: CheckpointFile = serde_json::from_str(&text)
                .with_context(|| format!("parsing the checkpoint {}", path.display()))?;
            anyhow::ensure!(
                state.version == VERSION,
                "the checkpoint {} has version {}, expected {VERSION}",
                path.display(),
                state.version
            );
            state
        } else {
            CheckpointFile {
                version: VERSION,
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
