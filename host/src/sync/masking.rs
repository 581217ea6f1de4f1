//! From anonymization rules to the sync's per-table transforms: each configured column checked
//! against the source's tables, foreign-key propagation (a referencing column gets the strategy
//! of the column it references, so joins still hold), row context for plugin strategies, and
//! every value a plugin returns checked against the column's type before it is written.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

use anyhow::bail;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::catalog::{Catalog, Table, TableName};
use super::run::Transforms;
use super::transform::{TableTransform, TransformWorker};
use crate::anonymize::{
    AnonymizationConfig, ColumnType, InvalidOutput, ResolvedColumn, Strategy, check_value,
    lowercased,
};
use crate::error::Failure;
use crate::plugins::TextBatch;

/// One anonymized column, as reported to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MaskedColumn {
    /// `schema.table`.
    pub table: String,
    /// Column name.
    pub column: String,
    /// The strategy's name.
    pub strategy: String,
    /// For a column that got its strategy through a foreign key: the referenced column,
    /// `schema.table.column`.
    pub propagated_from: Option<String>,
}

/// The transforms of a sync, and what they anonymize.
#[derive(Default)]
pub struct Masking {
    /// Per-table transforms for [`super::sync`].
    pub transforms: Transforms,
    /// Every anonymized column, configured ones first, then propagated ones.
    pub columns: Vec<MaskedColumn>,
    /// Per anonymized table, a digest of what decides its output (each column's strategy,
    /// params, seed, and where a propagated one comes from): recorded in checkpoints.
    pub fingerprints: BTreeMap<TableName, String>,
}

/// Checks `resolved` against the source's tables (a rule for a table this run does not copy is
/// fine; a rule on a partitioned table covers its partitions), checks each strategy can fill
/// its column's type, and builds one transform per copied table. Errors (exit 5, before any
/// data moves) name the rule's `file:line`.
pub fn plan(
    catalog: &Catalog,
    config: &AnonymizationConfig,
    resolved: Vec<ResolvedColumn>,
) -> anyhow::Result<Masking> {
    let mut chosen: HashMap<(TableName, String), Chosen> = HashMap::new();
    let mut on_partitioned = Vec::new();
    for rule in resolved {
        let name = TableName::new(&rule.schema, &rule.table);
        let line = rule_location(config, &rule);
        let Some(source) = catalog.source_tables.get(&name) else {
            return Err(
                Failure::config(format!("{line}: the source has no table {name}"))
                    .hint(
                        "fix the table name in the anonymization file (`table` or `schema.table`)",
                    )
                    .into(),
            );
        };
        if !source.columns.contains(&rule.column) {
            return Err(Failure::config(format!(
                "{line}: {name} has no column `{}` in the source (generated columns are \
                 computed by the target and cannot be anonymized); its columns: {}",
                rule.column,
                source.columns.join(", ")
            ))
            .hint("fix the column name in the anonymization file")
            .into());
        }
        let chosen_rule = (rule.strategy, line, rule.settings);
        if source.leaves.is_empty() {
            chosen.insert((name, rule.column), chosen_rule);
        } else {
            on_partitioned.push((source.leaves.clone(), rule.column, chosen_rule));
        }
    }
    // A partition's own rule wins over its partitioned table's.
    for (leaves, column, rule) in on_partitioned {
        for leaf in leaves {
            chosen
                .entry((leaf, column.clone()))
                .or_insert_with(|| rule.clone());
        }
    }
    let propagated = propagate(catalog, &mut chosen);
    chosen.retain(|(table, _), _| catalog.table(table).is_some());

    let mut columns: Vec<MaskedColumn> = chosen
        .iter()
        .map(|((table, column), (strategy, _, _))| MaskedColumn {
            table: table.to_string(),
            column: column.clone(),
            strategy: strategy.name().to_string(),
            propagated_from: propagated.get(&(table.clone(), column.clone())).cloned(),
        })
        .collect();
    columns.sort_by(|a, b| {
        (a.propagated_from.is_some(), &a.table, &a.column).cmp(&(
            b.propagated_from.is_some(),
            &b.table,
            &b.column,
        ))
    });

    let mut by_table: HashMap<TableName, ColumnStrategies> = HashMap::new();
    for ((table, column), chosen) in chosen {
        by_table.entry(table).or_default().push((column, chosen));
    }
    let fingerprints = by_table
        .iter()
        .map(|(table, rules)| {
            let mut lines: Vec<String> = rules
                .iter()
                .map(|(column, (_, _, settings))| {
                    let from = propagated.get(&(table.clone(), column.clone()));
                    format!("{column}={settings} from={from:?}")
                })
                .collect();
            lines.sort();
            let digest = Sha256::digest(lines.join("\n").as_bytes());
            (table.clone(), format!("{digest:x}"))
        })
        .collect();
    let mut transforms: Transforms = HashMap::new();
    for (name, rules) in by_table {
        let table = catalog.table(&name).expect("kept above");
        let jobs = TableJobs::new(table, rules, &propagated)?;
        transforms.insert(name, Arc::new(TableMasking(Arc::new(jobs))));
    }
    Ok(Masking {
        transforms,
        columns,
        fingerprints,
    })
}

