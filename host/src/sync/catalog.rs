//! Discovery of the tables to copy, and the check that the target can receive them.
//!
//! Partitioned tables stand for their leaf partitions: rows live in the leaves, which are
//! copied one by one, and the leaves of one partitioned table are loaded together.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

use crate::error::Failure;

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
    /// Its type as `format_type` spells it, e.g. `character varying(40)` (user types
    /// schema-qualified: the catalog is read with an empty `search_path`).
    pub type_name: String,
    /// True when values may travel in COPY's binary format: a type built into PostgreSQL (oid
    /// below 16384, the same in every database) other than the `reg*` types, whose binary form
    /// is an oid of the database it came from.
    pub binary: bool,
    /// True when the column compares text case-insensitively (`citext`, or a nondeterministic
    /// collation): anonymization folds its values to lower case first, so values equal in the
    /// column stay equal after masking.
    pub case_insensitive: bool,
}

/// A sequence a copied column draws from: owned by it (serial, identity, also through a
/// partitioned parent) or named in its `DEFAULT nextval(...)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SequenceUse {
    /// The sequence.
    pub sequence: TableName,
    /// The table whose column uses it.
    pub table: TableName,
    /// The column.
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
    /// For a leaf partition, the partitioned table at the top of its tree.
    pub partition_root: Option<TableName>,
    /// Columns the target has and the source does not: they get their default (or NULL).
    /// Filled by [`check_target`].
    pub target_defaults: Vec<String>,
}

/// A foreign key between two tables of the source, child (referencing) to parent (referenced);
/// a partitioned end stands for each of its leaves.
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

/// A table of the source, copied or not (for checking the anonymization file).
#[derive(Debug, Clone, Default)]
pub struct SourceTable {
    /// Its columns that are not generated.
    pub columns: Vec<String>,
    /// For a partitioned table, its leaf partitions.
    pub leaves: Vec<TableName>,
}

/// The tables to copy and the foreign keys between them.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Tables, sorted by schema and name.
    pub tables: Vec<Table>,
    /// Every foreign key of the source (a partitioned end stands for each of its leaves),
    /// whether its tables are copied or not.
    pub foreign_keys: Vec<ForeignKey>,
    /// The sequences the copied tables' columns use.
    pub sequences: Vec<SequenceUse>,
    /// Every table of the source (ordinary and partitioned), copied or not.
    pub source_tables: BTreeMap<TableName, SourceTable>,
}

impl Catalog {
    /// The table named `name`, if copied.
    pub fn table(&self, name: &TableName) -> Option<&Table> {
        self.tables.iter().find(|t| &t.name == name)
    }

    /// The foreign keys whose both ends are copied.
    pub fn copied_foreign_keys(&self) -> impl Iterator<Item = &ForeignKey> {
        self.foreign_keys
            .iter()
            .filter(|fk| self.table(&fk.child).is_some() && self.table(&fk.parent).is_some())
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
    /// True for a partition (of any level).
    partition: bool,
    extension_owned: bool,
}

/// Schemas never copied (besides `pg_toast*` and `pg_temp*`).
const SYSTEM_SCHEMAS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

/// Columns of a relation as copied: by name, with their type and how they may travel.
const COLUMNS_SQL: &str = "SELECT a.attrelid, a.attname::text, format_type(a.atttypid, a.atttypmod), \
        a.atttypid < 16384 AND t.typname NOT LIKE 'reg%', \
        COALESCE(b.typname = 'citext', false) OR COALESCE(NOT co.collisdeterministic, false) \
     FROM pg_attribute a \
     JOIN pg_type t ON t.oid = a.atttypid \
     LEFT JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END \
     LEFT JOIN pg_collation co ON co.oid = a.attcollation \
     WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' \
     ORDER BY a.attrelid, a.attnum";

/// Reads the tables of the source selected by `filter`, with their columns, keys, sequences
/// and foreign keys. Unknown names in the filter, and a copied table referenced by one that is
/// not, are configuration errors (exit 5).
pub async fn discover(client: &Client, filter: &TableFilter) -> anyhow::Result<Catalog> {
    let relations = relations(client).await?;
    let leaves = partition_leaves(client).await?;
    let selected = select(&relations, &leaves, filter)?;
    let roots = partition_roots(&relations, &leaves);
    let (mut tables, source_tables) =
        table_details(client, &relations, &leaves, &roots, &selected).await?;
    let foreign_keys = foreign_keys(client, &relations, &leaves, &selected).await?;
    let sequences = sequences(client, &relations, &selected).await?;
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Catalog {
        tables,
        foreign_keys,
        sequences,
        source_tables,
    })
}

