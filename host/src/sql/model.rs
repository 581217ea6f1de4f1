//! The schema model: tables, columns, constraints and indexes after every file's DDL was
//! applied in order (see [`super::build_model`]).

use std::collections::HashMap;

use serde::Serialize;

use super::names::DEFAULT_SCHEMA;
use super::statement::Location;

/// A column of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Type in PostgreSQL's canonical lower-case spelling: `timestamp with time zone`,
    /// `character varying(255)`, `bigint`, `text[]`, `app.mood`.
    pub type_name: String,
    /// False when the column is `NOT NULL`, in the primary key, identity or serial.
    pub nullable: bool,
    /// The default expression as sqlparser renders it — names as written, keywords and
    /// built-in type names upper case: `now()`, `'{}'::TEXT[]`,
    /// `nextval('public.t_id_seq'::REGCLASS)` (also the default given to a declared serial).
    pub default: Option<String>,
    /// `GENERATED { ALWAYS | BY DEFAULT } AS IDENTITY`, inline or added by `ALTER COLUMN`.
    pub identity: bool,
    /// Declared `serial`/`bigserial`/`smallserial` — or, as `pg_dump` writes such columns,
    /// an integer column whose default is `nextval(...)`.
    pub serial: bool,
    /// `GENERATED ALWAYS AS (expr) STORED`.
    pub generated: bool,
    /// `COMMENT ON COLUMN`, if any.
    pub comment: Option<String>,
    /// Where the column's name is written (in `CREATE TABLE` or `ADD COLUMN`).
    pub location: Location,
}

/// A foreign key of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForeignKey {
    /// Constraint name, when the SQL gives one.
    pub name: Option<String>,
    /// Referencing columns.
    pub columns: Vec<String>,
    /// Referenced table, schema-qualified.
    pub referenced_table: String,
    /// Referenced columns (the referenced table's primary key when the SQL names none and
    /// that table is known).
    pub referenced_columns: Vec<String>,
    /// Where the constraint is written.
    pub location: Location,
}

/// A CHECK constraint of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckConstraint {
    /// Its name (PostgreSQL's generated `<table>_check` when the SQL gives none).
    pub name: String,
    /// The expression as sqlparser renders it.
    pub expr: String,
    /// The columns it proves `IS NOT NULL` (see [`super::inspect::not_null_columns`]).
    pub not_null_columns: Vec<String>,
    /// False while it was added `NOT VALID` and not yet validated: it proves nothing about the
    /// rows already there.
    pub validated: bool,
}

impl Table {
    /// True when a validated CHECK proves `column IS NOT NULL` (so `SET NOT NULL` needs no
    /// scan from PostgreSQL 12 on).
    pub fn proves_not_null(&self, column: &str) -> bool {
        self.check_constraints
            .iter()
            .any(|c| c.validated && c.not_null_columns.iter().any(|n| n == column))
    }
}

/// A table after every `ALTER TABLE` and `COMMENT` was applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    /// Schema name (`public` when the SQL does not qualify the table).
    pub schema: String,
    /// Table name.
    pub name: String,
    /// Columns in order.
    pub columns: Vec<Column>,
    /// Primary key columns; empty when there is none.
    pub primary_key: Vec<String>,
    /// Unique constraints (not unique indexes), each a list of columns.
    pub unique_keys: Vec<Vec<String>>,
    /// Foreign keys.
    pub foreign_keys: Vec<ForeignKey>,
    /// Check constraint expressions as sqlparser renders them (see [`Column::default`]).
    pub checks: Vec<String>,
    /// The same CHECK constraints with their names, what they prove and whether PostgreSQL
    /// has checked them against the existing rows.
    pub check_constraints: Vec<CheckConstraint>,
    /// The partitioned table this one is a partition of (`PARTITION OF`, `ATTACH PARTITION`),
    /// schema-qualified: its keys and identity come from there.
    pub partition_of: Option<String>,
    /// `COMMENT ON TABLE`, if any.
    pub comment: Option<String>,
    /// Where the `CREATE TABLE` statement starts.
    pub location: Location,
}

impl Table {
    /// `schema.name`.
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// The column called `name`, if any.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// An index made by `CREATE INDEX` (primary key and unique constraints are not repeated here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Index {
    /// Index name (PostgreSQL's generated name when the SQL gives none).
    pub name: String,
    /// Indexed table, schema-qualified.
    pub table: String,
    /// Indexed columns, or expressions as sqlparser renders them (`lower(email)`,
    /// `lower((email)::TEXT)` from `pg_dump`), in order.
    pub columns: Vec<String>,
    /// `CREATE UNIQUE INDEX`.
    pub unique: bool,
    /// The `WHERE` predicate of a partial index, as sqlparser renders it.
    pub predicate: Option<String>,
    /// When the predicate is only `col IS NOT NULL` conditions joined by `AND`: those columns.
    /// Such an index serves every lookup by equality on them (an equal value is never NULL),
    /// e.g. a foreign key's.
    pub predicate_not_null: Option<Vec<String>>,
    /// `CREATE INDEX CONCURRENTLY`.
    pub concurrently: bool,
    /// Where the `CREATE INDEX` statement starts.
    pub location: Location,
}

/// Every table and index of the linted files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SchemaModel {
    /// Tables, in the order they were created.
    pub tables: Vec<Table>,
    /// Indexes, in the order they were created.
    pub indexes: Vec<Index>,
}