/// A column's strategy, the `file:line` of the rule that gave it, and the rule's settings.
type Chosen = (Arc<dyn Strategy>, String, String);

/// A table's anonymized columns, their strategies and rules' locations.
type ColumnStrategies = Vec<(String, Chosen)>;

/// Gives every column that references an anonymized column through a foreign key the same
/// strategy, unless it has a rule of its own; repeats until chains of keys are covered. Every
/// foreign key of the source counts, copied or not: a referencing table synced alone still
/// gets the strategy of the column it references. Returns, for each propagated column, the
/// column it got its strategy from (`schema.table.column`).
fn propagate(
    catalog: &Catalog,
    chosen: &mut HashMap<(TableName, String), Chosen>,
) -> HashMap<(TableName, String), String> {
    let mut from = HashMap::new();
    loop {
        let mut added = false;
        for fk in &catalog.foreign_keys {
            for (child_column, parent_column) in fk.child_columns.iter().zip(&fk.parent_columns) {
                let child = (fk.child.clone(), child_column.clone());
                if chosen.contains_key(&child) {
                    continue;
                }
                let parent = (fk.parent.clone(), parent_column.clone());
                let Some(rule) = chosen.get(&parent).cloned() else {
                    continue;
                };
                from.insert(child.clone(), format!("{}.{parent_column}", fk.parent));
                chosen.insert(child, rule);
                added = true;
            }
        }
        if !added {
            return from;
        }
    }
}

/// `file:line` of the rule behind `resolved`.
fn rule_location(config: &AnonymizationConfig, resolved: &ResolvedColumn) -> String {
    config
        .tables
        .iter()
        .filter(|t| t.schema == resolved.schema && t.table == resolved.table)
        .flat_map(|t| &t.columns)
        .find(|c| c.column == resolved.column)
        .map_or_else(
            || config.path.display().to_string(),
            |rule| config.location(rule.line),
        )
}

/// One column a table's transform replaces.
struct ColumnJob {
    name: String,
    column_type: ColumnType,
    strategy: Arc<dyn Strategy>,
    /// Fold values to lower case before the strategy (a case-insensitive column).
    fold_case: bool,
    /// Position of the column's values among the transform's inputs.
    input: usize,
    /// Positions of the strategy's context columns among the inputs.
    context: Vec<usize>,
    /// The column's index among the table's copied columns.
    index: usize,
}

/// The anonymization of one table: the transform, and each worker, share one [`TableJobs`].
struct TableMasking(Arc<TableJobs>);

/// What one table's anonymization does.
struct TableJobs {
    table: TableName,
    /// Copied-column indices the transform reads: replaced, context and key columns.
    inputs: Vec<usize>,
    /// The jobs, those of primary-key columns first (a later failure names the row by its
    /// masked key).
    jobs: Vec<ColumnJob>,
    /// Primary-key columns: name, position among the inputs, and the job masking it (if any).
    key: Vec<(String, usize, Option<usize>)>,
}

impl TableJobs {
    /// The jobs of `table`; checks each strategy can fill its column's type and finds the
    /// context columns it reads. Errors name the rule's `file:line`.
    fn new(
        table: &Table,
        mut rules: ColumnStrategies,
        propagated: &HashMap<(TableName, String), String>,
    ) -> anyhow::Result<Self> {
        let is_key = |name: &str| {
            table
                .primary_key
                .iter()
                .any(|&i| table.columns[i].name == name)
        };
        rules.sort_by(|a, b| (!is_key(&a.0), &a.0).cmp(&(!is_key(&b.0), &b.0)));
        let mut inputs: Vec<usize> = Vec::new();
        let mut input_of = |index: usize| match inputs.iter().position(|&i| i == index) {
            Some(position) => position,
            None => {
                inputs.push(index);
                inputs.len() - 1
            }
        };
        let index_of = |name: &str| table.columns.iter().position(|c| c.name == name);
        let mut jobs = Vec::new();
        for (name, (strategy, line, _)) in rules {
            let Some(index) = index_of(&name) else {
                return Err(Failure::config(format!(
                    "{line}: {} has no copied column `{name}`",
                    table.name
                ))
                .into());
            };
            let column = &table.columns[index];
            let column_type = ColumnType::parse(&column.type_name);
            if let Err(error) = strategy.check_column(&column_type) {
                let via = propagated
                    .get(&(table.name.clone(), name.clone()))
                    .map(|from| format!(" (it references {from}, which this rule anonymizes)"))
                    .unwrap_or_default();
                return Err(Failure::config(format!(
                    "{line}: {}.{name}{via}: {error:#}",
                    table.name
                ))
                .hint("pick a strategy for the column's type, or change the column")
                .into());
            }
            let mut context = Vec::new();
            for wanted in strategy.context_columns() {
                let Some(at) = index_of(wanted) else {
                    return Err(Failure::config(format!(
                        "{line}: strategy `{}` for {}.{name} reads the context column \
                         `{wanted}`, which {} does not have (or does not copy)",
                        strategy.name(),
                        table.name,
                        table.name
                    ))
                    .hint("pick a strategy that needs no such column for this table")
                    .into());
                };
                context.push(input_of(at));
            }
            jobs.push(ColumnJob {
                column_type,
                fold_case: column.case_insensitive,
                input: input_of(index),
                name,
                strategy,
                context,
                index,
            });
        }
        let key = table
            .primary_key
            .iter()
            .map(|&i| {
                let job = jobs.iter().position(|j| j.index == i);
                (table.columns[i].name.clone(), input_of(i), job)
            })
            .collect();
        Ok(TableJobs {
            table: table.name.clone(),
            inputs,
            jobs,
            key,
        })
    }

