//! The project's throwaway PostgreSQL cluster under `.confiture/pg/`.
// STUB — helper A replaces this file.

use std::path::{Path, PathBuf};

use crate::db::connect::ConnectionSpec;

/// The local cluster of one project.
#[derive(Debug, Clone)]
pub struct Cluster {
    root: PathBuf,
}

impl Cluster {
    /// The cluster belonging to the project at `root`.
    pub fn for_project(root: &Path) -> Self {
        Cluster {
            root: root.to_path_buf(),
        }
    }

    /// How to connect to the project database; an error telling to run `confiture db start`
    /// when the cluster is not running.
    pub fn connection_spec(&self) -> anyhow::Result<ConnectionSpec> {
        todo!("{:?}", self.root)
    }
}