async fn relations(client: &Client) -> anyhow::Result<HashMap<u32, Relation>> {
    let sql = format!(
        "SELECT c.oid, n.nspname::text, c.relname::text, c.relkind = 'p', c.relispartition, \
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
                    partition: row.get(4),
                    extension_owned: row.get(5),
                },
            )
        })
        .collect())
}

/// The leaf partitions of each partitioned table (of every level).
async fn partition_leaves(client: &Client) -> anyhow::Result<HashMap<u32, Vec<u32>>> {
    // `relid` is a regclass: read it as the oid it is.
    let rows = client
        .query(
            "SELECT c.oid, t.relid::oid FROM pg_class c, pg_partition_tree(c.oid) t \
             WHERE c.relkind = 'p' AND t.isleaf ORDER BY 1, 2",
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

/// For each leaf partition, the partitioned table at the top of its tree.
fn partition_roots(
    relations: &HashMap<u32, Relation>,
    leaves: &HashMap<u32, Vec<u32>>,
) -> HashMap<u32, TableName> {
    let mut roots = HashMap::new();
    for (oid, rel) in relations {
        if rel.partitioned && !rel.partition {
            for leaf in leaves.get(oid).into_iter().flatten() {
                roots.insert(*leaf, rel.name.clone());
            }
        }
    }
    roots
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
            let known = relations.values().any(|rel| {
                let (schema, name) = pattern.split_once('.').unwrap_or(("", pattern));
                rel.name.name == name && (schema.is_empty() || rel.name.schema == schema)
            });
            if !known {
                unknown.push(pattern.clone());
            }
            oids.extend(matching(pattern, relations, leaves));
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
        return Err(Failure::config(format!(
            "no such table in the source: {} (names are `table` or `schema.table`)",
            unknown.join(", ")
        ))
        .hint("check the spelling and the schema in --tables / --exclude")
        .into());
    }
    let unknown_schemas: Vec<&str> = filter
        .schemas
        .iter()
        .filter(|schema| !relations.values().any(|rel| &rel.name.schema == *schema))
        .map(String::as_str)
        .collect();
    if !unknown_schemas.is_empty() {
        return Err(Failure::config(format!(
            "no table to copy in schema {} of the source",
            unknown_schemas.join(", ")
        ))
        .hint("check --schemas")
        .into());
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
    leaves: &HashMap<u32, Vec<u32>>,
    roots: &HashMap<u32, TableName>,
    selected: &BTreeSet<u32>,
) -> anyhow::Result<(Vec<Table>, BTreeMap<TableName, SourceTable>)> {
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
                partition_root: roots.get(&oid).cloned(),
                target_defaults: Vec::new(),
            },
        );
    }
    let all: Vec<u32> = relations.keys().copied().collect();
    let columns = client
        .query(COLUMNS_SQL, &[&all])
        .await
        .context("reading the source's columns")?;
    let mut source_tables: BTreeMap<TableName, SourceTable> = BTreeMap::new();
    for (oid, rel) in relations {
        let leaves = leaves.get(oid).into_iter().flatten();
        source_tables.insert(
            rel.name.clone(),
            SourceTable {
                columns: Vec::new(),
                leaves: leaves
                    .filter_map(|leaf| relations.get(leaf).map(|r| r.name.clone()))
                    .collect(),
            },
        );
    }
    for row in columns {
        let oid: u32 = row.get(0);
        let column = Column {
            name: row.get(1),
            type_name: row.get(2),
            binary: row.get(3),
            case_insensitive: row.get(4),
        };
        if let Some(source) = source_tables.get_mut(&relations[&oid].name) {
            source.columns.push(column.name.clone());
        }
        if let Some(table) = tables.get_mut(&oid) {
            table.columns.push(column);
        }
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
    Ok((tables.into_values().collect(), source_tables))
}

