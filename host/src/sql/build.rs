//! Builds the [`SchemaModel`] by applying every file's DDL in order: `CREATE`/`ALTER`/`DROP
//! TABLE`, `CREATE`/`ALTER`/`DROP INDEX` and `COMMENT ON`. Tables and indexes are kept in slots
//! with hash maps by qualified name, so each statement costs about the same on a schema of two
//! thousand tables as on one of ten.

use std::collections::HashMap;

use sqlparser::ast::{
    self, AlterColumnOperation, AlterIndexOperation, AlterTableOperation, ColumnDef, ColumnOption,
    CommentObject, CreateIndex, CreateTable, CreateTableLikeDefaults, CreateTableLikeKind, Expr,
    Ident, IndexColumn, ObjectName, ObjectType, RenameTableNameKind, TableConstraint,
};
use sqlparser::tokenizer::Span;

use super::inspect;
use super::model::{CheckConstraint, Column, ForeignKey, Index, SchemaModel, Table, TableLookup};
use super::names;
use super::statement::{Location, SqlFile, Statement};
use super::types;

/// Applies the parsed DDL of `files`, in order, into one schema model. Unqualified names are in
/// `public`; statements that were not parsed, or that name tables the model does not have, are
/// skipped. Never fails.
pub fn build_model(files: &[SqlFile]) -> SchemaModel {
    let mut builder = ModelBuilder::default();
    for file in files {
        builder.apply(file);
    }
    builder.finish()
}

/// The model built one file at a time and readable between files, e.g. to know the schema as
/// it was before each migration in one pass over every file (see [`build_model`]).
#[derive(Default)]
pub struct ModelBuilder {
    builder: Builder,
}

impl ModelBuilder {
    /// Applies one file's parsed DDL.
    pub fn apply(&mut self, file: &SqlFile) {
        for statement in &file.statements {
            if let Some(ast) = statement.ast.as_deref() {
                self.builder.apply(statement, ast);
            }
        }
    }

    /// The model after every file applied so far.
    pub fn finish(self) -> SchemaModel {
        self.builder.finish()
    }
}

impl TableLookup for ModelBuilder {
    fn table_by_key(&self, qualified: &str) -> Option<&Table> {
        self.builder.state(qualified).map(|state| &state.table)
    }
}

/// A named constraint, remembered so `DROP CONSTRAINT` and `RENAME CONSTRAINT` can find it.
#[derive(Debug, Clone)]
struct Constraint {
    name: String,
    kind: ConstraintKind,
}

#[derive(Debug, Clone)]
enum ConstraintKind {
    PrimaryKey,
    Unique(Vec<String>),
    /// Found again among the table's foreign keys by name, else by columns and target.
    ForeignKey {
        columns: Vec<String>,
        referenced_table: String,
    },
    Check(String),
}

#[derive(Debug, Clone)]
struct TableState {
    table: Table,
    constraints: Vec<Constraint>,
}

#[derive(Default)]
struct Builder {
    /// Table slots in creation order; `None` once dropped.
    tables: Vec<Option<TableState>>,
    /// `schema.table` → slot.
    table_slots: HashMap<String, usize>,
    /// Index slots in creation order; `None` once dropped.
    indexes: Vec<Option<Index>>,
    /// `schema.index` → slot.
    index_slots: HashMap<String, usize>,
    /// `schema.table` → slots of the indexes on it (may hold dropped slots).
    indexes_by_table: HashMap<String, Vec<usize>>,
    /// `schema.table` → the tables whose foreign keys reference it (may hold stale names).
    referenced_by: HashMap<String, Vec<String>>,
}

/// Statement-relative spans to file locations.
struct Place<'s> {
    statement: &'s Statement,
}

impl Place<'_> {
    /// Where the statement starts.
    fn statement(&self) -> Location {
        self.statement.location.clone()
    }

    /// Where `span` (relative to the statement's text) starts; the statement's start when the
    /// span is empty.
    fn of(&self, span: Span) -> Location {
        let base = &self.statement.location;
        let (line, column) = (span.start.line, span.start.column);
        if line == 0 || column == 0 {
            return base.clone();
        }
        let to_u32 = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        Location {
            file: base.file.clone(),
            line: base.line.saturating_add(to_u32(line - 1)),
            column: if line == 1 {
                base.column.saturating_add(to_u32(column - 1))
            } else {
                to_u32(column)
            },
        }
    }
}

