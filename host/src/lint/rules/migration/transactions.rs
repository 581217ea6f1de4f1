//! Transaction control inside a migration: nesting, a BEGIN never committed, and
//! no-transaction migrations that commit part-way.

use super::{Advise, Safety, advice};
use crate::lint::rule::Severity;
use crate::risk::Effect;

pub(super) const SAFETY: &[Safety] = &[
    Safety {
        id: "transaction-nesting",
        check: None,
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
        check: None,
        effects: &[(Effect::UncommittedTransaction, Severity::Warning)],
        description: "A BEGIN in a no-transaction migration that is never committed or rolled \
                      back: the session ends it and what it did is lost.",
        advise: Advise::Builds(|_, _| {
            advice("add COMMIT (or ROLLBACK) at the end of the transaction").fix("COMMIT;")
        }),
    },
    Safety {
        id: "non-atomic-migration",
        check: None,
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
];
