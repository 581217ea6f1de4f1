//! Catalog entries for the sync module's unit tests.

use crate::sync::catalog::{Column, Table, TableName};

/// A table `public.<name>` of `pages` pages, without columns.
pub(crate) fn table(name: &str, pages: u64) -> Table {
    Table {
        name: TableName::new("public", name),
        columns: Vec::new(),
        primary_key: Vec::new(),
        estimated_rows: 0,
        pages,
        size_bytes: 0,
        partition_root: None,
        target_defaults: Vec::new(),
    }
}

/// A `text` column (`binary`: whether it may travel in COPY's binary format).
pub(crate) fn column(name: &str, binary: bool) -> Column {
    Column {
        name: name.to_string(),
        type_name: "text".to_string(),
        binary,
        case_insensitive: false,
    }
}
