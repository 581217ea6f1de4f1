//! `confiture lint`: schema and migration linting on top of the SQL analysis layer.
//!
//! One [`Rule`] trait serves built-in rules and (through the plugin runtime) WASM rules; a run
//! parses each file once, builds the schema model once, runs every enabled rule over a
//! [`LintContext`], then applies configured severities, suppression comments and the fail
//! level, and renders the [`LintReport`] as text, JSON, SARIF or GitHub annotations.

mod command;
pub mod config;
#[cfg(test)]
mod doc_examples;
pub mod engine;
mod plugin_rules;
pub mod registry;
pub mod report;
pub mod rule;
mod rules;
pub mod sources;
pub mod suppress;

pub use command::{LintRequest, run};
pub use engine::{Finding, LintReport, lint};
pub use registry::Registry;
pub use rule::{Category, LintContext, Rule, RuleOptions, Severity, Violation};
