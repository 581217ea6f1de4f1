//! The SQL analysis layer. For now: splitting SQL text into statements with their line numbers.

mod split;

pub use split::{SqlStatement, split_statements};