impl Builder {
    fn apply(&mut self, statement: &Statement, ast: &ast::Statement) {
        let place = Place { statement };
        match ast {
            ast::Statement::CreateTable(create) => self.create_table(create, &place),
            ast::Statement::AlterTable(alter) => {
                let key = names::qualified(&alter.name);
                for operation in &alter.operations {
                    match operation {
                        AlterTableOperation::AttachPartitionOf { partition, .. } => {
                            self.partition_of(&names::qualified(partition), Some(&key));
                        }
                        AlterTableOperation::DetachPartitionOf { partition, .. } => {
                            self.partition_of(&names::qualified(partition), None);
                        }
                        _ => self.alter_table(&key, operation, &place),
                    }
                }
            }
            ast::Statement::CreateIndex(create) => self.create_index(create, &place),
            ast::Statement::Drop {
                object_type: ObjectType::Table,
                names,
                ..
            } => {
                for name in names {
                    self.drop_table(&names::qualified(name));
                }
            }
            ast::Statement::Drop {
                object_type: ObjectType::Index,
                names,
                ..
            } => {
                for name in names {
                    self.drop_index(name);
                }
            }
            ast::Statement::AlterIndex {
                name,
                operation: AlterIndexOperation::RenameIndex { index_name },
            } => self.rename_index(name, index_name),
            ast::Statement::Comment {
                object_type,
                object_name,
                comment,
                ..
            } => self.comment(*object_type, object_name, comment.clone()),
            _ => {}
        }
    }

    /// Records that `partition` is a partition of `parent` (both `schema.name`), or no longer
    /// one.
    fn partition_of(&mut self, partition: &str, parent: Option<&str>) {
        if let Some(state) = self.state_mut(partition) {
            state.table.partition_of = parent.map(str::to_string);
        }
    }

    fn finish(self) -> SchemaModel {
        SchemaModel {
            tables: self.tables.into_iter().flatten().map(|s| s.table).collect(),
            indexes: self.indexes.into_iter().flatten().collect(),
        }
    }

    fn state(&self, key: &str) -> Option<&TableState> {
        self.tables[*self.table_slots.get(key)?].as_ref()
    }

    fn state_mut(&mut self, key: &str) -> Option<&mut TableState> {
        self.tables[*self.table_slots.get(key)?].as_mut()
    }

    fn create_table(&mut self, create: &CreateTable, place: &Place<'_>) {
        let (schema, name) = names::relation(&create.name);
        let key = names::join(&schema, &name);
        if create.if_not_exists && self.table_slots.contains_key(&key) {
            return;
        }
        let mut state = TableState {
            table: Table {
                schema,
                name,
                columns: Vec::new(),
                primary_key: Vec::new(),
                unique_keys: Vec::new(),
                foreign_keys: Vec::new(),
                checks: Vec::new(),
                check_constraints: Vec::new(),
                partition_of: None,
                comment: None,
                location: place.statement(),
            },
            constraints: Vec::new(),
        };
        self.copy_from_parents(create, &mut state, place);
        for def in &create.columns {
            let column = self.column(def, &mut state, place);
            upsert_column(&mut state.table, column);
        }
        for constraint in &create.constraints {
            self.add_constraint(&mut state, constraint, true, place);
        }
        self.note_references(&key, &state.table.foreign_keys);
        match self.table_slots.get(&key) {
            Some(&slot) => self.tables[slot] = Some(state),
            None => {
                self.table_slots.insert(key, self.tables.len());
                self.tables.push(Some(state));
            }
        }
    }

