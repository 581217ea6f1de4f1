//! What the classification knows at each statement of a migration: the schema before it, the
//! tables it created, whether a transaction is open, and the constraints it added or
//! validated so far.

use std::collections::HashSet;

use super::Settings;
use crate::sql::{CheckConstraint, Table, TableLookup};

/// The state of one migration read in order.
pub(super) struct Walk<'m> {
    before: Option<&'m dyn TableLookup>,
    /// The settings the rules depend on.
    pub settings: Settings,
    /// The file runs inside Confiture's transaction.
    transactional: bool,
    /// Index of the statement that opened an explicit transaction still open (no-transaction
    /// files only).
    explicit: Option<usize>,
    /// Index of the statement being classified.
    current: usize,
    /// Tables created by this migration (`schema.name`): new and empty.
    created: HashSet<String>,
    /// `(table, constraint)` added `NOT VALID` in the transaction that is open.
    not_valid_in_transaction: HashSet<(String, String)>,
    /// CHECK constraints added by this migration, by table.
    checks: Vec<(String, CheckConstraint)>,
    /// `(table, constraint)` validated by this migration.
    validated: HashSet<(String, String)>,
}

/// What a transaction-control statement does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Control {
    /// `BEGIN`, `START TRANSACTION`.
    Begin,
    /// `COMMIT`, `END`, `ROLLBACK`, `ABORT`.
    End,
    /// `SAVEPOINT`, `RELEASE`, `ROLLBACK TO`.
    Savepoint,
}

/// How a transaction-control statement stands where it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Standing {
    /// It does what it says (a `BEGIN`/`COMMIT` pair in a no-transaction file).
    Fine,
    /// It ends (or nests in) the transaction Confiture runs the migration in.
    InsideConfituresTransaction,
    /// `BEGIN` while an explicit transaction is already open: ignored, with a warning.
    Nested,
    /// `COMMIT`/`ROLLBACK`/`SAVEPOINT` with no transaction open: does nothing or fails.
    NothingOpen,
}

impl<'m> Walk<'m> {
    pub(super) fn new(
        before: Option<&'m dyn TableLookup>,
        settings: Settings,
        transactional: bool,
    ) -> Self {
        Walk {
            before,
            settings,
            transactional,
            explicit: None,
            current: 0,
            created: HashSet::new(),
            not_valid_in_transaction: HashSet::new(),
            checks: Vec::new(),
            validated: HashSet::new(),
        }
    }

    /// Moves to the next statement (called once per statement, before classifying it).
    pub(super) fn next_statement(&mut self, index: usize) {
        self.current = index;
    }

    /// The statement that opened a transaction never closed, at the end of the migration.
    pub(super) fn open_transaction(&self) -> Option<usize> {
        self.explicit
    }

    /// True when the statement runs inside a transaction block.
    pub(super) fn in_transaction(&self) -> bool {
        self.transactional || self.explicit.is_some()
    }

    /// The table as it was before the migration, if known.
    pub(super) fn table_before(&self, key: &str) -> Option<&'m Table> {
        self.before?.table_by_key(key)
    }

    /// True unless the table was created by this migration (so it may be big and busy).
    pub(super) fn existing(&self, key: &str) -> bool {
        !self.created.contains(key)
    }

    /// `CREATE TABLE`: the table is new, unless `IF NOT EXISTS` names one that exists already
    /// (then nothing happens and the table keeps its history). Returns true when it is new.
    pub(super) fn create_table(&mut self, key: String, if_not_exists: bool) -> bool {
        if if_not_exists && self.table_before(&key).is_some() && !self.created.contains(&key) {
            return false;
        }
        self.created.insert(key);
        true
    }

    /// A transaction-control statement: follows it and tells how it stands.
    pub(super) fn control(&mut self, control: Control) -> Standing {
        if self.transactional {
            return Standing::InsideConfituresTransaction;
        }
        match (control, self.explicit) {
            (Control::Begin, Some(_)) => Standing::Nested,
            (Control::Begin, None) => {
                self.explicit = Some(self.current);
                Standing::Fine
            }
            (Control::End, Some(_)) => {
                self.explicit = None;
                self.not_valid_in_transaction.clear();
                Standing::Fine
            }
            (Control::Savepoint, Some(_)) => Standing::Fine,
            (Control::End | Control::Savepoint, None) => Standing::NothingOpen,
        }
    }

    /// Records a constraint added to `table`; `check` for a CHECK constraint.
    pub(super) fn add_constraint(
        &mut self,
        table: &str,
        name: Option<String>,
        not_valid: bool,
        check: Option<CheckConstraint>,
    ) {
        if not_valid
            && self.in_transaction()
            && let Some(name) = &name
        {
            self.not_valid_in_transaction
                .insert((table.to_string(), name.clone()));
        }
        if let Some(check) = check {
            self.checks.push((table.to_string(), check));
        }
    }

    /// `VALIDATE CONSTRAINT`: true when the constraint was added `NOT VALID` in the same
    /// transaction (so the add's strong lock is still held).
    pub(super) fn validate(&mut self, table: &str, name: &str) -> bool {
        let key = (table.to_string(), name.to_string());
        let same_transaction = self.not_valid_in_transaction.contains(&key);
        self.validated.insert(key);
        same_transaction
    }

    /// True when a validated CHECK proves `table.column IS NOT NULL` at this point, and the
    /// server version uses such a proof for `SET NOT NULL` (12 and later).
    pub(super) fn proves_not_null(&self, table: &str, column: &str) -> bool {
        if self.settings.postgres_version < 12 {
            return false;
        }
        let proves = |c: &CheckConstraint| {
            (c.validated
                || self
                    .validated
                    .contains(&(table.to_string(), c.name.clone())))
                && c.not_null_columns.iter().any(|n| n == column)
        };
        self.table_before(table)
            .is_some_and(|t| t.check_constraints.iter().any(proves))
            || self.checks.iter().any(|(t, c)| t == table && proves(c))
    }
}