    /// How an error names row `row` of the batch: `row id=42` by its primary key, masked when
    /// the key column is anonymized (`done` holds the replacements made so far); by its
    /// position when there is no key, or its masking is what failed.
    fn row_key(&self, inputs: &[TextBatch], done: &[(usize, TextBatch)], row: usize) -> String {
        let position = || format!("value {row} of the batch");
        if self.key.is_empty() {
            return format!("{} (the table has no primary key)", position());
        }
        let mut shown = String::new();
        for (n, (name, input, job)) in self.key.iter().enumerate() {
            let value = match job {
                None => inputs[*input].get(row),
                Some(job) => match done.get(*job) {
                    Some((_, masked)) => masked.get(row),
                    None => return position(),
                },
            };
            let _ = write!(
                shown,
                "{}{name}={}",
                if n == 0 { "" } else { ", " },
                value.unwrap_or("NULL")
            );
        }
        format!("row {shown}")
    }

    fn run(&self, inputs: &[TextBatch]) -> anyhow::Result<Vec<(usize, TextBatch)>> {
        let mut replaced = Vec::with_capacity(self.jobs.len());
        for job in &self.jobs {
            let folded;
            let values = if job.fold_case {
                folded = lowercased(&inputs[job.input]);
                &folded
            } else {
                &inputs[job.input]
            };
            let context: Vec<&TextBatch> = job.context.iter().map(|&i| &inputs[i]).collect();
            let what = || {
                format!(
                    "anonymizing {}.{} with strategy `{}`",
                    self.table,
                    job.name,
                    job.strategy.name()
                )
            };
            let out = job
                .strategy
                .anonymize_rows(&job.column_type, values, &context)
                .map_err(|err| match err.downcast_ref::<InvalidOutput>() {
                    Some(bad) => {
                        let key = self.row_key(inputs, &replaced, bad.row);
                        err.context(format!("{} ({key})", what()))
                    }
                    None => err.context(what()),
                })?;
            if out.len() != values.len() {
                bail!(
                    "{}: the strategy returned {} values for {}",
                    what(),
                    out.len(),
                    values.len()
                );
            }
            if job.strategy.needs_output_check() {
                check_output(&job.column_type, &out).map_err(|bad| {
                    let key = self.row_key(inputs, &replaced, bad.row);
                    anyhow::Error::new(bad).context(format!(
                        "{} ({key}): nothing is written for this table",
                        what()
                    ))
                })?;
            }
            replaced.push((job.index, out));
        }
        Ok(replaced)
    }
}

/// Every non-NULL value of `out` checked against `column_type`.
fn check_output(column_type: &ColumnType, out: &TextBatch) -> Result<(), InvalidOutput> {
    for row in 0..out.len() {
        let Some(bytes) = out.get_bytes(row) else {
            continue;
        };
        let problem = match std::str::from_utf8(bytes) {
            Ok(value) => check_value(column_type, value).err(),
            Err(_) => Some("not UTF-8 text".to_string()),
        };
        if let Some(problem) = problem {
            return Err(InvalidOutput {
                row,
                type_name: column_type.to_string(),
                problem,
            });
        }
    }
    Ok(())
}

impl TableTransform for TableMasking {
    fn input_columns(&self) -> &[usize] {
        &self.0.inputs
    }

    fn replaced_columns(&self) -> Vec<usize> {
        self.0.jobs.iter().map(|job| job.index).collect()
    }

    fn worker(&self) -> anyhow::Result<Box<dyn TransformWorker>> {
        Ok(Box::new(TableMasking(self.0.clone())))
    }
}

/// Strategies keep their own per-thread state (plugin instances), so a worker is the shared
/// jobs.
impl TransformWorker for TableMasking {
    fn apply(&mut self, inputs: &[TextBatch]) -> anyhow::Result<Vec<(usize, TextBatch)>> {
        self.0.run(inputs)
    }
}