/// The sequences the selected tables' columns draw from: named by a column default
/// (`DEFAULT nextval('s')`, owned or not), or owned by the column (serial, identity) or by the
/// same-named column of a partitioned ancestor.
async fn sequences(
    client: &Client,
    relations: &HashMap<u32, Relation>,
    selected: &BTreeSet<u32>,
) -> anyhow::Result<Vec<SequenceUse>> {
    let oids: Vec<u32> = selected.iter().copied().collect();
    // Only integer columns (or domains over them) are set past: a default such as
    // `'INV-' || nextval('s')` has no maximum to take.
    const INTEGER: &str = "(SELECT CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END \
                            FROM pg_type t WHERE t.oid = a.atttypid) IN (20, 21, 23)";
    let sql = format!(
        "SELECT ad.adrelid, a.attname::text, sn.nspname::text, s.relname::text \
             FROM pg_attrdef ad \
             JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid \
                  AND d.refclassid = 'pg_class'::regclass \
             JOIN pg_class s ON s.oid = d.refobjid AND s.relkind = 'S' \
             JOIN pg_namespace sn ON sn.oid = s.relnamespace \
             JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum \
             WHERE ad.adrelid = ANY($1) AND {INTEGER} \
             UNION \
             SELECT l.oid, a.attname::text, sn.nspname::text, s.relname::text \
             FROM unnest($1::oid[]) l(oid) \
             CROSS JOIN LATERAL (SELECT l.oid AS relid UNION \
                                 SELECT relid::oid FROM pg_partition_ancestors(l.oid)) anc \
             JOIN pg_depend d ON d.classid = 'pg_class'::regclass \
                  AND d.refclassid = 'pg_class'::regclass AND d.refobjid = anc.relid \
                  AND d.deptype IN ('a', 'i') \
             JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' \
             JOIN pg_namespace sn ON sn.oid = s.relnamespace \
             JOIN pg_attribute owner ON owner.attrelid = anc.relid AND owner.attnum = d.refobjsubid \
             JOIN pg_attribute a ON a.attrelid = l.oid AND a.attname = owner.attname \
                  AND NOT a.attisdropped AND {INTEGER} \
             ORDER BY 3, 4, 1, 2"
    );
    let rows = client
        .query(&sql, &[&oids])
        .await
        .context("reading the sequences the source's tables use")?;
    let mut uses: Vec<SequenceUse> = rows
        .iter()
        .map(|row| SequenceUse {
            table: relations[&row.get::<_, u32>(0)].name.clone(),
            column: row.get(1),
            sequence: TableName {
                schema: row.get(2),
                name: row.get(3),
            },
        })
        .collect();
    uses.sort();
    uses.dedup();
    Ok(uses)
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
                if !selected.contains(&child) && selected.contains(&parent) {
                    blocking.push(format!(
                        "{} (referenced by {} through {name})",
                        parent_rel.name, child_rel.name
                    ));
                }
                keys.push(ForeignKey {
                    name: name.clone(),
                    child: child_rel.name.clone(),
                    parent: parent_rel.name.clone(),
                    deferrable,
                    child_columns: child_columns.clone(),
                    parent_columns: parent_columns.clone(),
                });
            }
        }
    }
    if !blocking.is_empty() {
        return Err(Failure::config(format!(
            "cannot replace {}: the referencing table is not synced, and the target would refuse \
             to truncate the referenced one",
            blocking.join(", ")
        ))
        .hint("sync both tables, or exclude both")
        .into());
    }
    Ok(keys)
}

