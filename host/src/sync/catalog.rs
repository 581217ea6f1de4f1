//! Discovery of the tables to copy, and the check that the target can receive them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

/// A table's schema and name (unquoted).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TableName {
    /// Schema name.
    pub schema: String,
    /// Table name.
    pub name: String,
}

impl TableName {
    /// A table name from its schema and name.
    pub fn new(schema: &str, name: &str) -> TableName {
        TableName {
            schema: schema.to_string(),
            name: name.to_string(),
        }
    }

    /// The name as SQL: `"schema"."name"`, each part quoted.
    pub fn quoted(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.name))
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

/// An identifier quoted for SQL.
pub fn quote_ident(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// A copied column: not generated, not dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Its type as `format_type` spells it, e.g. `character varying(40)`.
    pub type_name: String,
    /// True for a type built into PostgreSQL (oid below 16384, the same in every database):
    /// such columns may travel in COPY's binary format.
    pub builtin: bool,
}

/// A sequence owned by one of a table's columns (serial or identity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedSequence {
    /// The sequence.
    pub sequence: TableName,
    /// The owning column.
    pub column: String,
}

/// A table to copy.
#[derive(Debug, Clone)]
pub struct Table {
    /// Schema and name.
    pub name: TableName,
    /// Copied columns, in column order (generated columns are left out: the target computes them).
    pub columns: Vec<Column>,
    /// Indices into `columns` of the primary key columns, in key order (empty without a key).
    pub primary_key: Vec<usize>,
    /// Estimated row count (`reltuples`, 0 when never analysed).
    pub estimated_rows: u64,
    /// Size of the table's main fork in pages, from its current size on disk.
    pub pages: u64,
    /// Size of the table's main fork in bytes.
    pub size_bytes: u64,
    /// Sequences owned by its columns.
    pub sequences: Vec<OwnedSequence>,
}

/// A foreign key between two copied tables, child (referencing) to parent (referenced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// Constraint name.
    pub name: String,
    /// Referencing table.
    pub child: TableName,
    /// Referenced table (the same as `child` for a self-reference).
    pub parent: TableName,
    /// True when the constraint is DEFERRABLE.
    pub deferrable: bool,
    /// The referencing columns, in the constraint's order.
    pub child_columns: Vec<String>,
    /// The referenced columns, matching `child_columns` one for one.
    pub parent_columns: Vec<String>,
}

/// The tables to copy and the foreign keys between them.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Tables, sorted by schema and name.
    pub tables: Vec<Table>,
    /// Foreign keys whose both ends are copied (a partitioned end stands for each of its leaves).
    pub foreign_keys: Vec<ForeignKey>,
}

impl Catalog {
    /// The table named `name`, if copied.
    pub fn table(&self, name: &TableName) -> Option<&Table> {
        self.tables.iter().find(|t| &t.name == name)
    }
}

/// Which tables to copy.
#[derive(Debug, Clone, Default)]
pub struct TableFilter {
    /// Only these tables (`table` or `schema.table`; a partitioned table stands for its
    /// partitions); all tables when empty.
    pub tables: Vec<String>,
    /// Not these tables (same syntax).
    pub exclude: Vec<String>,
    /// Only the tables of these schemas; every schema but the system ones when empty.
    pub schemas: Vec<String>,
    /// Confiture's own tables (the tracking table, its audit trail and schedule): each
    /// database keeps its own, so they are left out unless named in `tables`; names that
    /// match nothing are fine.
    pub bookkeeping: Vec<String>,
}

/// A relation of the source: an ordinary or a partitioned table.
struct Relation {
    name: TableName,
    partitioned: bool,
    extension_owned: bool,
}

/// Schemas never copied (besides `pg_toast*` and `pg_temp*`).
const SYSTEM_SCHEMAS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