    /// `PARTITION OF` copies the parent's columns and constraints, `INHERITS` its columns and
    /// checks, `LIKE` its columns (and defaults with `INCLUDING DEFAULTS`) — best effort.
    fn copy_from_parents(&self, create: &CreateTable, state: &mut TableState, place: &Place<'_>) {
        let relocate = |mut column: Column| {
            column.location = place.statement();
            column.comment = None;
            column
        };
        state.table.partition_of = create.partition_of.as_ref().map(names::qualified);
        if let Some(parent) = &create.partition_of
            && let Some(parent) = self.state(&names::qualified(parent))
        {
            let own = &mut state.table;
            own.columns = parent.table.columns.iter().cloned().map(relocate).collect();
            own.primary_key.clone_from(&parent.table.primary_key);
            own.unique_keys.clone_from(&parent.table.unique_keys);
            own.checks.clone_from(&parent.table.checks);
            own.check_constraints
                .clone_from(&parent.table.check_constraints);
            own.foreign_keys = parent
                .table
                .foreign_keys
                .iter()
                .cloned()
                .map(|mut fk| {
                    fk.location = place.statement();
                    fk
                })
                .collect();
        }
        for parent in create.inherits.iter().flatten() {
            if let Some(parent) = self.state(&names::qualified(parent)) {
                for column in &parent.table.columns {
                    let mut column = relocate(column.clone());
                    column.identity = false;
                    upsert_column(&mut state.table, column);
                }
                state
                    .table
                    .checks
                    .extend(parent.table.checks.iter().cloned());
                state
                    .table
                    .check_constraints
                    .extend(parent.table.check_constraints.iter().cloned());
            }
        }
        if let Some(CreateTableLikeKind::Parenthesized(like) | CreateTableLikeKind::Plain(like)) =
            &create.like
            && let Some(source) = self.state(&names::qualified(&like.name))
        {
            let defaults = like.defaults == Some(CreateTableLikeDefaults::Including);
            for column in &source.table.columns {
                let mut column = relocate(column.clone());
                if !defaults {
                    column.default = None;
                    column.serial = false;
                }
                column.identity = false;
                upsert_column(&mut state.table, column);
            }
        }
    }

    /// A column definition, with its inline constraints added to `state`.
    fn column(&self, def: &ColumnDef, state: &mut TableState, place: &Place<'_>) -> Column {
        let name = names::ident(&def.name);
        let column_type = types::normalise(&def.data_type);
        let mut column = Column {
            name: name.clone(),
            type_name: column_type.name,
            nullable: true,
            default: None,
            identity: false,
            serial: column_type.serial,
            generated: false,
            comment: None,
            location: place.of(def.name.span),
        };
        let table_name = state.table.name.clone();
        for option in &def.options {
            let given = option.name.as_ref().map(names::ident);
            match &option.option {
                ColumnOption::Null => column.nullable = true,
                ColumnOption::NotNull => column.nullable = false,
                ColumnOption::Default(expr) => set_default(&mut column, expr),
                ColumnOption::PrimaryKey(pk) => {
                    let name = given
                        .or_else(|| pk.name.as_ref().map(names::ident))
                        .unwrap_or_else(|| format!("{table_name}_pkey"));
                    column.nullable = false;
                    state.table.primary_key = vec![column.name.clone()];
                    remember(state, name, ConstraintKind::PrimaryKey);
                }
                ColumnOption::Unique(unique) => {
                    let name = given
                        .or_else(|| unique.name.as_ref().map(names::ident))
                        .unwrap_or_else(|| format!("{table_name}_{}_key", column.name));
                    let columns = vec![column.name.clone()];
                    state.table.unique_keys.push(columns.clone());
                    remember(state, name, ConstraintKind::Unique(columns));
                }
                ColumnOption::ForeignKey(fk) => {
                    let name = given.or_else(|| fk.name.as_ref().map(names::ident));
                    let foreign_key = ForeignKey {
                        name: name.clone(),
                        columns: vec![column.name.clone()],
                        referenced_table: names::qualified(&fk.foreign_table),
                        referenced_columns: self.referenced_columns(
                            &fk.foreign_table,
                            &fk.referred_columns,
                            state,
                        ),
                        location: column.location.clone(),
                    };
                    let name = name.unwrap_or_else(|| format!("{table_name}_{}_fkey", column.name));
                    add_foreign_key(state, name, foreign_key);
                }
                ColumnOption::Check(check) => {
                    let name = given
                        .or_else(|| check.name.as_ref().map(names::ident))
                        .unwrap_or_else(|| format!("{table_name}_{}_check", column.name));
                    let expr = check.expr.to_string();
                    state.table.checks.push(expr.clone());
                    state.table.check_constraints.push(CheckConstraint {
                        name: name.clone(),
                        expr: expr.clone(),
                        not_null_columns: inspect::not_null_columns(&check.expr),
                        validated: true,
                    });
                    remember(state, name, ConstraintKind::Check(expr));
                }
                ColumnOption::Generated {
                    generation_expr, ..
                } => {
                    if generation_expr.is_some() {
                        column.generated = true;
                    } else {
                        column.identity = true;
                        column.nullable = false;
                    }
                }
                ColumnOption::Identity(_) => {
                    column.identity = true;
                    column.nullable = false;
                }
                _ => {}
            }
        }
        if column_type.serial {
            column.nullable = false;
            if column.default.is_none() {
                let sequence = format!("{table_name}_{}_seq", column.name);
                column.default = Some(format!(
                    "nextval('{}'::REGCLASS)",
                    names::join(&state.table.schema, &sequence)
                ));
            }
        }
        column
    }

