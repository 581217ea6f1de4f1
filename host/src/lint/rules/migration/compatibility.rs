//! Changes that break the application code still running against the old schema: a
//! column's type, a rename, a dropped column, a dropped NOT NULL.

use super::{Advise, Safety, advice};
use crate::lint::rule::Severity;
use crate::risk::Effect;

pub(super) const SAFETY: &[Safety] = &[
    Safety {
        id: "changing-column-type",
        check: None,
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
        check: None,
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
        check: None,
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
        check: None,
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
        check: None,
        effects: &[(Effect::DropNotNull, Severity::Warning)],
        description: "ALTER COLUMN ... DROP NOT NULL lets NULLs in: code that assumes the \
                      column always has a value breaks on the first one.",
        advise: Advise::Says("deploy code that handles NULL in the column first"),
    },
];
