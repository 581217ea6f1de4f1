//! Statements that destroy data or change rows: dropped objects and tables, TRUNCATE, UPDATE
//! and DELETE inside a schema migration.

use super::{Advise, Safety, advice};
use crate::lint::rule::Severity;
use crate::risk::Effect;
use crate::sql::inspect::has_keyword;

pub(super) const SAFETY: &[Safety] = &[
    Safety {
        id: "drop-object",
        check: None,
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
        check: None,
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
        check: None,
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
        check: None,
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
];
