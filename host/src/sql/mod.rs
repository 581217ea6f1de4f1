//! The SQL analysis layer: SQL files into located statements (parsed by sqlparser with the
//! PostgreSQL dialect, or kept as text when it cannot parse them), and a schema model built
//! across all files. Lint, risk classification and the wizard read from here.
//!
//! - [`parse_file`]: one file into [`Statement`]s with file, line and column; never fails.
//!   [`parse_files`] does many at once, their statements spread over the machine's cores.
//! - [`build_model`]: every file's DDL applied in order into a [`SchemaModel`].
//! - [`names`] and [`types`]: identifiers and column types the way PostgreSQL spells them, for
//!   code that reads a statement's `ast` itself.

mod build;
pub mod inspect;
mod model;
pub mod names;
mod split;
mod statement;
pub mod types;
mod workaround;

pub use build::{ModelBuilder, build_model};
pub use model::{
    CheckConstraint, Column, ForeignKey, Index, ModelLookup, SchemaModel, Table, TableLookup,
};
pub use split::{LineComment, Split, SqlStatement, split_statements, split_with_comments};
pub use statement::{
    Location, SourceText, SqlFile, Statement, StatementKind, data_statement_kind, guess_kind,
    parse_file, parse_files,
};
