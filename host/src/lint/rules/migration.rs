//! Migration safety: statements in `db/migrations/` that lock or rewrite a busy table, break
//! running application code, or cannot run the way Confiture runs migrations.
//!
//! What a statement does is decided in one place, the risk classification ([`crate::risk`]):
//! each safety rule here reports the [`Effect`]s it is about and adds advice and a fix. So
//! `migrate status`, the wizard and `confiture lint` cannot disagree on what is risky. A
//! finding is never weaker than risk's level (critical → critical, high → warning) nor than
//! its effect's floor in the table below: the operations that fail CI by default (an index
//! built without CONCURRENTLY, a constraint added without NOT VALID, ...) stay critical
//! although risk rates them high. The advice rules at the end (timeouts, robust
//! statements, enum ordering, schema-qualified names, text over varchar) are style and
//! operations advice about the migration file, not facts about a statement.

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, Statement as Ast, TableConstraint,
};

use super::{last_part, quote};
use crate::lint::rule::{BuiltinRule, Category, LintContext, Severity, Violation};
use crate::risk::{Effect, Level, Reason};
use crate::sql::inspect::{has_keyword, set_variable};
use crate::sql::names::ident;
use crate::sql::types::normalise;
use crate::sql::{Statement, StatementKind, guess_kind};

