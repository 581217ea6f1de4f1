//! The one rule interface, shared by built-in rules and (through the plugin runtime) WASM rules.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;

use crate::risk::{Assessment, MigrationRisk};
use crate::sql::{Index, Location, SchemaModel, SqlFile, Statement};

/// How serious a finding is; defined with the `linting:` settings that name it.
pub use crate::project::settings::linting::Severity;

/// What a rule is about. Plugins declare one of these names for each rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Findings about the linting itself (unparsed statements, bad suppressions).
    General,
    /// Identifier conventions.
    Naming,
    /// Table shape: keys, types, timestamps.
    Structure,
    /// Credentials, secrets and personal data.
    Security,
    /// Indexes.
    Performance,
    /// Documentation and audit trails for personal data.
    Compliance,
    /// Statements in migrations that lock or rewrite busy tables.
    Migration,
}

impl Category {
    /// Every category, in display order.
    pub const ALL: [Category; 7] = [
        Category::General,
        Category::Naming,
        Category::Structure,
        Category::Security,
        Category::Performance,
        Category::Compliance,
        Category::Migration,
    ];

    /// The lower-case name used in configuration, suppressions and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::General => "general",
            Category::Naming => "naming",
            Category::Structure => "structure",
            Category::Security => "security",
            Category::Performance => "performance",
            Category::Compliance => "compliance",
            Category::Migration => "migration",
        }
    }

    /// Parses a category name.
    pub fn parse(text: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A finding as a rule reports it (the WIT `violation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rule that found it.
    pub rule_id: String,
    /// How serious the rule thinks it is (the configuration may override it).
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
    /// Adds the "how to fix it" text.
    pub fn suggest(mut self, text: impl Into<String>) -> Self {
        self.suggestion = Some(text.into());
        self
    }

    /// Adds the fix as SQL.
    pub fn fix(mut self, sql: impl Into<String>) -> Self {
        self.fix = Some(sql.into());
        self
    }
}

/// The settings rules read, from the environment file's `linting:` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleOptions {
    /// Columns that are looked up by value and need an index (`lookup_keys`).
    pub lookup_keys: Vec<String>,
    /// Columns every table should have (`timestamp_columns`).
    pub timestamp_columns: Vec<String>,
    /// Audit columns every table must have (`audit_columns`; empty: not checked).
    pub audit_columns: Vec<String>,
    /// Substrings of column names that hold personal data (`pii_columns`).
    pub pii_columns: Vec<String>,
    /// Substrings of column names that hold secrets or tokens (`secret_columns`).
    pub secret_columns: Vec<String>,
    /// Columns that record how long personal data is kept (`retention_columns`).
    pub retention_columns: Vec<String>,
    /// True when the migration runner sets `lock_timeout` itself (the environment's
    /// `lock_timeout` is not 0), so migrations need not.
    pub runner_sets_lock_timeout: bool,
    /// The PostgreSQL major version migrations run on (`linting.postgres_version`), for the
    /// version-dependent safety facts.
    pub postgres_version: u32,
}

impl Default for RuleOptions {
    fn default() -> Self {
        let list = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        RuleOptions {
            lookup_keys: list(&["email", "username"]),
            timestamp_columns: list(&["created_at", "updated_at"]),
            audit_columns: Vec::new(),
            pii_columns: list(&[
                "email",
                "phone",
                "ssn",
                "social_security",
                "tax_id",
                "national_id",
                "passport",
                "birth_date",
                "date_of_birth",
                "dob",
                "address",
                "iban",
                "credit_card",
                "card_number",
                "first_name",
                "last_name",
                "full_name",
                "ip_address",
            ]),
            secret_columns: list(&[
                "token",
                "secret",
                "api_key",
                "apikey",
                "private_key",
                "access_key",
                "otp_seed",
            ]),
            retention_columns: list(&[
                "retention_until",
                "retain_until",
                "delete_after",
                "expires_at",
            ]),
            runner_sets_lock_timeout: true,
            postgres_version: crate::risk::DEFAULT_POSTGRES_VERSION,
        }
    }
}

/// What a rule is given: the schema model after every file, every statement (each carries its
/// file in its location), each migration's risk classification, and the options.
pub struct LintContext<'a> {
    /// Tables and indexes after every file was applied in order.
    pub model: &'a SchemaModel,
    /// The linted files with their statements, in model order.
    pub files: &'a [SqlFile],
    /// The rules' settings.
    pub options: &'a RuleOptions,
    /// For each file, its risk classification when it is a migration (see
    /// [`crate::risk::assess_files`]).
    risks: &'a [Option<MigrationRisk>],
    indexes_by_table: HashMap<&'a str, Vec<&'a Index>>,
}

impl<'a> LintContext<'a> {
    /// A context over a model, its files and their migrations' risks (one entry per file).
    pub fn new(
        model: &'a SchemaModel,
        files: &'a [SqlFile],
        options: &'a RuleOptions,
        risks: &'a [Option<MigrationRisk>],
    ) -> Self {
        let mut indexes_by_table: HashMap<&str, Vec<&Index>> = HashMap::new();
        for index in &model.indexes {
            indexes_by_table
                .entry(index.table.as_str())
                .or_default()
                .push(index);
        }
        LintContext {
            model,
            files,
            options,
            risks,
            indexes_by_table,
        }
    }

    /// Every migration file with its risk classification.
    pub fn migrations(&self) -> impl Iterator<Item = (&'a SqlFile, &'a MigrationRisk)> + 'a {
        self.files
            .iter()
            .zip(self.risks)
            .filter_map(|(file, risk)| risk.as_ref().map(|r| (file, r)))
    }

    /// Every statement of every migration with its risk assessment, in order.
    pub fn migration_statements(
        &self,
    ) -> impl Iterator<Item = (&'a Statement, &'a Assessment)> + 'a {
        self.migrations().flat_map(|(file, risk)| {
            file.statements
                .iter()
                .zip(risk.statements.iter().map(|(_, a)| a))
        })
    }

    /// Every statement of every file, in order.
    pub fn statements(&self) -> impl Iterator<Item = &'a Statement> + 'a {
        self.files.iter().flat_map(|f| f.statements.iter())
    }

    /// The indexes on a table (schema-qualified name), without a pass over every index.
    pub fn indexes_on(&self, table_qualified: &str) -> &[&'a Index] {
        self.indexes_by_table
            .get(table_qualified)
            .map_or(&[], Vec::as_slice)
    }
}

/// A lint rule. Built-in rules implement it natively; the plugin runtime implements it for each
/// rule a WASM component declares, so both go through the same severity, suppression, exclusion
/// and output path.
pub trait Rule: Send + Sync {
    /// Stable identifier, used in configuration, `--exclude-rules` and suppressions.
    fn id(&self) -> &str;
    /// What the rule is about.
    fn category(&self) -> Category;
    /// Severity unless the configuration overrides it.
    fn default_severity(&self) -> Severity;
    /// What the rule checks and why it matters.
    fn description(&self) -> &str;
    /// Whether the rule runs when the configuration does not mention it.
    fn enabled_by_default(&self) -> bool {
        true
    }
    /// Checks the schema and statements; returns every violation found.
    fn check(&self, ctx: &LintContext<'_>) -> Vec<Violation>;
}

/// A built-in rule: its metadata and a check function.
pub struct BuiltinRule {
    /// Identifier.
    pub id: &'static str,
    /// Category.
    pub category: Category,
    /// Default severity.
    pub severity: Severity,
    /// What it checks and why it matters.
    pub description: &'static str,
    /// The check.
    pub check: fn(&BuiltinRule, &LintContext<'_>) -> Vec<Violation>,
}

impl BuiltinRule {
    /// A violation of this rule at `location`, at the rule's default severity.
    pub fn at(&self, location: &Location, message: impl Into<String>) -> Violation {
        Violation {
            rule_id: self.id.to_string(),
            severity: self.severity,
            message: message.into(),
            location: Some(location.clone()),
            suggestion: None,
            fix: None,
        }
    }
}

impl Rule for BuiltinRule {
    fn id(&self) -> &str {
        self.id
    }
    fn enabled_by_default(&self) -> bool {
        !super::rules::OPT_IN.contains(&self.id)
    }
    fn category(&self) -> Category {
        self.category
    }
    fn default_severity(&self) -> Severity {
        self.severity
    }
    fn description(&self) -> &str {
        self.description
    }
    fn check(&self, ctx: &LintContext<'_>) -> Vec<Violation> {
        (self.check)(self, ctx)
    }
}
