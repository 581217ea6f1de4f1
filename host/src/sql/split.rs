//! Splits SQL text into statements, aware of quotes, dollar quotes and comments.
// STUB — helper B replaces this file.

/// One statement of a SQL text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlStatement<'a> {
    /// The statement's text, without the terminating `;`, trimmed.
    pub text: &'a str,
    /// 1-based line in the source where the statement's first token is.
    pub line: usize,
    /// Byte offset of `text` in the source.
    pub offset: usize,
}

/// Splits `sql` on top-level semicolons; statements that are only comments are dropped.
pub fn split_statements(sql: &str) -> Vec<SqlStatement<'_>> {
    todo!("{sql}")
}