/// Reads the tables of the source selected by `filter`, with their columns, keys, sequences
/// and foreign keys. Unknown names in the filter are an error.
pub async fn discover(client: &Client, filter: &TableFilter) -> anyhow::Result<Catalog> {
    let relations = relations(client).await?;
    let leaves = partition_leaves(client).await?;
    let selected = select(&relations, &leaves, filter)?;
    let mut tables = table_details(client, &relations, &selected).await?;
    let foreign_keys = foreign_keys(client, &relations, &leaves, &selected).await?;
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Catalog {
        tables,
        foreign_keys,
    })
}

async fn relations(client: &Client) -> anyhow::Result<HashMap<u32, Relation>> {
    let sql = format!(
        "SELECT c.oid, n.nspname::text, c.relname::text, c.relkind = 'p', \
                EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
                        AND d.objid = c.oid AND d.deptype = 'e') \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND {SYSTEM_SCHEMAS}"
    );
    let rows = client
        .query(&sql, &[])
        .await
        .context("listing the source's tables")?;
    Ok(rows
        .iter()
        .map(|row| {
            (
                row.get(0),
                Relation {
                    name: TableName {
                        schema: row.get(1),
                        name: row.get(2),
                    },
                    partitioned: row.get(3),
                    extension_owned: row.get(4),
                },
            )
        })
        .collect())
}

/// The leaf partitions of each partitioned table.
async fn partition_leaves(client: &Client) -> anyhow::Result<HashMap<u32, Vec<u32>>> {
    let rows = client
        .query(
            "SELECT c.oid, t.relid FROM pg_class c, pg_partition_tree(c.oid) t \
             WHERE c.relkind = 'p' AND t.isleaf",
            &[],
        )
        .await
        .context("listing the source's partitions")?;
    let mut leaves: HashMap<u32, Vec<u32>> = HashMap::new();
    for row in rows {
        leaves.entry(row.get(0)).or_default().push(row.get(1));
    }
    Ok(leaves)
}

/// Oids of the relations a filter name matches (its leaves for a partitioned table).
fn matching(
    pattern: &str,
    relations: &HashMap<u32, Relation>,
    leaves: &HashMap<u32, Vec<u32>>,
) -> Vec<u32> {
    let (schema, name) = match pattern.split_once('.') {
        Some((schema, name)) => (Some(schema), name),
        None => (None, pattern),
    };
    let mut found = Vec::new();
    for (oid, rel) in relations {
        if rel.name.name == name && schema.is_none_or(|s| rel.name.schema == s) {
            if rel.partitioned {
                found.extend(leaves.get(oid).into_iter().flatten().copied());
            } else {
                found.push(*oid);
            }
        }
    }
    found
}

fn select(
    relations: &HashMap<u32, Relation>,
    leaves: &HashMap<u32, Vec<u32>>,
    filter: &TableFilter,
) -> anyhow::Result<BTreeSet<u32>> {
    let mut unknown = Vec::new();
    let mut lookup = |patterns: &[String]| -> BTreeSet<u32> {
        let mut oids = BTreeSet::new();
        for pattern in patterns {
            let found = matching(pattern, relations, leaves);
            if found.is_empty() {
                unknown.push(pattern.clone());
            }
            oids.extend(found);
        }
        oids
    };
    let included = lookup(&filter.tables);
    let mut excluded = lookup(&filter.exclude);
    excluded.extend(
        filter
            .bookkeeping
            .iter()
            .flat_map(|pattern| matching(pattern, relations, leaves))
            .filter(|oid| !included.contains(oid)),
    );
    if !unknown.is_empty() {
        bail!(
            "no such table in the source: {} (names are `table` or `schema.table`)",
            unknown.join(", ")
        );
    }
    let unknown_schemas: Vec<&str> = filter
        .schemas
        .iter()
        .filter(|schema| !relations.values().any(|rel| &rel.name.schema == *schema))
        .map(String::as_str)
        .collect();
    if !unknown_schemas.is_empty() {
        bail!(
            "no table to copy in schema {} of the source (check --schemas)",
            unknown_schemas.join(", ")
        );
    }
    Ok(relations
        .iter()
        .filter(|(oid, rel)| {
            !rel.partitioned
                && !rel.extension_owned
                && (filter.schemas.is_empty() || filter.schemas.contains(&rel.name.schema))
                && (filter.tables.is_empty() || included.contains(oid))
                && !excluded.contains(oid)
        })
        .map(|(oid, _)| *oid)
        .collect())
}