    /// The referenced columns of a foreign key: as written, else the referenced table's
    /// primary key when known (`own` is the table being built, for self references).
    fn referenced_columns(
        &self,
        table: &ObjectName,
        written: &[Ident],
        own: &TableState,
    ) -> Vec<String> {
        if !written.is_empty() {
            return written.iter().map(names::ident).collect();
        }
        let key = names::qualified(table);
        if key == own.table.qualified() {
            return own.table.primary_key.clone();
        }
        self.state(&key)
            .map(|s| s.table.primary_key.clone())
            .unwrap_or_default()
    }

    /// Adds a table constraint; `validated` is false for one added `NOT VALID`.
    fn add_constraint(
        &self,
        state: &mut TableState,
        constraint: &TableConstraint,
        validated: bool,
        place: &Place<'_>,
    ) {
        let table_name = state.table.name.clone();
        match constraint {
            TableConstraint::PrimaryKey(pk) => {
                let columns = index_columns(&pk.columns);
                for column in &mut state.table.columns {
                    if columns.contains(&column.name) {
                        column.nullable = false;
                    }
                }
                state.table.primary_key = columns;
                let name = pk
                    .name
                    .as_ref()
                    .map_or_else(|| format!("{table_name}_pkey"), names::ident);
                remember(state, name, ConstraintKind::PrimaryKey);
            }
            TableConstraint::Unique(unique) => {
                let columns = index_columns(&unique.columns);
                let name = unique.name.as_ref().map_or_else(
                    || format!("{table_name}_{}_key", columns.join("_")),
                    names::ident,
                );
                state.table.unique_keys.push(columns.clone());
                remember(state, name, ConstraintKind::Unique(columns));
            }
            TableConstraint::ForeignKey(fk) => {
                let columns: Vec<String> = fk.columns.iter().map(names::ident).collect();
                let span = fk
                    .name
                    .as_ref()
                    .or(fk.columns.first())
                    .map_or_else(Span::empty, |id| id.span);
                let name = fk.name.as_ref().map(names::ident);
                let foreign_key = ForeignKey {
                    name: name.clone(),
                    referenced_table: names::qualified(&fk.foreign_table),
                    referenced_columns: self.referenced_columns(
                        &fk.foreign_table,
                        &fk.referred_columns,
                        state,
                    ),
                    columns,
                    location: place.of(span),
                };
                let name = name.unwrap_or_else(|| {
                    format!("{table_name}_{}_fkey", foreign_key.columns.join("_"))
                });
                add_foreign_key(state, name, foreign_key);
            }
            TableConstraint::Check(check) => {
                let expr = check.expr.to_string();
                let name = check
                    .name
                    .as_ref()
                    .map_or_else(|| format!("{table_name}_check"), names::ident);
                state.table.checks.push(expr.clone());
                state.table.check_constraints.push(CheckConstraint {
                    name: name.clone(),
                    expr: expr.clone(),
                    not_null_columns: inspect::not_null_columns(&check.expr),
                    validated,
                });
                remember(state, name, ConstraintKind::Check(expr));
            }
            _ => {}
        }
    }