/// A safety rule: the effects it reports and the advice it adds.
struct Safety {
    id: &'static str,
    /// The effects it reports, each with the least severity of its findings on a statement
    /// risk rates high or critical (see [`finding_severity`]). The rule's default severity is
    /// the strongest of them, never weaker than before the one safety model (checked by a test).
    effects: &'static [(Effect, Severity)],
    description: &'static str,
    advise: Advise,
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
enum Advise {
    /// Always the same words.
    Says(&'static str),
    /// Built from the statement and the reason (a fix, words that depend on them).
    Builds(fn(&Statement, &Reason) -> Advice),
}

/// Every safety rule, with the effects it reports (each effect reported by exactly one rule,
/// checked by a test).
const SAFETY: &[Safety] = &[
    Safety {
        id: "require-concurrent-index",
        effects: &[(Effect::IndexBuildBlocksWrites, Severity::Critical)],
        description: "CREATE INDEX without CONCURRENTLY on an existing table blocks every \
                      write to it for the whole build.",
        advise: Advise::Builds(concurrent_index),
    },
    Safety {
        id: "concurrent-index-in-transaction",
        effects: &[(Effect::ConcurrentlyInTransaction, Severity::Critical)],
        description: "CREATE/DROP INDEX, REINDEX and DETACH PARTITION CONCURRENTLY (and \
                      VACUUM, ALTER SYSTEM, CREATE DATABASE, ...) cannot run inside a \
                      transaction block: Confiture runs a migration made only of such \
                      statements outside one by itself, and refuses one that mixes them with \
                      other statements unless its first line is `-- confiture: no-transaction` \
                      (an explicit BEGIN in such a file opens a transaction again).",
        advise: Advise::Says(
            "move the statement into a migration of its own (Confiture runs it outside a \
                     transaction by itself), or make `-- confiture: no-transaction` the \
                     migration's first line and run it outside any BEGIN ... COMMIT",
        ),
    },
    Safety {
        id: "require-concurrent-index-drop",
        effects: &[(Effect::IndexDropBlocksTable, Severity::Warning)],
        description: "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the \
                      table, blocking reads and writes while it waits for running queries.",
        advise: Advise::Builds(|s, _| {
            advice("drop it CONCURRENTLY, in a `-- confiture: no-transaction` migration").fix(
                format!(
                    "{};",
                    replace_first_keyword(&s.text, "index", "INDEX CONCURRENTLY")
                ),
            )
        }),
    },
    Safety {
        id: "require-concurrent-reindex",
        effects: &[(Effect::ReindexBlocksTable, Severity::Warning)],
        description: "REINDEX without CONCURRENTLY blocks writes to the table (and reads that \
                      use the index) until the index is rebuilt.",
        advise: Advise::Says(
            "REINDEX ... CONCURRENTLY (PostgreSQL 12+), in a `-- confiture: \
                     no-transaction` migration",
        ),
    },
    Safety {
        id: "require-concurrent-partition-detach",
        effects: &[(Effect::DetachPartitionBlocksTable, Severity::Warning)],
        description: "DETACH PARTITION without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on \
                      the partitioned table.",
        advise: Advise::Says(
            "DETACH PARTITION ... CONCURRENTLY (PostgreSQL 14+), in a `-- confiture: \
                     no-transaction` migration",
        ),
    },
    Safety {
        id: "adding-required-column",
        effects: &[(Effect::RequiredColumnFails, Severity::Critical)],
        description: "ADD COLUMN ... NOT NULL without a DEFAULT fails on any table that has \
                      rows, and the application's INSERTs that do not know the column fail \
                      after it.",
        advise: Advise::Says(
            "add it with a constant DEFAULT (instant since PostgreSQL 11), or add it \
                     nullable, backfill, then add NOT NULL via a NOT VALID CHECK",
        ),
    },
    Safety {
        id: "volatile-default",
        effects: &[(Effect::DefaultRewritesTable, Severity::Critical)],
        description: "ADD COLUMN with a volatile default (any function PostgreSQL does not \
                      declare immutable or stable: random(), gen_random_uuid(), uuidv7(), \
                      nextval()/serial, your own functions) rewrites the whole table under an \
                      ACCESS EXCLUSIVE lock; before PostgreSQL 11 any default does.",
        advise: Advise::Says(
            "add the column without a default (or with a constant one), set the \
                     default afterwards with ALTER COLUMN ... SET DEFAULT, and backfill \
                     existing rows in batches",
        ),
    },
    Safety {
        id: "adding-generated-column",
        effects: &[(Effect::GeneratedColumnRewritesTable, Severity::Critical)],
        description: "ADD COLUMN ... GENERATED (a stored generated or identity column) \
                      rewrites the whole table under an ACCESS EXCLUSIVE lock.",
        advise: Advise::Says(
            "add a plain column, backfill it in batches, and maintain it with a \
                     trigger or the application (or, on PostgreSQL 18, a VIRTUAL column)",
        ),
    },
    Safety {
        id: "set-not-null",
        effects: &[(Effect::NotNullScan, Severity::Warning)],
        description: "ALTER COLUMN ... SET NOT NULL scans the whole table under an ACCESS \
                      EXCLUSIVE lock, unless a validated CHECK (col IS NOT NULL) already \
                      proves it (PostgreSQL 12+).",
        advise: Advise::Builds(set_not_null),
    },
    Safety {
        id: "constraint-missing-not-valid",
        effects: &[(Effect::ConstraintValidation, Severity::Critical)],
        description: "ADD CONSTRAINT ... FOREIGN KEY/CHECK without NOT VALID checks every row \
                      while holding a lock that blocks writes (and, for a foreign key, writes \
                      to the referenced table too); so does an inline REFERENCES or CHECK on \
                      an added column.",
        advise: Advise::Builds(missing_not_valid),
    },
    Safety {
        id: "validate-in-same-transaction",
        effects: &[(Effect::ValidationHoldsStrongLock, Severity::Warning)],
        description: "VALIDATE CONSTRAINT in the same transaction as the ADD ... NOT VALID \
                      keeps the strong lock of the ADD for the whole validation, which defeats \
                      NOT VALID.",
        advise: Advise::Says("move the VALIDATE CONSTRAINT to a later migration (or transaction)"),
    },
    Safety {
        id: "adding-unique-constraint",
        effects: &[(Effect::UniqueIndexBuild, Severity::Critical)],
        description: "ADD CONSTRAINT ... UNIQUE/EXCLUDE (or ADD COLUMN ... UNIQUE) builds its \
                      index while blocking reads and writes; build the index CONCURRENTLY \
                      first and attach it with USING INDEX.",
        advise: Advise::Builds(|s, _| key_fix(s, "UNIQUE")),
    },
    Safety {
        id: "adding-primary-key",
        effects: &[(Effect::PrimaryKeyIndexBuild, Severity::Critical)],
        description: "ADD PRIMARY KEY (or ADD COLUMN ... PRIMARY KEY) on an existing table \
                      builds its index (and may scan for NULLs) under an ACCESS EXCLUSIVE \
                      lock; build a unique index CONCURRENTLY and attach it with USING INDEX.",
        advise: Advise::Builds(|s, _| key_fix(s, "PRIMARY KEY")),
    },
    Safety {
        id: "changing-column-type",
        effects: &[
            (Effect::TypeChangeRewritesTable, Severity::Critical),
            (Effect::TypeChangeBreaksReaders, Severity::Warning),
        ],
        description: "ALTER COLUMN ... TYPE rewrites the table and its indexes under an ACCESS \
                      EXCLUSIVE lock unless the change is binary coercible (a wider varchar or \
                      numeric, varchar to text; then a warning: the lock is brief but readers \
                      see a new type).",
        advise: Advise::Builds(|_, reason| {
            advice(if reason.effect == Effect::TypeChangeRewritesTable {
                "add a new column of the new type, backfill it in batches, switch the \
                     application over, then drop the old column"
            } else {
                "deploy code that reads the new type first"
            })
        }),
    },
    Safety {
        id: "renaming-column",
        effects: &[(Effect::RenameColumn, Severity::Warning)],
        description: "Renaming a column breaks every running instance of the application that \
                      still uses the old name until all are redeployed.",
        advise: Advise::Says(
            "add the new column, write to both, backfill, move readers, then drop the \
                     old one (or deploy code that handles both names first)",
        ),
    },
    Safety {
        id: "renaming-table",
        effects: &[(Effect::RenameTable, Severity::Warning)],
        description: "Renaming a table breaks every running instance of the application that \
                      still uses the old name until all are redeployed.",
        advise: Advise::Says(
            "rename it and create a view with the old name for the transition, or \
                     deploy code that uses the new name first",
        ),
    },
    Safety {
        id: "drop-column",
        effects: &[(Effect::DropColumn, Severity::Critical)],
        description: "Dropping a column breaks application code (and ORMs caching the column \
                      list) that still reads it, and destroys its data.",
        advise: Advise::Says(
            "first deploy code that no longer uses the column, then drop it; suppress \
                     this finding once that is done",
        ),
    },
    Safety {
        id: "drop-not-null",
        effects: &[(Effect::DropNotNull, Severity::Warning)],
        description: "ALTER COLUMN ... DROP NOT NULL lets NULLs in: code that assumes the \
                      column always has a value breaks on the first one.",
        advise: Advise::Says("deploy code that handles NULL in the column first"),
    },
    Safety {
        id: "drop-object",
        effects: &[(Effect::DropDependency, Severity::Warning)],
        description: "Dropping a view, function, procedure, type, domain, sequence, extension, \
                      trigger, constraint or column default breaks code and objects still \
                      relying on it.",
        advise: Advise::Says(
            "make sure nothing uses it any more (deploy that first); suppress this \
                     finding on the statement once reviewed",
        ),
    },
    Safety {
        id: "drop-table",
        effects: &[(Effect::DropTable, Severity::Critical)],
        description: "Dropping a table (or schema or database) destroys its data and breaks any \
                      code still using it.",
        advise: Advise::Says(
            "make sure nothing uses it any more and a backup exists; suppress this \
                     finding on the statement once reviewed",
        ),
    },
    Safety {
        id: "truncate",
        effects: &[(Effect::Truncate, Severity::Critical)],
        description: "TRUNCATE in a migration deletes every row (CASCADE: of referencing tables \
                      too) under an ACCESS EXCLUSIVE lock.",
        advise: Advise::Builds(|s, _| {
            let cascade = if has_keyword(&s.text, "cascade") {
                "CASCADE also empties every table referencing it; "
            } else {
                ""
            };
            advice(format!(
                "{cascade}delete in batches with DELETE ... WHERE, or make sure the data is \
                     disposable"
            ))
        }),
    },
    Safety {
        id: "data-change-in-migration",
        effects: &[
            (Effect::RowsChanged, Severity::Warning),
            (Effect::DuplicateAssignment, Severity::Warning),
        ],
        description: "UPDATE/DELETE of an existing table in a migration holds its row locks \
                      for the whole migration (critical without WHERE: every row); a column \
                      assigned twice makes the statement fail.",
        advise: Advise::Says(
            "backfill in batches outside the schema migration, each batch in its own \
                     short transaction",
        ),
    },
    Safety {
        id: "transaction-nesting",
        effects: &[(Effect::TransactionControl, Severity::Warning)],
        description: "BEGIN/COMMIT/ROLLBACK inside a migration that Confiture already runs in a \
                      transaction would end that transaction early, so Confiture refuses the \
                      file (one BEGIN ... COMMIT around the whole file is fine: its body runs \
                      in Confiture's transaction); in a no-transaction migration, a nested \
                      BEGIN or a COMMIT with nothing open does not do what it says.",
        advise: Advise::Says(
            "remove BEGIN/COMMIT (Confiture wraps the migration), or make the file \
                     `-- confiture: no-transaction` and pair every BEGIN with one COMMIT",
        ),
    },
    Safety {
        id: "uncommitted-transaction",
        effects: &[(Effect::UncommittedTransaction, Severity::Warning)],
        description: "A BEGIN in a no-transaction migration that is never committed or rolled \
                      back: the session ends it and what it did is lost.",
        advise: Advise::Builds(|_, _| {
            advice("add COMMIT (or ROLLBACK) at the end of the transaction").fix("COMMIT;")
        }),
    },
    Safety {
        id: "non-atomic-migration",
        effects: &[(Effect::NonAtomicMigration, Severity::Warning)],
        description: "A no-transaction migration that commits in several steps (statements \
                      outside a transaction, explicit transactions), or in a transaction of \
                      its own: a failure part-way leaves what ran before committed and the \
                      migration unrecorded. A single statement (one CREATE INDEX \
                      CONCURRENTLY) is one step and is not flagged.",
        advise: Advise::Says(
            "put each step in a migration of its own (a statement that cannot run in a \
                     transaction alone in its file; the rest in an ordinary migration, which \
                     Confiture runs in one transaction with its tracking row), or make every \
                     step safe to run again (IF NOT EXISTS, IF EXISTS)",
        ),
    },
    Safety {
        id: "domain-constraint",
        effects: &[(Effect::DomainConstraintValidation, Severity::Warning)],
        description: "ALTER DOMAIN ... ADD CONSTRAINT checks every column of the domain's type \
                      in every table while locking them; CREATE DOMAIN with a constraint makes \
                      later changes to the rule that expensive.",
        advise: Advise::Says(
            "add it NOT VALID, then VALIDATE CONSTRAINT in a later migration; or put the check \
             on the tables' columns",
        ),
    },
    Safety {
        id: "table-rewrite-command",
        effects: &[(Effect::TableRewriteCommand, Severity::Critical)],
        description: "VACUUM FULL and CLUSTER rewrite the whole table under an ACCESS EXCLUSIVE \
                      lock.",
        advise: Advise::Says(
            "use pg_repack or pg_squeeze, which rebuild the table without holding the \
                     lock",
        ),
    },
];

/// Every migration rule: the safety rules, then the advice rules.
pub(super) fn rules() -> Vec<BuiltinRule> {
    let rule = |id, severity, description, check| BuiltinRule {
        id,
        category: Category::Migration,
        severity,
        description,
        check,
    };
    let mut rules: Vec<BuiltinRule> = SAFETY
        .iter()
        .map(|s| {
            let check = if s.id == "domain-constraint" {
                domain_constraint
            } else {
                safety
            };
            rule(s.id, s.severity(), s.description, check)
        })
        .collect();
    rules.extend([
        rule(
            "require-lock-timeout",
            Severity::Warning,
            "A migration that takes strong locks without a lock_timeout waits behind a long \
             query, and every later query on the table queues behind it: an outage. Applies \
             when the environment's `lock_timeout` is 0 (Confiture sets it otherwise).",
            lock_timeout,
        ),
        rule(
            "require-statement-timeout",
            Severity::Info,
            "A migration that scans or rewrites a table without a statement_timeout can run \
             (and hold its locks) for as long as the table is big.",
            statement_timeout,
        ),
        rule(
            "robust-statements",
            Severity::Info,
            "In a no-transaction migration a failure leaves the statements before it applied: \
             CREATE ... IF NOT EXISTS and DROP ... IF EXISTS let the migration run again.",
            robust_statements,
        ),
        rule(
            "enum-value-ordering",
            Severity::Info,
            "ALTER TYPE ... ADD VALUE without BEFORE/AFTER appends the value last, which \
             decides how the enum sorts; say where it goes.",
            enum_value_ordering,
        ),
        rule(
            "prefer-text-over-varchar",
            Severity::Info,
            "varchar(n) in a migration: widening it later is a schema change; text with a \
             CHECK (length(col) <= n) changes with a NOT VALID constraint instead.",
            prefer_text,
        ),
        rule(
            "require-schema-qualified",
            Severity::Info,
            "Tables a migration creates or alters without naming their schema land wherever \
             the search_path points at run time (opt-in rule).",
            schema_qualified,
        ),
    ]);
    rules
}

/// Rules off unless the configuration turns them on.
pub(super) const OPT_IN: &[&str] = &["require-schema-qualified"];

/// The effects safety rule `id` reports, each with its floor (none for other rules).
#[cfg(test)]
pub(crate) fn effects_of(id: &str) -> &'static [(Effect, Severity)] {
    SAFETY
        .iter()
        .find(|s| s.id == id)
        .map_or(&[], |s| s.effects)
}

/// How to fix a finding: in words, and as SQL when mechanical.
struct Advice {
    suggestion: String,
    fix: Option<String>,
}

fn advice(suggestion: impl Into<String>) -> Advice {
    Advice {
        suggestion: suggestion.into(),
        fix: None,
    }
}

impl Advice {
    fn fix(mut self, sql: impl Into<String>) -> Self {
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
fn safety(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let Some(safety) = SAFETY.iter().find(|s| s.id == rule.id) else {
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

fn concurrent_index(s: &Statement, _: &Reason) -> Advice {
    advice(
        "create it CONCURRENTLY, in a migration whose first line is \
         `-- confiture: no-transaction`",
    )
    .fix(format!(
        "{};",
        replace_first_keyword(&s.text, "index", "INDEX CONCURRENTLY")
    ))
}

/// `text` with the first keyword `word` (case-insensitive) replaced by `with`.
fn replace_first_keyword(text: &str, word: &str, with: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = lower[from..].find(word) {
        let start = from + pos;
        let end = start + word.len();
        let boundary = |i: Option<u8>| i.is_none_or(|b| !(b.is_ascii_alphanumeric() || b == b'_'));
        if boundary(start.checked_sub(1).map(|i| lower.as_bytes()[i]))
            && boundary(lower.as_bytes().get(end).copied())
        {
            return format!("{}{with}{}", &text[..start], &text[end..]);
        }
        from = end;
    }
    text.to_string()
}

/// The `ALTER TABLE` of a statement: its table's last name part and its operations.
fn alter_of(s: &Statement) -> Option<(String, &[AlterTableOperation])> {
    match s.ast.as_deref() {
        Some(Ast::AlterTable(alter)) => Some((last_part(&alter.name), &alter.operations)),
        _ => None,
    }
}

fn set_not_null(s: &Statement, _: &Reason) -> Advice {
    let advice = advice(
        "prove it first with a NOT VALID CHECK, validate it (weak lock), then SET NOT NULL uses \
         the check and does not scan (PostgreSQL 12+)",
    );
    let Some((table, ops)) = alter_of(s) else {
        return advice;
    };
    let Some(column) = ops.iter().find_map(|op| match op {
        AlterTableOperation::AlterColumn {
            column_name,
            op: AlterColumnOperation::SetNotNull,
        } => Some(ident(column_name)),
        _ => None,
    }) else {
        return advice;
    };
    let t = quote(&table);
    let c = quote(&column);
    let check = quote(&format!("{table}_{column}_not_null"));
    advice.fix(format!(
        "ALTER TABLE {t} ADD CONSTRAINT {check} CHECK ({c} IS NOT NULL) NOT VALID;\n\
         -- next migration:\n\
         ALTER TABLE {t} VALIDATE CONSTRAINT {check};\n\
         ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;\n\
         ALTER TABLE {t} DROP CONSTRAINT {check};"
    ))
}

fn missing_not_valid(s: &Statement, _: &Reason) -> Advice {
    let advice = advice(
        "add it NOT VALID (instant), then VALIDATE CONSTRAINT in a later migration (a lock that \
         lets reads and writes through); for a new column, add the column first, then the \
         constraint NOT VALID",
    );
    let single_add = alter_of(s).is_some_and(|(_, ops)| {
        matches!(
            ops,
            [AlterTableOperation::AddConstraint {
                constraint: TableConstraint::ForeignKey(_) | TableConstraint::Check(_),
                not_valid: false,
            }]
        )
    });
    if single_add {
        advice.fix(format!("{} NOT VALID;", s.text.trim_end_matches(';')))
    } else {
        advice
    }
}

/// Advice for a key (`UNIQUE` or `PRIMARY KEY`) added to an existing table, with the
/// index-first fix when the statement names the key's columns.
fn key_fix(s: &Statement, key: &str) -> Advice {
    let advice = advice(format!(
        "create a unique index CONCURRENTLY first, then add the {key} USING INDEX (instant)"
    ));
    let Some((table, ops)) = alter_of(s) else {
        return advice;
    };
    let found = ops.iter().find_map(|op| match op {
        AlterTableOperation::AddConstraint {
            constraint: TableConstraint::Unique(u),
            ..
        } if key == "UNIQUE" => Some((
            u.name.as_ref().map(ident),
            u.columns
                .iter()
                .map(|c| c.column.expr.to_string())
                .collect(),
        )),
        AlterTableOperation::AddConstraint {
            constraint: TableConstraint::PrimaryKey(pk),
            ..
        } if key == "PRIMARY KEY" => Some((
            Some(format!("{table}_pkey")),
            pk.columns
                .iter()
                .map(|c| c.column.expr.to_string())
                .collect::<Vec<String>>(),
        )),
        _ => None,
    });
    let Some((name, columns)) = found else {
        return advice;
    };
    let name = name.unwrap_or_else(|| format!("{table}_{}_key", columns.join("_")));
    let index = quote(&format!("{name}_idx"));
    let t = quote(&table);
    advice.fix(format!(
        "CREATE UNIQUE INDEX CONCURRENTLY {index} ON {t} ({});\n\
         ALTER TABLE {t} ADD CONSTRAINT {} {key} USING INDEX {index};",
        columns.join(", "),
        quote(&name)
    ))
}

/// `ALTER DOMAIN ... ADD CONSTRAINT` (from risk), and `CREATE DOMAIN` with a constraint
/// (advice: later changes to it are that expensive).
fn domain_constraint(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = safety(rule, ctx);
    for (s, _) in ctx.migration_statements() {
        if guess_kind(&s.text) == "create-domain"
            && (has_keyword(&s.text, "check") || has_keyword(&s.text, "constraint"))
        {
            let mut v = rule
                .at(
                    &s.location,
                    "CREATE DOMAIN with a constraint: changing that constraint later checks \
                     every column of the type while locking its tables",
                )
                .suggest("put the CHECK on the tables' columns, where it can be added NOT VALID");
            v.severity = Severity::Info;
            found.push(v);
        }
    }
    found
}

/// True for statements that take an ACCESS EXCLUSIVE or SHARE lock on an existing table (even
/// briefly: queued behind a long query, the lock request itself blocks the table).
fn takes_strong_lock(reasons: &[Reason]) -> bool {
    reasons.iter().any(|r| {
        matches!(
            r.lock,
            Some(crate::risk::lock::ACCESS_EXCLUSIVE | crate::risk::lock::SHARE)
        )
    })
}

/// True when the statement sets the setting `name` itself (not a custom `x.name`).
fn sets(s: &Statement, name: &str) -> bool {
    s.kind == StatementKind::Set && s.ast.as_deref().and_then(set_variable).as_deref() == Some(name)
}

/// The first statement of each migration that needs `setting` and comes before any `SET` of
/// it, with the reasons it needs it.
fn first_needing<'a>(
    ctx: &LintContext<'a>,
    setting: &str,
    needs: fn(&[Reason]) -> bool,
) -> Vec<&'a Statement> {
    let mut found = Vec::new();
    for (file, risk) in ctx.migrations() {
        for (s, (_, assessment)) in file.statements.iter().zip(&risk.statements) {
            if sets(s, setting) {
                break;
            }
            if needs(&assessment.reasons) {
                found.push(s);
                break;
            }
        }
    }
    found
}

fn lock_timeout(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    if ctx.options.runner_sets_lock_timeout {
        return Vec::new();
    }
    first_needing(ctx, "lock_timeout", takes_strong_lock)
        .into_iter()
        .map(|s| {
            rule.at(
                &s.location,
                "this migration takes a strong lock without a lock_timeout: queued behind a \
                 long query, it blocks every query on the table",
            )
            .suggest(
                "set `lock_timeout` in the environment file (Confiture applies it to every \
                 migration), or start the migration with SET lock_timeout",
            )
            .fix("SET lock_timeout = '5s';")
        })
        .collect()
}

fn statement_timeout(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let slow = |reasons: &[Reason]| {
        reasons
            .iter()
            .any(|r| r.effect != Effect::None && r.scans_table)
    };
    first_needing(ctx, "statement_timeout", slow)
        .into_iter()
        .map(|s| {
            rule.at(
                &s.location,
                "this migration scans or rewrites a table without a statement_timeout",
            )
            .suggest("start the migration with SET statement_timeout")
            .fix("SET statement_timeout = '5min';")
        })
        .collect()
}

fn robust_statements(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for (file, _) in ctx.migrations() {
        if !file.statements.first().is_some_and(|s| s.no_transaction) {
            continue;
        }
        for s in &file.statements {
            let kind = guess_kind(&s.text);
            let guarded = has_keyword(&s.text, "exists");
            let what = match kind.as_str() {
                "create-table" | "create-index" | "create-schema" | "create-sequence"
                | "create-extension" => "IF NOT EXISTS",
                "drop-table" | "drop-index" | "drop-view" | "drop-sequence" | "drop-type"
                | "drop-function" | "drop-schema" | "drop-extension" => "IF EXISTS",
                _ => continue,
            };
            if !guarded {
                found.push(
                    rule.at(
                        &s.location,
                        format!(
                            "without {what}, this no-transaction migration cannot run again if \
                             it fails after this statement"
                        ),
                    )
                    .suggest(format!("add {what}")),
                );
            }
        }
    }
    found
}

fn enum_value_ordering(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    ctx.migration_statements()
        .filter(|(s, _)| {
            guess_kind(&s.text) == "alter-type"
                && has_keyword(&s.text, "add")
                && has_keyword(&s.text, "value")
                && !has_keyword(&s.text, "before")
                && !has_keyword(&s.text, "after")
        })
        .map(|(s, _)| {
            rule.at(
                &s.location,
                "ADD VALUE without BEFORE/AFTER puts the value last in the enum's sort order",
            )
            .suggest("say where it goes: ADD VALUE 'x' BEFORE 'y' (or AFTER)")
        })
        .collect()
}

fn prefer_text(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let bounded = |t: &sqlparser::ast::DataType| {
        let name = normalise(t).name;
        name.starts_with("character varying(")
    };
    let mut found = Vec::new();
    for (s, _) in ctx.migration_statements() {
        let columns: Vec<(String, bool)> = match s.ast.as_deref() {
            Some(Ast::CreateTable(create)) => create
                .columns
                .iter()
                .map(|c| (ident(&c.name), bounded(&c.data_type)))
                .collect(),
            Some(Ast::AlterTable(alter)) => alter
                .operations
                .iter()
                .filter_map(|op| match op {
                    AlterTableOperation::AddColumn { column_def, .. } => {
                        Some((ident(&column_def.name), bounded(&column_def.data_type)))
                    }
                    AlterTableOperation::AlterColumn {
                        column_name,
                        op: AlterColumnOperation::SetDataType { data_type, .. },
                    } => Some((ident(column_name), bounded(data_type))),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        for (column, _) in columns.into_iter().filter(|(_, b)| *b) {
            found.push(
                rule.at(
                    &s.location,
                    format!("column `{column}` is varchar(n): changing n later is a schema change"),
                )
                .suggest("use text with a CHECK (length(col) <= n) if the limit matters"),
            );
        }
    }
    found
}

fn schema_qualified(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for (s, _) in ctx.migration_statements() {
        let name = match s.ast.as_deref() {
            Some(Ast::CreateTable(create)) => &create.name,
            Some(Ast::AlterTable(alter)) => &alter.name,
            Some(Ast::CreateIndex(index)) => &index.table_name,
            _ => continue,
        };
        if name.0.len() < 2 {
            found.push(
                rule.at(
                    &s.location,
                    format!(
                        "`{}` is not schema-qualified: it resolves through the search_path at \
                         run time",
                        last_part(name)
                    ),
                )
                .suggest("name the schema, e.g. public.table"),
            );
        }
    }
    found
}

#[cfg(test)]
mod tests;