async fn table_details(
    client: &Client,
    relations: &HashMap<u32, Relation>,
    selected: &BTreeSet<u32>,
) -> anyhow::Result<Vec<Table>> {
    let oids: Vec<u32> = selected.iter().copied().collect();
    let mut tables: BTreeMap<u32, Table> = BTreeMap::new();
    let sizes = client
        .query(
            "SELECT c.oid, GREATEST(c.reltuples, 0)::float8, pg_relation_size(c.oid), \
                    current_setting('block_size')::int8 \
             FROM pg_class c WHERE c.oid = ANY($1)",
            &[&oids],
        )
        .await
        .context("reading the source's table sizes")?;
    for row in sizes {
        let oid: u32 = row.get(0);
        let size: i64 = row.get(2);
        let block: i64 = row.get(3);
        tables.insert(
            oid,
            Table {
                name: relations[&oid].name.clone(),
                columns: Vec::new(),
                primary_key: Vec::new(),
                estimated_rows: row.get::<_, f64>(1) as u64,
                pages: (size / block) as u64,
                size_bytes: size as u64,
                sequences: Vec::new(),
            },
        );
    }
    let columns = client
        .query(
            "SELECT a.attrelid, a.attname::text, format_type(a.atttypid, a.atttypmod), \
                    a.atttypid < 16384 \
             FROM pg_attribute a WHERE a.attrelid = ANY($1) AND a.attnum > 0 \
             AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attrelid, a.attnum",
            &[&oids],
        )
        .await
        .context("reading the source's columns")?;
    for row in columns {
        let table = tables
            .get_mut(&row.get::<_, u32>(0))
            .expect("selected table");
        table.columns.push(Column {
            name: row.get(1),
            type_name: row.get(2),
            builtin: row.get(3),
        });
    }
    let keys = client
        .query(
            "SELECT i.indrelid, array_agg(a.attname::text ORDER BY k.ord) \
             FROM pg_index i, unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord), pg_attribute a \
             WHERE i.indisprimary AND i.indrelid = ANY($1) \
               AND a.attrelid = i.indrelid AND a.attnum = k.attnum \
             GROUP BY i.indrelid",
            &[&oids],
        )
        .await
        .context("reading the source's primary keys")?;
    for row in keys {
        let table = tables
            .get_mut(&row.get::<_, u32>(0))
            .expect("selected table");
        let names: Vec<String> = row.get(1);
        table.primary_key = names
            .iter()
            .filter_map(|name| table.columns.iter().position(|c| &c.name == name))
            .collect();
    }
    let sequences = client
        .query(
            "SELECT d.refobjid, a.attname::text, sn.nspname::text, s.relname::text \
             FROM pg_depend d \
             JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' \
             JOIN pg_namespace sn ON sn.oid = s.relnamespace \
             JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
             WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass \
               AND d.deptype IN ('a', 'i') AND d.refobjid = ANY($1) \
             ORDER BY 1, 2",
            &[&oids],
        )
        .await
        .context("reading the sequences owned by the source's tables")?;
    for row in sequences {
        let table = tables
            .get_mut(&row.get::<_, u32>(0))
            .expect("selected table");
        table.sequences.push(OwnedSequence {
            column: row.get(1),
            sequence: TableName {
                schema: row.get(2),
                name: row.get(3),
            },
        });
    }
    Ok(tables.into_values().collect())
}