    /// Records that `referencing`'s foreign keys point at their tables.
    fn note_references(&mut self, referencing: &str, foreign_keys: &[ForeignKey]) {
        for fk in foreign_keys {
            let list = self
                .referenced_by
                .entry(fk.referenced_table.clone())
                .or_default();
            if !list.iter().any(|t| t == referencing) {
                list.push(referencing.to_string());
            }
        }
    }

    /// Applies `edit` to every foreign key (of any table) that references `table`.
    fn edit_references(&mut self, table: &str, mut edit: impl FnMut(&mut Vec<ForeignKey>)) {
        let Some(referencing) = self.referenced_by.get(table).cloned() else {
            return;
        };
        for key in referencing {
            if let Some(state) = self.state_mut(&key) {
                edit(&mut state.table.foreign_keys);
            }
        }
    }

    fn alter_table(&mut self, key: &str, operation: &AlterTableOperation, place: &Place<'_>) {
        let Some(&slot) = self.table_slots.get(key) else {
            return;
        };
        let Some(mut state) = self.tables[slot].take() else {
            return;
        };
        let mut renamed_to = None;
        match operation {
            AlterTableOperation::AddColumn {
                if_not_exists,
                column_def,
                ..
            } => {
                let exists = state
                    .table
                    .column(&names::ident(&column_def.name))
                    .is_some();
                if !(exists && *if_not_exists) {
                    let column = self.column(column_def, &mut state, place);
                    upsert_column(&mut state.table, column);
                }
            }
            AlterTableOperation::AddConstraint {
                constraint,
                not_valid,
            } => {
                self.add_constraint(&mut state, constraint, !not_valid, place);
            }
            AlterTableOperation::ValidateConstraint { name } => {
                let name = names::ident(name);
                for check in &mut state.table.check_constraints {
                    if check.name == name {
                        check.validated = true;
                    }
                }
            }
            AlterTableOperation::DropConstraint { name, .. }
            | AlterTableOperation::DropForeignKey { name, .. } => {
                drop_constraint(&mut state, &names::ident(name));
            }
            AlterTableOperation::DropPrimaryKey { .. } => {
                state.table.primary_key.clear();
                state
                    .constraints
                    .retain(|c| !matches!(c.kind, ConstraintKind::PrimaryKey));
            }
            AlterTableOperation::RenameConstraint { old_name, new_name } => {
                let (old, new) = (names::ident(old_name), names::ident(new_name));
                for constraint in &mut state.constraints {
                    if constraint.name == old {
                        constraint.name.clone_from(&new);
                    }
                }
                for fk in &mut state.table.foreign_keys {
                    if fk.name.as_deref() == Some(old.as_str()) {
                        fk.name = Some(new.clone());
                    }
                }
                for check in &mut state.table.check_constraints {
                    if check.name == old {
                        check.name.clone_from(&new);
                    }
                }
            }
            AlterTableOperation::AlterColumn { column_name, op } => {
                alter_column(&mut state.table, &names::ident(column_name), op);
            }
            AlterTableOperation::DropColumn { column_names, .. } => {
                self.tables[slot] = Some(state);
                for column in column_names {
                    self.drop_column(key, &names::ident(column));
                }
                return;
            }
            AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } => {
                self.tables[slot] = Some(state);
                let (old, new) = (names::ident(old_column_name), names::ident(new_column_name));
                self.rename_column(key, &old, &new);
                return;
            }
            AlterTableOperation::RenameTable { table_name } => {
                let (RenameTableNameKind::To(name) | RenameTableNameKind::As(name)) = table_name;
                renamed_to = Some(names::last(name));
            }
            _ => {}
        }
        let foreign_keys = state.table.foreign_keys.clone();
        self.tables[slot] = Some(state);
        self.note_references(key, &foreign_keys);
        if let Some(new_name) = renamed_to {
            self.rename_table(key, &new_name);
        }
    }

    fn drop_column(&mut self, key: &str, column: &str) {
        let Some(state) = self.state_mut(key) else {
            return;
        };
        let table = &mut state.table;
        table.columns.retain(|c| c.name != column);
        let has = |cols: &[String]| cols.iter().any(|c| c == column);
        if has(&table.primary_key) {
            table.primary_key.clear();
        }
        table.unique_keys.retain(|cols| !has(cols));
        table.foreign_keys.retain(|fk| !has(&fk.columns));
        state.constraints.retain(|c| match &c.kind {
            ConstraintKind::PrimaryKey => !state.table.primary_key.is_empty(),
            ConstraintKind::Unique(cols) | ConstraintKind::ForeignKey { columns: cols, .. } => {
                !has(cols)
            }
            ConstraintKind::Check(_) => true,
        });
        for slot in self.indexes_by_table.get(key).into_iter().flatten() {
            if self.indexes[*slot]
                .as_ref()
                .is_some_and(|index| has(&index.columns))
            {
                let index = self.indexes[*slot].take();
                if let Some(index) = index {
                    let schema = key.split_once('.').map_or("", |(s, _)| s);
                    self.index_slots.remove(&names::join(schema, &index.name));
                }
            }
        }
        self.edit_references(key, |fks| {
            fks.retain(|fk| !(fk.referenced_table == key && has(&fk.referenced_columns)));
        });
    }

    fn rename_column(&mut self, key: &str, old: &str, new: &str) {
        let rename = |cols: &mut Vec<String>| {
            for c in cols.iter_mut().filter(|c| *c == old) {
                *c = new.to_string();
            }
        };
        let Some(state) = self.state_mut(key) else {
            return;
        };
        let table = &mut state.table;
        for column in table.columns.iter_mut().filter(|c| c.name == old) {
            column.name = new.to_string();
        }
        rename(&mut table.primary_key);
        table.unique_keys.iter_mut().for_each(rename);
        for fk in &mut table.foreign_keys {
            rename(&mut fk.columns);
        }
        for constraint in &mut state.constraints {
            match &mut constraint.kind {
                ConstraintKind::Unique(cols) | ConstraintKind::ForeignKey { columns: cols, .. } => {
                    rename(cols);
                }
                ConstraintKind::PrimaryKey | ConstraintKind::Check(_) => {}
            }
        }
        for slot in self.indexes_by_table.get(key).into_iter().flatten() {
            if let Some(index) = self.indexes[*slot].as_mut() {
                rename(&mut index.columns);
            }
        }
        self.edit_references(key, |fks| {
            for fk in fks.iter_mut().filter(|fk| fk.referenced_table == key) {
                rename(&mut fk.referenced_columns);
            }
        });
    }

    fn rename_table(&mut self, old_key: &str, new_name: &str) {
        let Some(slot) = self.table_slots.remove(old_key) else {
            return;
        };
        let Some(state) = self.tables[slot].as_mut() else {
            return;
        };
        state.table.name = new_name.to_string();
        let new_key = state.table.qualified();
        let targets: Vec<String> = state
            .table
            .foreign_keys
            .iter()
            .map(|fk| fk.referenced_table.clone())
            .collect();
        self.table_slots.insert(new_key.clone(), slot);
        // Its own foreign keys: the tables they reference now list the new name.
        for target in targets {
            if let Some(list) = self.referenced_by.get_mut(&target) {
                for referencing in list.iter_mut().filter(|r| *r == old_key) {
                    referencing.clone_from(&new_key);
                }
            }
        }
        // Foreign keys elsewhere (and self references) now point at the new name.
        if let Some(referencing) = self.referenced_by.remove(old_key) {
            for key in &referencing {
                if let Some(state) = self.state_mut(key) {
                    for fk in &mut state.table.foreign_keys {
                        if fk.referenced_table == old_key {
                            fk.referenced_table.clone_from(&new_key);
                        }
                    }
                }
            }
            self.referenced_by.insert(new_key.clone(), referencing);
        }
        if let Some(slots) = self.indexes_by_table.remove(old_key) {
            for slot in &slots {
                if let Some(index) = self.indexes[*slot].as_mut() {
                    index.table.clone_from(&new_key);
                }
            }
            self.indexes_by_table.insert(new_key, slots);
        }
    }

    fn drop_table(&mut self, key: &str) {
        let Some(slot) = self.table_slots.remove(key) else {
            return;
        };
        self.tables[slot] = None;
        for slot in self.indexes_by_table.remove(key).into_iter().flatten() {
            if let Some(index) = self.indexes[slot].take() {
                let schema = key.split_once('.').map_or("", |(s, _)| s);
                self.index_slots.remove(&names::join(schema, &index.name));
            }
        }
        self.edit_references(key, |fks| fks.retain(|fk| fk.referenced_table != key));
        self.referenced_by.remove(key);
    }

    fn create_index(&mut self, create: &CreateIndex, place: &Place<'_>) {
        let (schema, table_name) = names::relation(&create.table_name);
        let table = names::join(&schema, &table_name);
        let columns = index_columns(&create.columns);
        let name = create.name.as_ref().map_or_else(
            || {
                let simple: Vec<&str> = columns
                    .iter()
                    .map(|c| {
                        if is_simple_name(c) {
                            c.as_str()
                        } else {
                            "expr"
                        }
                    })
                    .collect();
                format!("{table_name}_{}_idx", simple.join("_"))
            },
            names::last,
        );
        let key = names::join(&schema, &name);
        if create.if_not_exists && self.index_slots.contains_key(&key) {
            return;
        }
        self.drop_index_key(&key);
        let index = Index {
            name,
            table: table.clone(),
            columns,
            unique: create.unique,
            predicate: create.predicate.as_ref().map(ToString::to_string),
            predicate_not_null: create
                .predicate
                .as_ref()
                .and_then(inspect::only_not_null_columns),
            concurrently: create.concurrently,
            location: place.statement(),
        };
        let slot = self.indexes.len();
        self.indexes.push(Some(index));
        self.index_slots.insert(key, slot);
        self.indexes_by_table.entry(table).or_default().push(slot);
    }

    /// Finds an index by its written name: `schema.index`, else `public.index`, else an index
    /// of that name in any schema.
    fn index_key(&self, name: &ObjectName) -> Option<String> {
        let key = names::qualified(name);
        if self.index_slots.contains_key(&key) {
            return Some(key);
        }
        if name.0.len() > 1 {
            return None;
        }
        let bare = names::last(name);
        self.index_slots
            .keys()
            .find(|k| k.rsplit_once('.').is_some_and(|(_, n)| n == bare))
            .cloned()
    }

    fn drop_index(&mut self, name: &ObjectName) {
        if let Some(key) = self.index_key(name) {
            self.drop_index_key(&key);
        }
    }

    fn drop_index_key(&mut self, key: &str) {
        if let Some(slot) = self.index_slots.remove(key) {
            self.indexes[slot] = None;
        }
    }

    fn rename_index(&mut self, name: &ObjectName, new_name: &ObjectName) {
        let Some(key) = self.index_key(name) else {
            return;
        };
        let Some(slot) = self.index_slots.remove(&key) else {
            return;
        };
        if let Some(index) = self.indexes[slot].as_mut() {
            index.name = names::last(new_name);
            let schema = key.rsplit_once('.').map_or("", |(s, _)| s);
            self.index_slots
                .insert(names::join(schema, &index.name), slot);
        }
    }

    fn comment(&mut self, object: CommentObject, name: &ObjectName, comment: Option<String>) {
        match object {
            CommentObject::Table => {
                if let Some(state) = self.state_mut(&names::qualified(name)) {
                    state.table.comment = comment;
                }
            }
            CommentObject::Column => {
                let mut parts = names::parts(name);
                let Some(column) = parts.pop() else { return };
                let Some(table) = parts.pop() else { return };
                let schema = parts
                    .pop()
                    .unwrap_or_else(|| names::DEFAULT_SCHEMA.to_string());
                if let Some(state) = self.state_mut(&names::join(&schema, &table))
                    && let Some(c) = state.table.columns.iter_mut().find(|c| c.name == column)
                {
                    c.comment = comment;
                }
            }
            _ => {}
        }
    }
}