impl SchemaModel {
    /// The table named `schema.name`, or `name` (in `public` first, then in any schema).
    /// A scan: for lookups in a loop, build a [`ModelLookup`] once with [`SchemaModel::lookup`].
    pub fn table(&self, qualified_or_bare: &str) -> Option<&Table> {
        find_table(&self.tables, qualified_or_bare)
    }

    /// The indexes on `table_qualified` (`schema.name`). A scan: for lookups in a loop, build a
    /// [`ModelLookup`] once with [`SchemaModel::lookup`].
    pub fn indexes_on<'m>(
        &'m self,
        table_qualified: &str,
    ) -> impl Iterator<Item = &'m Index> + use<'m> {
        let wanted = table_qualified.to_string();
        self.indexes.iter().filter(move |i| i.table == wanted)
    }

    /// Hash maps over the model for constant-time lookups.
    pub fn lookup(&self) -> ModelLookup<'_> {
        let mut tables = HashMap::with_capacity(self.tables.len() * 2);
        for table in &self.tables {
            tables.insert(table.qualified(), table);
        }
        for table in &self.tables {
            let public = table.schema == DEFAULT_SCHEMA;
            if public || !tables.contains_key(&table.name) {
                tables.insert(table.name.clone(), table);
            }
        }
        let mut indexes: HashMap<&str, Vec<&Index>> = HashMap::new();
        for index in &self.indexes {
            indexes.entry(index.table.as_str()).or_default().push(index);
        }
        ModelLookup { tables, indexes }
    }
}

/// Hash maps over a [`SchemaModel`], built once by [`SchemaModel::lookup`].
#[derive(Debug, Clone)]
pub struct ModelLookup<'a> {
    /// By `schema.name` and by bare name (public first).
    tables: HashMap<String, &'a Table>,
    /// By schema-qualified table name.
    indexes: HashMap<&'a str, Vec<&'a Index>>,
}

impl<'a> ModelLookup<'a> {
    /// Same answer as [`SchemaModel::table`].
    pub fn table(&self, qualified_or_bare: &str) -> Option<&'a Table> {
        self.tables.get(qualified_or_bare).copied()
    }

    /// Same answer as [`SchemaModel::indexes_on`], as a slice.
    pub fn indexes_on(&self, table_qualified: &str) -> &[&'a Index] {
        self.indexes
            .get(table_qualified)
            .map_or(&[], |found| found.as_slice())
    }
}

/// Tables by schema-qualified name (`public.users`): the finished [`SchemaModel`], or a
/// [`super::ModelBuilder`] between two files.
pub trait TableLookup {
    /// The table named `qualified`, if the model has it.
    fn table_by_key(&self, qualified: &str) -> Option<&Table>;
}

impl TableLookup for SchemaModel {
    fn table_by_key(&self, qualified: &str) -> Option<&Table> {
        self.table(qualified)
    }
}

fn find_table<'t>(tables: &'t [Table], qualified_or_bare: &str) -> Option<&'t Table> {
    let matches = |t: &&Table, schema: &str, name: &str| t.schema == schema && t.name == name;
    if let Some((schema, name)) = qualified_or_bare.split_once('.')
        && let Some(found) = tables.iter().find(|t| matches(t, schema, name))
    {
        return Some(found);
    }
    tables
        .iter()
        .find(|t| matches(t, DEFAULT_SCHEMA, qualified_or_bare))
        .or_else(|| tables.iter().find(|t| t.name == qualified_or_bare))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(schema: &str, name: &str) -> Table {
        Table {
            schema: schema.into(),
            name: name.into(),
            columns: Vec::new(),
            primary_key: Vec::new(),
            unique_keys: Vec::new(),
            foreign_keys: Vec::new(),
            checks: Vec::new(),
            check_constraints: Vec::new(),
            partition_of: None,
            comment: None,
            location: Location::default(),
        }
    }

    fn index(name: &str, table: &str) -> Index {
        Index {
            name: name.into(),
            table: table.into(),
            columns: vec!["a".into()],
            unique: false,
            predicate: None,
            predicate_not_null: None,
            concurrently: false,
            location: Location::default(),
        }
    }

    #[test]
    fn tables_by_qualified_or_bare_name_in_both_lookups() {
        let model = SchemaModel {
            tables: vec![
                table("app", "t"),
                table("public", "t"),
                table("app", "only"),
            ],
            indexes: Vec::new(),
        };
        let lookup = model.lookup();
        for (asked, schema) in [("app.t", "app"), ("t", "public"), ("public.t", "public")] {
            assert_eq!(model.table(asked).unwrap().schema, schema, "{asked}");
            assert_eq!(lookup.table(asked).unwrap().schema, schema, "{asked}");
        }
        assert_eq!(model.table("only").unwrap().qualified(), "app.only");
        assert_eq!(lookup.table("only").unwrap().qualified(), "app.only");
        assert!(model.table("nope").is_none() && lookup.table("nope").is_none());
        assert!(model.table("other.t").is_none() && lookup.table("other.t").is_none());
    }

    #[test]
    fn indexes_on_a_table_in_both_lookups() {
        let model = SchemaModel {
            tables: Vec::new(),
            indexes: vec![
                index("a", "public.t"),
                index("b", "app.t"),
                index("c", "public.t"),
            ],
        };
        let names: Vec<_> = model.indexes_on("public.t").map(|i| &i.name).collect();
        assert_eq!(names, ["a", "c"]);
        let lookup = model.lookup();
        let names: Vec<_> = lookup
            .indexes_on("public.t")
            .iter()
            .map(|i| &i.name)
            .collect();
        assert_eq!(names, ["a", "c"]);
        assert!(lookup.indexes_on("x.y").is_empty());
    }
}