async fn foreign_keys(
    client: &Client,
    relations: &HashMap<u32, Relation>,
    leaves: &HashMap<u32, Vec<u32>>,
    selected: &BTreeSet<u32>,
) -> anyhow::Result<Vec<ForeignKey>> {
    let rows = client
        .query(
            "SELECT c.conname::text, c.conrelid, c.confrelid, c.condeferrable, \
                    ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i) \
                          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n \
                          ORDER BY k.i), \
                    ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i) \
                          JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n \
                          ORDER BY k.i) \
             FROM pg_constraint c WHERE c.contype = 'f' AND c.conparentid = 0 ORDER BY c.conname",
            &[],
        )
        .await
        .context("reading the source's foreign keys")?;
    let tables_of = |oid: u32| -> Vec<u32> { leaves.get(&oid).cloned().unwrap_or(vec![oid]) };
    let mut keys = Vec::new();
    let mut blocking = Vec::new();
    for row in rows {
        let name: String = row.get(0);
        let deferrable: bool = row.get(3);
        let child_columns: Vec<String> = row.get(4);
        let parent_columns: Vec<String> = row.get(5);
        for child in tables_of(row.get(1)) {
            for parent in tables_of(row.get(2)) {
                let (Some(child_rel), Some(parent_rel)) =
                    (relations.get(&child), relations.get(&parent))
                else {
                    continue;
                };
                match (selected.contains(&child), selected.contains(&parent)) {
                    (true, true) => keys.push(ForeignKey {
                        name: name.clone(),
                        child: child_rel.name.clone(),
                        parent: parent_rel.name.clone(),
                        deferrable,
                        child_columns: child_columns.clone(),
                        parent_columns: parent_columns.clone(),
                    }),
                    (false, true) => blocking.push(format!(
                        "{} (referenced by {} through {name})",
                        parent_rel.name, child_rel.name
                    )),
                    _ => {}
                }
            }
        }
    }
    if !blocking.is_empty() {
        bail!(
            "cannot replace {}: the referencing table is not synced, and the target would refuse \
             to truncate the referenced one; sync both tables or exclude neither",
            blocking.join(", ")
        );
    }
    Ok(keys)
}

/// Checks that the target has every table of `catalog` with the same copied columns (names and
/// types, in order); the error names each table and column that differs.
pub async fn check_target(client: &Client, catalog: &Catalog) -> anyhow::Result<()> {
    let sql = format!(
        "SELECT n.nspname::text, c.relname::text, a.attname::text, \
                format_type(a.atttypid, a.atttypmod), a.atttypid < 16384 \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid \
         WHERE c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' \
           AND {SYSTEM_SCHEMAS} \
         ORDER BY 1, 2, a.attnum"
    );
    let rows = client
        .query(&sql, &[])
        .await
        .context("reading the target's tables")?;
    let mut target: HashMap<TableName, Vec<Column>> = HashMap::new();
    for row in rows {
        target
            .entry(TableName {
                schema: row.get(0),
                name: row.get(1),
            })
            .or_default()
            .push(Column {
                name: row.get(2),
                type_name: row.get(3),
                builtin: row.get(4),
            });
    }
    let mut problems = Vec::new();
    for table in &catalog.tables {
        match target.get(&table.name) {
            None => problems.push(format!("the target has no table {}", table.name)),
            Some(columns) => {
                problems.extend(column_difference(&table.name, &table.columns, columns))
            }
        }
    }
    if !problems.is_empty() {
        bail!(
            "the target's schema differs from the source's: {}",
            problems.join("; ")
        );
    }
    Ok(())
}

fn column_difference(table: &TableName, source: &[Column], target: &[Column]) -> Option<String> {
    for i in 0..source.len().max(target.len()) {
        match (source.get(i), target.get(i)) {
            (Some(s), Some(t)) if s == t => {}
            (Some(s), Some(t)) => {
                return Some(format!(
                    "{table}: column {} is `{} {}` in the source but `{} {}` in the target",
                    i + 1,
                    s.name,
                    s.type_name,
                    t.name,
                    t.type_name
                ));
            }
            (Some(s), None) => {
                return Some(format!("{table}: the target has no column {}", s.name));
            }
            (None, Some(t)) => {
                return Some(format!("{table}: the source has no column {}", t.name));
            }
            (None, None) => unreachable!(),
        }
    }
    None
}