/// Adds `column`, or replaces the column of the same name in place.
fn upsert_column(table: &mut Table, column: Column) {
    match table.columns.iter_mut().find(|c| c.name == column.name) {
        Some(existing) => *existing = column,
        None => table.columns.push(column),
    }
}

fn remember(state: &mut TableState, name: String, kind: ConstraintKind) {
    state.constraints.retain(|c| c.name != name);
    state.constraints.push(Constraint { name, kind });
}

fn add_foreign_key(state: &mut TableState, name: String, fk: ForeignKey) {
    remember(
        state,
        name,
        ConstraintKind::ForeignKey {
            columns: fk.columns.clone(),
            referenced_table: fk.referenced_table.clone(),
        },
    );
    state.table.foreign_keys.push(fk);
}

fn drop_constraint(state: &mut TableState, name: &str) {
    let Some(at) = state.constraints.iter().position(|c| c.name == name) else {
        return;
    };
    let table = &mut state.table;
    match state.constraints.remove(at).kind {
        ConstraintKind::PrimaryKey => table.primary_key.clear(),
        ConstraintKind::Unique(columns) => {
            if let Some(i) = table.unique_keys.iter().position(|u| *u == columns) {
                table.unique_keys.remove(i);
            }
        }
        ConstraintKind::ForeignKey {
            columns,
            referenced_table,
        } => {
            let found = table.foreign_keys.iter().position(|fk| {
                fk.name.as_deref() == Some(name)
                    || (fk.name.is_none()
                        && fk.columns == columns
                        && fk.referenced_table == referenced_table)
            });
            if let Some(i) = found {
                table.foreign_keys.remove(i);
            }
        }
        ConstraintKind::Check(expr) => {
            if let Some(i) = table.checks.iter().position(|c| *c == expr) {
                table.checks.remove(i);
            }
            table.check_constraints.retain(|c| c.name != name);
        }
    }
}