/// A column of the target.
struct TargetColumn {
    column: Column,
    /// Filled without a value from the source: it has a default, is an identity or generated
    /// column, or takes NULL.
    fillable: bool,
    generated: bool,
}

/// Checks that the target has every table of `catalog` with every copied column, of the same
/// type (columns are matched by name, so their order does not matter), and that the columns
/// only the target has can be filled without a value (a default, identity, generated or
/// nullable column); records those in [`Table::target_defaults`]. The error (exit 5) names each
/// table and column that differs.
pub async fn check_target(client: &Client, catalog: &mut Catalog) -> anyhow::Result<()> {
    let sql = format!(
        "SELECT n.nspname::text, c.relname::text, a.attname::text, \
                format_type(a.atttypid, a.atttypmod), \
                a.atttypid < 16384 AND t.typname NOT LIKE 'reg%', \
                a.atthasdef OR a.attidentity <> '' OR NOT a.attnotnull, a.attgenerated <> '' \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         LEFT JOIN pg_type t ON t.oid = a.atttypid \
         WHERE c.relkind = 'r' AND {SYSTEM_SCHEMAS} \
         ORDER BY 1, 2, a.attnum"
    );
    let rows = client
        .query(&sql, &[])
        .await
        .context("reading the target's tables")?;
    let mut target: HashMap<TableName, Vec<TargetColumn>> = HashMap::new();
    for row in rows {
        let columns = target
            .entry(TableName {
                schema: row.get(0),
                name: row.get(1),
            })
            .or_default();
        // A table without columns has one row, with NULLs.
        if let Some(name) = row.get::<_, Option<String>>(2) {
            columns.push(TargetColumn {
                column: Column {
                    name,
                    type_name: row.get(3),
                    binary: row.get(4),
                    case_insensitive: false,
                },
                fillable: row.get(5),
                generated: row.get(6),
            });
        }
    }
    let mut problems = Vec::new();
    for table in &mut catalog.tables {
        match target.get(&table.name) {
            None => problems.push(format!("the target has no table {}", table.name)),
            Some(columns) => {
                problems.extend(column_differences(table, columns));
                table.target_defaults = columns
                    .iter()
                    .filter(|t| !t.generated)
                    .filter(|t| !table.columns.iter().any(|s| s.name == t.column.name))
                    .map(|t| t.column.name.clone())
                    .collect();
            }
        }
    }
    if !problems.is_empty() {
        return Err(Failure::config(format!(
            "the target's schema differs from the source's: {}",
            problems.join("; ")
        ))
        .hint(
            "bring the target to the source's schema (`confiture migrate up` or `build --apply` \
             against it), or exclude those tables",
        )
        .into());
    }
    Ok(())
}

fn column_differences(table: &Table, target: &[TargetColumn]) -> Vec<String> {
    let name = &table.name;
    let mut problems = Vec::new();
    for source in &table.columns {
        match target.iter().find(|t| t.column.name == source.name) {
            None => problems.push(format!("{name}: the target has no column {}", source.name)),
            Some(t) if t.generated => problems.push(format!(
                "{name}: column {} is generated in the target but not in the source",
                source.name
            )),
            Some(t) if t.column.type_name != source.type_name => problems.push(format!(
                "{name}: column {} is `{}` in the source but `{}` in the target",
                source.name, source.type_name, t.column.type_name
            )),
            Some(_) => {}
        }
    }
    for t in target {
        if !t.fillable && !table.columns.iter().any(|s| s.name == t.column.name) {
            problems.push(format!(
                "{name}: the target's column {} is NOT NULL without a default, and the source \
                 has no such column",
                t.column.name
            ));
        }
    }
    problems
}
