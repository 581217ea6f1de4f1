//! Migration safety: statements in `db/migrations/` that lock or rewrite a busy table, break
//! running application code, or cannot run the way Confiture runs migrations.
//!
//! What a statement does is decided in one place, the risk classification ([`crate::risk`]):
//! each safety rule here reports the [`Effect`]s it is about and adds advice and a fix. So
//! `migrate status`, the wizard and `confiture lint` cannot disagree on what is risky. A
//! finding is never weaker than risk's level (critical → critical, high → warning) nor than
//! its effect's floor (each family's `SAFETY` table): the operations that fail CI by default (an index
//! built without CONCURRENTLY, a constraint added without NOT VALID, ...) stay critical
//! although risk rates them high. The advice rules at the end (timeouts, robust
//! statements, enum ordering, schema-qualified names, text over varchar) are style and
//! operations advice about the migration file, not facts about a statement.
//!
//! The safety rules by family, in the order they are listed:
//! - `indexes`: index builds, drops and rebuilds without CONCURRENTLY; CONCURRENTLY inside a
//!   transaction; DETACH PARTITION.
//! - `columns`: a required column without a default, volatile defaults, generated columns.
//! - `constraints`: SET NOT NULL, constraints without NOT VALID, VALIDATE in the same
//!   transaction, UNIQUE and PRIMARY KEY added to an existing table (with their fixes).
//! - `compatibility`: a column's type changed, renames, a dropped column or NOT NULL.
//! - `data_loss`: dropped objects and tables, TRUNCATE, UPDATE/DELETE in a migration.
//! - `transactions`: transaction control, a BEGIN never committed, non-atomic migrations.
//! - `whole_table`: domain constraints, VACUUM FULL and CLUSTER.
//!
//! The advice rules, one file each: `timeouts` (lock and statement timeouts, which share
//! their search), `robust_statements`, `enum_value_ordering`, `prefer_text`,
//! `schema_qualified`.

mod columns;
mod compatibility;
mod constraints;
mod data_loss;
mod enum_value_ordering;
mod indexes;
mod prefer_text;
mod robust_statements;
mod schema_qualified;
mod timeouts;
mod transactions;
mod whole_table;

use crate::lint::rule::{BuiltinRule, Category, LintContext, Severity, Violation};
use crate::risk::{Effect, Level, Reason};
use crate::sql::Statement;

/// A safety rule: the effects it reports and the advice it adds.
pub(super) struct Safety {
    pub(super) id: &'static str,
    /// Its check when it does more than report its effects ([`safety`]).
    pub(super) check: Option<fn(&BuiltinRule, &LintContext<'_>) -> Vec<Violation>>,
    /// The effects it reports, each with the least severity of its findings on a statement
    /// risk rates high or critical (see [`finding_severity`]). The rule's default severity is
    /// the strongest of them, never weaker than before the one safety model (checked by a test).
    pub(super) effects: &'static [(Effect, Severity)],
    pub(super) description: &'static str,
    pub(super) advise: Advise,
}

impl Safety {
    /// The rule's default severity: the strongest of its effects'.
    fn severity(&self) -> Severity {
        self.effects
            .iter()
            .map(|&(_, severity)| severity)
            .max()
            .unwrap_or(Severity::Info)
    }

    /// The least severity of a finding of `effect`, when the rule reports it.
    fn floor(&self, effect: Effect) -> Option<Severity> {
        self.effects
            .iter()
            .find(|&&(e, _)| e == effect)
            .map(|&(_, severity)| severity)
    }
}

/// The advice a safety rule adds to each finding.
pub(super) enum Advise {
    /// Always the same words.
    Says(&'static str),
    /// Built from the statement and the reason (a fix, words that depend on them).
    Builds(fn(&Statement, &Reason) -> Advice),
}

/// The safety rules by family, in the order `confiture lint` lists them; each effect is
/// reported by exactly one rule (checked by a test).
const SAFETY: &[&[Safety]] = &[
    indexes::SAFETY,
    columns::SAFETY,
    constraints::SAFETY,
    compatibility::SAFETY,
    data_loss::SAFETY,
    transactions::SAFETY,
    whole_table::SAFETY,
];

/// Every safety rule, in order.
fn safety_rules() -> impl Iterator<Item = &'static Safety> {
    SAFETY.iter().flat_map(|family| family.iter())
}

/// Every migration rule: the safety rules, then the advice rules.
pub(super) fn rules() -> Vec<BuiltinRule> {
    let mut rules: Vec<BuiltinRule> = safety_rules()
        .map(|s| BuiltinRule {
            id: s.id,
            category: Category::Migration,
            severity: s.severity(),
            description: s.description,
            check: s.check.unwrap_or(safety),
        })
        .collect();
    rules.extend([
        timeouts::REQUIRE_LOCK_TIMEOUT,
        timeouts::REQUIRE_STATEMENT_TIMEOUT,
        robust_statements::ROBUST_STATEMENTS,
        enum_value_ordering::ENUM_VALUE_ORDERING,
        prefer_text::PREFER_TEXT_OVER_VARCHAR,
        schema_qualified::REQUIRE_SCHEMA_QUALIFIED,
    ]);
    rules
}

/// Rules off unless the configuration turns them on.
pub(super) const OPT_IN: &[&str] = &["require-schema-qualified"];

/// The effects safety rule `id` reports, each with its floor (none for other rules).
#[cfg(test)]
pub(crate) fn effects_of(id: &str) -> &'static [(Effect, Severity)] {
    safety_rules()
        .find(|s| s.id == id)
        .map_or(&[], |s| s.effects)
}

/// How to fix a finding: in words, and as SQL when mechanical.
pub(super) struct Advice {
    suggestion: String,
    fix: Option<String>,
}

/// Advice in words, without a fix.
pub(super) fn advice(suggestion: impl Into<String>) -> Advice {
    Advice {
        suggestion: suggestion.into(),
        fix: None,
    }
}

impl Advice {
    /// Adds the SQL that fixes the finding.
    pub(super) fn fix(mut self, sql: impl Into<String>) -> Self {
        self.fix = Some(sql.into());
        self
    }
}

/// The severity of a finding of an effect whose least severity is `floor`, on a statement
/// risk rates `level`: never weaker than risk's level (high → warning, critical → critical)
/// nor than the effect's floor; info when risk rates the statement low (a table the migration
/// creates itself is new and empty).
fn finding_severity(level: Level, floor: Severity) -> Severity {
    match level {
        Level::Low => Severity::Info,
        Level::High => floor.max(Severity::Warning),
        Level::Critical => Severity::Critical,
    }
}

/// A safety rule's check: one finding per reason of its effects, at the severity of the
/// reason's level and the effect's floor, with its advice.
pub(super) fn safety(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let Some(safety) = safety_rules().find(|s| s.id == rule.id) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (s, assessment) in ctx.migration_statements() {
        for (reason, floor) in assessment
            .reasons
            .iter()
            .filter_map(|r| safety.floor(r.effect).map(|floor| (r, floor)))
        {
            let Advice { suggestion, fix } = match safety.advise {
                Advise::Says(words) => advice(words),
                Advise::Builds(build) => build(s, reason),
            };
            let mut v = rule
                .at(&s.location, reason.message.clone())
                .suggest(suggestion);
            v.severity = finding_severity(reason.level, floor);
            v.fix = fix;
            found.push(v);
        }
    }
    found
}

#[cfg(test)]
mod tests;