fn alter_column(table: &mut Table, name: &str, op: &AlterColumnOperation) {
    let in_primary_key = table.primary_key.iter().any(|c| c == name);
    let Some(column) = table.columns.iter_mut().find(|c| c.name == name) else {
        return;
    };
    match op {
        AlterColumnOperation::SetNotNull => column.nullable = false,
        AlterColumnOperation::DropNotNull => {
            column.nullable = !(in_primary_key || column.identity);
        }
        AlterColumnOperation::SetDefault { value } => set_default(column, value),
        AlterColumnOperation::DropDefault => {
            column.default = None;
            column.serial = false;
        }
        AlterColumnOperation::SetDataType { data_type, .. } => {
            column.type_name = types::normalise(data_type).name;
        }
        AlterColumnOperation::AddGenerated { .. } => {
            column.identity = true;
            column.nullable = false;
        }
        _ => {}
    }
}

/// Sets a column's default; a `nextval(...)` default on an integer column marks it serial
/// (that is how `pg_dump` writes a serial column).
fn set_default(column: &mut Column, expr: &Expr) {
    let text = expr.to_string();
    let lower = text.to_ascii_lowercase();
    let integer = matches!(column.type_name.as_str(), "smallint" | "integer" | "bigint");
    if integer && (lower.starts_with("nextval(") || lower.starts_with("pg_catalog.nextval(")) {
        column.serial = true;
    }
    column.default = Some(text);
}

/// Index or constraint columns: a bare column's name, else the expression as rendered.
fn index_columns(columns: &[IndexColumn]) -> Vec<String> {
    columns
        .iter()
        .map(|c| match &c.column.expr {
            Expr::Identifier(id) => names::ident(id),
            Expr::Nested(inner) => match inner.as_ref() {
                Expr::Identifier(id) => names::ident(id),
                other => other.to_string(),
            },
            other => other.to_string(),
        })
        .collect()
}

fn is_simple_name(s: &str) -> bool {
    s.chars().all(|c| c.is_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests;
