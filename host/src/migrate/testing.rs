//! Migrations and tracking rows for the migrate module's unit tests.

use std::path::PathBuf;

use chrono::Utc;

use super::files::{Migration, sha256_hex};
use super::ledger::AppliedRow;

/// Migration `<version>_m<version>` whose `.up.sql` is `sql`.
pub(crate) fn migration(version: &str, sql: &str) -> Migration {
    Migration {
        version: version.into(),
        name: format!("m{version}"),
        up_path: PathBuf::from(format!("{version}_m.up.sql")),
        down_path: None,
        verify_path: None,
        up_sql: sql.into(),
        checksum: sha256_hex(sql.as_bytes()),
        no_transaction: false,
    }
}

/// The tracking row of migration `<version>_m<version>`, applied now.
pub(crate) fn row(version: &str, checksum: Option<String>) -> AppliedRow {
    AppliedRow {
        version: version.into(),
        name: format!("m{version}"),
        applied_at: Utc::now(),
        execution_time_ms: Some(1),
        checksum,
        applied_by: None,
        identity: None,
    }
}
