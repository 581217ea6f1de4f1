//! Lint rules: the [`Lint`] trait, the schema model it reads and the violations it returns.

use crate::{Plugin, RuleInfo, Severity};

/// One or more lint rules. Implement it with [`Plugin`] and export with
/// `confiture_sdk::export_plugin!(MyRules: lint)`.
pub trait Lint: Plugin {
    /// The rules provided.
    const RULES: &'static [RuleInfo];

    /// Checks the schema and statements; returns every violation found. Only rules listed in
    /// [`LintContext::enabled_rules`] should report.
    fn check(&self, context: &LintContext) -> Vec<Violation>;
}

/// Where something is written.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Location {
    /// File path relative to the project root.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

/// One SQL statement as the analysis layer saw it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Statement {
    /// Best-effort kind, e.g. `create-table`, `alter-table`, `unparsed`.
    pub kind: String,
    /// The statement's text.
    pub text: String,
    /// Where it starts.
    pub location: Location,
    /// False when the parser could not parse it.
    pub parsed: bool,
    /// True for a statement of a file under `db/migrations/`.
    pub in_migration: bool,
    /// True when that migration runs outside a transaction.
    pub no_transaction: bool,
}

/// A column of a table.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Declared type, lower case (e.g. `timestamp with time zone`).
    pub type_name: String,
    /// False when `NOT NULL` (or part of the primary key).
    pub nullable: bool,
    /// Default expression.
    pub default: Option<String>,
    /// `COMMENT ON COLUMN`.
    pub comment: Option<String>,
    /// Where the column is declared (or added).
    pub location: Location,
}

/// A foreign key.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ForeignKey {
    /// Constraint name, when given.
    pub name: Option<String>,
    /// Referencing columns.
    pub columns: Vec<String>,
    /// Referenced table, schema-qualified.
    pub referenced_table: String,
    /// Referenced columns.
    pub referenced_columns: Vec<String>,
}

/// A table after every file's DDL was applied in order.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Table {
    /// Schema name.
    pub schema: String,
    /// Table name.
    pub name: String,
    /// Columns in order.
    pub columns: Vec<Column>,
    /// Primary key columns (empty: none).
    pub primary_key: Vec<String>,
    /// Unique constraints, each a list of columns.
    pub unique_keys: Vec<Vec<String>>,
    /// Foreign keys.
    pub foreign_keys: Vec<ForeignKey>,
    /// Check constraint expressions.
    pub checks: Vec<String>,
    /// `COMMENT ON TABLE`.
    pub comment: Option<String>,
    /// Where the table is created.
    pub location: Location,
}

impl Table {
    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|column| column.name == name)
    }

    /// `schema.name`, the form SQL and messages use.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

/// An index.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Index {
    /// Index name.
    pub name: String,
    /// Indexed table, schema-qualified.
    pub table: String,
    /// Indexed columns or expressions.
    pub columns: Vec<String>,
    /// True for a unique index.
    pub unique: bool,
    /// Partial index predicate.
    pub predicate: Option<String>,
    /// Where it is created.
    pub location: Location,
}

/// What a rule is given.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct LintContext {
    /// Every table.
    pub tables: Vec<Table>,
    /// Every index.
    pub indexes: Vec<Index>,
    /// Every statement of the linted files, in order.
    pub statements: Vec<Statement>,
    /// The rule ids of this plugin enabled for this run.
    pub enabled_rules: Vec<String>,
}

impl LintContext {
    /// True when rule `id` is enabled for this run.
    pub fn is_enabled(&self, id: &str) -> bool {
        self.enabled_rules.iter().any(|rule| rule == id)
    }
}

/// A finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The rule that found it (one the plugin declared).
    pub rule_id: String,
    /// How serious it is.
    pub severity: Severity,
    /// What is wrong and why it matters.
    pub message: String,
    /// Where, when it can be pinned to a place.
    pub location: Option<Location>,
    /// How to fix it, in words.
    pub suggestion: Option<String>,
    /// The fix as SQL, when it is mechanical.
    pub fix: Option<String>,
}

impl Violation {
    /// A violation of `rule` at its default severity.
    pub fn new(rule: &RuleInfo, message: impl Into<String>) -> Self {
        Self {
            rule_id: rule.id.to_string(),
            severity: rule.default_severity,
            message: message.into(),
            location: None,
            suggestion: None,
            fix: None,
        }
    }

    /// With a location.
    pub fn at(mut self, location: &Location) -> Self {
        self.location = Some(location.clone());
        self
    }

    /// With a suggestion in words.
    pub fn suggest(mut self, suggestion: impl Into<String>) -> Self {
        self.suggestion = Some(suggestion.into());
        self
    }

    /// With a mechanical fix in SQL.
    pub fn fix(mut self, sql: impl Into<String>) -> Self {
        self.fix = Some(sql.into());
        self
    }
}
