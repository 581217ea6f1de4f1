//! Adding a column: one that fails on a table with rows, or that rewrites the table.

use super::{Advise, Safety};
use crate::lint::rule::Severity;
use crate::risk::Effect;

pub(super) const SAFETY: &[Safety] = &[
    Safety {
        id: "adding-required-column",
        check: None,
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
        check: None,
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
        check: None,
        effects: &[(Effect::GeneratedColumnRewritesTable, Severity::Critical)],
        description: "ADD COLUMN ... GENERATED (a stored generated or identity column) \
                      rewrites the whole table under an ACCESS EXCLUSIVE lock.",
        advise: Advise::Says(
            "add a plain column, backfill it in batches, and maintain it with a \
                     trigger or the application (or, on PostgreSQL 18, a VIRTUAL column)",
        ),
    },
];
