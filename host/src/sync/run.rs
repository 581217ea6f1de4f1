//! The executor: snapshot, discovery, plan, then the groups on `jobs` workers, each group in
//! one target transaction; plus the dry run.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;
use tokio_postgres::Client;

use crate::db::session::{self, READ_SETTINGS};
use crate::error::Failure;
use crate::sync::catalog::{self, Catalog, Table, TableFilter, TableName};
use crate::sync::checkpoint::{Checkpoint, Fingerprint};
use crate::sync::connect::Connector;
use crate::sync::identity::{self, DatabaseIdentity};
use crate::sync::pipeline::{self, CopyContext, SequenceSet};
use crate::sync::plan::{self, CycleMode, Group, Plan};
use crate::sync::progress::Progress;
use crate::sync::redact;
use crate::sync::source::{SourcePool, SourceSnapshot};
use crate::sync::transform::{self, BlockTransformer, TableTransform};

/// The transforms of a sync, by table.
pub type Transforms = HashMap<TableName, Arc<dyn TableTransform>>;

/// How to run a sync.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Parallel workers: groups loaded at once, and source readers in all.
    pub jobs: usize,
    /// Rows per transform call.
    pub batch_size: usize,
    /// Which tables to copy.
    pub filter: TableFilter,
    /// The checkpoint file, rewritten after each committed group.
    pub checkpoint: Option<PathBuf>,
    /// Skip the groups the checkpoint lists as committed.
    pub resume: bool,
    /// A table is read in several CTID ranges (when `jobs` exceeds the groups) only with at
    /// least this many pages per range.
    pub split_min_pages: u64,
    /// Load every group in replica mode (`session_replication_role = replica`): the target's
    /// triggers do not fire and foreign keys are not checked.
    pub disable_triggers: bool,
    /// What the caller's side of the run's output depends on (anonymization, plugins, secret);
    /// the databases and tables are added by [`sync`]. Recorded in the checkpoint.
    pub fingerprint: Fingerprint,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            jobs: 4,
            batch_size: 10_000,
            filter: TableFilter::default(),
            checkpoint: None,
            resume: false,
            split_min_pages: 1024,
            disable_triggers: false,
            fingerprint: Fingerprint::default(),
        }
    }
}

/// What happened to a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableStatus {
    /// Copied and committed.
    Copied,
    /// Left alone: the checkpoint lists it as committed by an earlier run.
    Skipped,
    /// Its group failed and was rolled back: the target table is as it was.
    Failed {
        /// The group's error, with its causes.
        error: String,
    },
}

/// One table's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    /// The table.
    pub table: TableName,
    /// What happened.
    pub status: TableStatus,
    /// Rows read from the source (0 unless copied).
    pub rows_read: u64,
    /// Rows loaded into the target (0 unless copied).
    pub rows_written: u64,
    /// Time spent loading it.
    pub elapsed: Duration,
    /// CTID ranges it was read in, each by its own source connection (0 unless copied).
    pub readers: usize,
    /// Sequences set after the load.
    pub sequences: Vec<SequenceSet>,
}

/// The outcome of a sync.
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    /// The source snapshot every table was read from.
    pub snapshot: String,
    /// Every table, in plan order.
    pub tables: Vec<TableReport>,
    /// Groups skipped because the checkpoint lists them.
    pub skipped_groups: usize,
    /// Groups that failed and were rolled back.
    pub failed_groups: usize,
    /// Per table, the target's columns the source lacks: they got their defaults.
    pub target_defaults: Vec<(TableName, Vec<String>)>,
}

impl SyncReport {
    /// The tables that failed.
    pub fn failures(&self) -> impl Iterator<Item = &TableReport> {
        self.tables
            .iter()
            .filter(|t| matches!(t.status, TableStatus::Failed { .. }))
    }
}

/// Before and after values of one sampled row (the transformed columns only).
#[derive(Debug, Clone, Serialize)]
pub struct SampleRow {
    /// Source values (for the caller to show, never to log).
    pub before: Vec<Option<String>>,
    /// Values after the transform.
    pub after: Vec<Option<String>>,
}

/// A few rows of a transformed table, before and after.
#[derive(Debug, Clone, Serialize)]
pub struct TransformSample {
    /// The table.
    pub table: TableName,
    /// Names of the columns the transform replaced.
    pub columns: Vec<String>,
    /// Up to five rows.
    pub rows: Vec<SampleRow>,
}

/// What a sync would do.
#[derive(Debug, Clone, Serialize)]
pub struct DryRunReport {
    /// Groups, load order and estimated rows.
    pub plan: Plan,
    /// Samples of each transformed table.
    pub samples: Vec<TransformSample>,
    /// Per table, the target's columns the source lacks: they get their defaults.
    pub target_defaults: Vec<(TableName, Vec<String>)>,
}

/// Rows sampled per transformed table by a dry run.
const SAMPLE_ROWS: usize = 5;
/// Characters of a sampled value shown by a dry run.
const SAMPLE_CHARS: usize = 60;

/// A sample value cut to [`SAMPLE_CHARS`] characters, saying how long it was.
fn shortened(value: &str) -> String {
    match value.char_indices().nth(SAMPLE_CHARS) {
        None => value.to_string(),
        Some((cut, _)) => format!("{}… ({} characters)", &value[..cut], value.chars().count()),
    }
}

/// Everything decided before any data moves: the source snapshot every table is read from,
/// the tables, and the load plan.
pub struct Prepared {
    snapshot: SourceSnapshot,
    /// The tables to copy and the foreign keys between them.
    pub catalog: Catalog,
    /// Groups and load order.
    pub plan: Plan,
    /// Digests of the source's and the target's identities.
    identities: (String, String),
}

impl Prepared {
    /// Per table, the target's columns the source lacks (they get their defaults).
    pub fn target_defaults(&self) -> Vec<(TableName, Vec<String>)> {
        self.catalog
            .tables
            .iter()
            .filter(|t| !t.target_defaults.is_empty())
            .map(|t| (t.name.clone(), t.target_defaults.clone()))
            .collect()
    }

    /// The run's fingerprint: the caller's parts, the two databases and the tables.
    fn fingerprint(&self, caller: &Fingerprint) -> Fingerprint {
        let mut tables = Sha256::new();
        for table in &self.catalog.tables {
            tables.update(table.name.to_string().as_bytes());
            tables.update([0]);
        }
        Fingerprint {
            source: self.identities.0.clone(),
            target: self.identities.1.clone(),
            tables: format!("{:x}", tables.finalize()),
            ..caller.clone()
        }
    }
}

/// Opens the source snapshot, refuses a target that is the source itself, discovers the
/// tables, checks the target can receive them, and plans the load. Nothing is written
/// anywhere; every error here is a configuration error (exit 5) but a failed connection.
pub async fn prepare(
    source: &dyn Connector,
    target: &dyn Connector,
    options: &SyncOptions,
) -> anyhow::Result<Prepared> {
    let target = target.connect().await.context("connecting to the target")?;
    // The catalog is compared with type names spelled the same way on both ends.
    session::pin(&target, READ_SETTINGS).await?;
    let target_identity = DatabaseIdentity::of(&target).await?;
    let snapshot = SourceSnapshot::begin(source).await?;
    let source_identity = DatabaseIdentity::of(snapshot.client()).await?;
    identity::refuse_same_database(&source_identity, &target_identity, &target).await?;
    let mut catalog = catalog::discover(snapshot.client(), &options.filter).await?;
    catalog::check_target(&target, &mut catalog).await?;
    if options.disable_triggers && !replica_role_allowed(&target).await? {
        return Err(Failure::config(
            "--disable-triggers needs a target role allowed to set session_replication_role",
        )
        .hint("sync as a superuser, or on PostgreSQL 15+ GRANT SET ON PARAMETER session_replication_role to the role")
        .into());
    }
    let plan = plan::plan(&catalog, options.disable_triggers)?;
    Ok(Prepared {
        snapshot,
        catalog,
        plan,
        identities: (source_identity.fingerprint(), target_identity.fingerprint()),
    })
}

/// Checks every transform is for a copied table and reads columns it has.
fn check_transforms(catalog: &Catalog, transforms: &Transforms) -> anyhow::Result<()> {
    for (name, transform) in transforms {
        match catalog.table(name) {
            Some(table) => transform::check_inputs(table, transform.as_ref())?,
            None => bail!("a transform is given for {name}, which this sync does not copy"),
        }
    }
    Ok(())
}

/// True when the target role may set `session_replication_role`.
async fn replica_role_allowed(target: &Client) -> anyhow::Result<bool> {
    let row = target
        .query_one(
            "SELECT current_setting('is_superuser') = 'on', \
                    current_setting('server_version_num')::int",
            &[],
        )
        .await
        .context("reading the target role's privileges")?;
    let (superuser, version): (bool, i32) = (row.get(0), row.get(1));
    if superuser || version < 150000 {
        return Ok(superuser);
    }
    Ok(target
        .query_one(
            "SELECT has_parameter_privilege('session_replication_role', 'SET')",
            &[],
        )
        .await
        .context("reading the target role's privileges")?
        .get(0))
}

/// Copies the tables of `source` into `target`, group by group, through `transforms`.
///
/// Errors found before any data moves (unknown tables, schema differences, forbidden cycles)
/// are returned as errors. A failing group is rolled back and reported in the result, and the
/// other groups go on.
pub async fn sync(
    prepared: Prepared,
    source: Arc<dyn Connector>,
    target: Arc<dyn Connector>,
    transforms: &Transforms,
    options: &SyncOptions,
    progress: Arc<dyn Progress>,
) -> anyhow::Result<SyncReport> {
    check_transforms(&prepared.catalog, transforms)?;
    let mut checkpoint = match &options.checkpoint {
        Some(path) => Some(Checkpoint::open(
            path,
            options.resume,
            &prepared.fingerprint(&options.fingerprint),
        )?),
        None => None,
    };
    let mut skipped = Vec::new();
    let mut pending = VecDeque::new();
    for group in &prepared.plan.groups {
        if options.resume
            && checkpoint
                .as_ref()
                .is_some_and(|c| c.contains_all(&group.tables))
        {
            skipped.push(group.clone());
        } else {
            pending.push_back(group.clone());
        }
    }
    let parts = split_tables(&prepared.catalog, &pending, transforms, options);
    let tables: HashMap<TableName, Arc<Table>> = prepared
        .catalog
        .tables
        .iter()
        .map(|t| (t.name.clone(), Arc::new(t.clone())))
        .collect();
    let shared = Arc::new(Shared {
        target,
        tables,
        parts,
        transforms: transforms.clone(),
        copy: CopyContext {
            pool: Arc::new(SourcePool::new(source, prepared.snapshot.id())),
            progress,
            batch_size: options.batch_size,
        },
        queue: Mutex::new(pending),
        checkpoint: Mutex::new(checkpoint.take()),
        results: Mutex::new(Vec::new()),
    });
    let mut workers = JoinSet::new();
    let worker_count = options
        .jobs
        .max(1)
        .min(shared.queue.lock().expect("lock").len());
    for _ in 0..worker_count {
        let shared = shared.clone();
        workers.spawn(async move { shared.work().await });
    }
    while let Some(joined) = workers.join_next().await {
        joined.context("a sync worker panicked")??;
    }
    let results = std::mem::take(&mut *shared.results.lock().expect("lock"));
    let failed_groups = results.iter().filter(|(_, r)| r.is_err()).count();
    let mut by_table: HashMap<TableName, TableReport> = HashMap::new();
    for (group, result) in results {
        match result {
            Ok(reports) => by_table.extend(reports.into_iter().map(|r| (r.table.clone(), r))),
            Err(error) => {
                for table in group.tables {
                    by_table.insert(table.clone(), empty_report(table, failed(&error)));
                }
            }
        }
    }
    for group in &skipped {
        for table in &group.tables {
            by_table.insert(
                table.clone(),
                empty_report(table.clone(), TableStatus::Skipped),
            );
        }
    }
    let tables = prepared
        .plan
        .groups
        .iter()
        .flat_map(|g| &g.tables)
        .filter_map(|t| by_table.remove(t))
        .collect();
    Ok(SyncReport {
        target_defaults: prepared.target_defaults(),
        snapshot: prepared.snapshot.id().to_string(),
        tables,
        skipped_groups: skipped.len(),
        failed_groups,
    })
}

/// A failed group's status: its error without any value the server quoted.
fn failed(error: &anyhow::Error) -> TableStatus {
    TableStatus::Failed {
        error: redact::describe(error),
    }
}

fn empty_report(table: TableName, status: TableStatus) -> TableReport {
    TableReport {
        table,
        status,
        rows_read: 0,
        rows_written: 0,
        elapsed: Duration::ZERO,
        readers: 0,
        sequences: Vec::new(),
    }
}

/// How many CTID ranges each table is read in: the readers left over when `jobs` exceeds the
/// groups go to the largest anonymized tables, as long as each range keeps `split_min_pages`
/// pages.
fn split_tables(
    catalog: &Catalog,
    groups: &VecDeque<Group>,
    transforms: &Transforms,
    options: &SyncOptions,
) -> HashMap<TableName, usize> {
    let mut spare = options.jobs.saturating_sub(groups.len());
    let mut parts: HashMap<TableName, usize> = HashMap::new();
    // Only anonymized tables are worth more readers: a raw table streams at the speed of the
    // target's single COPY, which more readers only crowd.
    let candidates: Vec<&Table> = groups
        .iter()
        .flat_map(|g| &g.tables)
        .filter(|name| transforms.contains_key(*name))
        .filter_map(|name| catalog.table(name))
        .collect();
    let min_pages = options.split_min_pages.max(1);
    while spare > 0 {
        let best = candidates
            .iter()
            .map(|t| (*t, parts.get(&t.name).copied().unwrap_or(1)))
            .filter(|(t, n)| t.pages / (*n as u64 + 1) >= min_pages)
            .max_by_key(|(t, n)| t.pages / *n as u64);
        let Some((table, n)) = best else { break };
        parts.insert(table.name.clone(), n + 1);
        spare -= 1;
    }
    parts
}

/// State shared by the sync workers.
struct Shared {
    target: Arc<dyn Connector>,
    tables: HashMap<TableName, Arc<Table>>,
    parts: HashMap<TableName, usize>,
    transforms: Transforms,
    copy: CopyContext,
    queue: Mutex<VecDeque<Group>>,
    checkpoint: Mutex<Option<Checkpoint>>,
    results: Mutex<Vec<(Group, anyhow::Result<Vec<TableReport>>)>>,
}

impl Shared {
    /// Loads groups from the queue until it is empty. Errors only when the checkpoint cannot be
    /// written (a group's own failure is recorded in the results).
    async fn work(&self) -> anyhow::Result<()> {
        loop {
            let Some(group) = self.queue.lock().expect("lock").pop_front() else {
                return Ok(());
            };
            let result = self.load_group(&group).await;
            match &result {
                Ok(_) => {
                    if let Some(checkpoint) = self.checkpoint.lock().expect("lock").as_mut() {
                        checkpoint.commit(&group.tables)?;
                    }
                }
                Err(error) => self.copy.progress.on_group_failed(&group.tables, error),
            }
            self.results.lock().expect("lock").push((group, result));
        }
    }

    /// Loads one group in one target transaction, rolled back on any failure.
    async fn load_group(&self, group: &Group) -> anyhow::Result<Vec<TableReport>> {
        let names: Vec<String> = group.tables.iter().map(|t| t.to_string()).collect();
        let what = || format!("group {}", names.join(", "));
        let target = self
            .target
            .connect()
            .await
            .with_context(|| format!("connecting to the target for {}", what()))?;
        target
            .batch_execute("BEGIN")
            .await
            .with_context(|| format!("starting the transaction of {}", what()))?;
        match self.load_tables(&target, group).await {
            Ok(reports) => {
                target
                    .batch_execute("COMMIT")
                    .await
                    .with_context(|| format!("committing {}", what()))?;
                Ok(reports)
            }
            Err(error) => {
                // Dropping the connection rolls back as well, should ROLLBACK fail.
                let _ = target.batch_execute("ROLLBACK").await;
                Err(error)
            }
        }
    }

    async fn load_tables(
        &self,
        target: &Client,
        group: &Group,
    ) -> anyhow::Result<Vec<TableReport>> {
        match group.cycle_mode {
            CycleMode::DeferConstraints => target
                .batch_execute("SET CONSTRAINTS ALL DEFERRED")
                .await
                .context("deferring constraints")?,
            CycleMode::ReplicaRole => target
                .batch_execute("SET LOCAL session_replication_role = replica")
                .await
                .context("setting session_replication_role")?,
            CycleMode::None => {}
        }
        if group.cycle_mode != CycleMode::ReplicaRole {
            // Triggers fire, and foreign keys are checked, unless --disable-triggers says
            // otherwise: whatever the role or the database has set.
            ensure_origin_role(target).await?;
        }
        let truncate = group.truncate.join(", ");
        target
            .batch_execute(&format!("TRUNCATE {truncate}"))
            .await
            .with_context(|| format!("truncating {truncate}"))?;
        let mut reports = Vec::with_capacity(group.tables.len());
        for name in &group.tables {
            let table = &self.tables[name];
            let started = Instant::now();
            self.copy
                .progress
                .on_table_start(name, table.estimated_rows);
            let readers = self.parts.get(name).copied().unwrap_or(1);
            let copy = pipeline::copy_table(
                target,
                table,
                readers,
                self.transforms.get(name),
                &self.copy,
            )
            .await?;
            let elapsed = started.elapsed();
            self.copy
                .progress
                .on_table_done(name, copy.rows_written, elapsed);
            reports.push(TableReport {
                table: name.clone(),
                status: TableStatus::Copied,
                rows_read: copy.rows_read,
                rows_written: copy.rows_written,
                elapsed,
                readers,
                sequences: Vec::new(),
            });
        }
        let sequences = pipeline::set_sequences(target, &group.sequences).await?;
        for (set, sequence) in sequences.into_iter().zip(&group.sequences) {
            let first_user = &sequence.uses[0].0;
            if let Some(report) = reports.iter_mut().find(|r| &r.table == first_user) {
                report.sequences.push(set);
            }
        }
        Ok(reports)
    }
}

/// Makes sure the target session fires triggers and checks foreign keys: a role or database
/// setting `session_replication_role = replica` would silently skip them.
async fn ensure_origin_role(target: &Client) -> anyhow::Result<()> {
    let role: String = target
        .query_one(
            "SELECT pg_catalog.current_setting('session_replication_role')",
            &[],
        )
        .await
        .context("reading session_replication_role")?
        .get(0);
    if role != "origin" {
        target
            .batch_execute("SET LOCAL session_replication_role = origin")
            .await
            .context(
                "the target session has session_replication_role = replica (a role or database \
                 setting), which skips triggers and foreign keys; confiture could not reset it",
            )?;
    }
    Ok(())
}

/// Plans a sync without writing to the target: the groups in load order, and up to five rows
/// of each transformed table before and after its transform.
pub async fn dry_run(
    prepared: Prepared,
    transforms: &Transforms,
    options: &SyncOptions,
) -> anyhow::Result<DryRunReport> {
    check_transforms(&prepared.catalog, transforms)?;
    let mut samples = Vec::new();
    for table in &prepared.catalog.tables {
        if let Some(transform) = transforms.get(&table.name) {
            samples.push(
                sample(
                    prepared.snapshot.client(),
                    table,
                    transform.as_ref(),
                    options,
                )
                .await?,
            );
        }
    }
    Ok(DryRunReport {
        target_defaults: prepared.target_defaults(),
        plan: prepared.plan,
        samples,
    })
}

async fn sample(
    source: &Client,
    table: &Table,
    transform: &dyn TableTransform,
    options: &SyncOptions,
) -> anyhow::Result<TransformSample> {
    let stream = source
        .copy_out(&pipeline::copy_out_limit_sql(table, SAMPLE_ROWS))
        .await
        .with_context(|| format!("sampling {}", table.name))?;
    let chunks: Vec<_> = stream.collect().await;
    let mut data = Vec::new();
    for chunk in chunks {
        data.extend_from_slice(&chunk.with_context(|| format!("sampling {}", table.name))?);
    }
    let mut transformer = BlockTransformer::new(table, transform, options.batch_size)?;
    let parsed = transformer.parse(&data)?;
    let rows = parsed.rows();
    let replacements = transformer.apply(&parsed, 0..rows)?;
    let text = |v: Option<&[u8]>| v.map(|b| shortened(&String::from_utf8_lossy(b)));
    let before: Vec<_> = replacements
        .iter()
        .map(|(c, _)| parsed.decode_column(*c, 0..rows))
        .collect();
    Ok(TransformSample {
        table: table.name.clone(),
        columns: replacements
            .iter()
            .map(|(c, _)| table.columns[*c].name.clone())
            .collect(),
        rows: (0..rows)
            .map(|r| SampleRow {
                before: before.iter().map(|b| text(b.get_bytes(r))).collect(),
                after: replacements
                    .iter()
                    .map(|(_, b)| text(b.get_bytes(r)))
                    .collect(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::testing::{column, table};
    use crate::sync::transform::TransformWorker;

    /// A transform that is never run: only its presence and the columns it reads count.
    struct Present(Vec<usize>);

    impl TableTransform for Present {
        fn input_columns(&self) -> &[usize] {
            &self.0
        }
        fn replaced_columns(&self) -> Vec<usize> {
            Vec::new()
        }
        fn worker(&self) -> anyhow::Result<Box<dyn TransformWorker>> {
            bail!("a split is planned without running any transform")
        }
    }

    fn group(name: &str) -> Group {
        Group {
            tables: vec![TableName::new("public", name)],
            cycle_mode: CycleMode::None,
            estimated_rows: 0,
            pages: 0,
            sequences: Vec::new(),
            truncate: Vec::new(),
        }
    }

    /// How `split_tables` spreads `jobs` readers over three one-table groups (`big`, `small`
    /// anonymized, `raw` not) and an anonymized table no group loads.
    fn split(jobs: usize, split_min_pages: u64) -> Vec<(String, usize)> {
        let catalog = Catalog {
            tables: vec![
                table("big", 10_000),
                table("small", 4_000),
                table("raw", 50_000),
                table("resumed", 90_000),
            ],
            ..Catalog::default()
        };
        let groups: VecDeque<Group> = ["raw", "big", "small"].map(group).into();
        let transforms: Transforms = ["big", "small", "resumed"]
            .map(|name| {
                let transform: Arc<dyn TableTransform> = Arc::new(Present(Vec::new()));
                (TableName::new("public", name), transform)
            })
            .into();
        let options = SyncOptions {
            jobs,
            split_min_pages,
            ..SyncOptions::default()
        };
        let mut parts: Vec<(String, usize)> =
            split_tables(&catalog, &groups, &transforms, &options)
                .into_iter()
                .map(|(name, parts)| (name.name, parts))
                .collect();
        parts.sort();
        parts
    }

    #[test]
    fn spare_readers_go_to_the_largest_anonymized_ranges() {
        let parts = |list: &[(&str, usize)]| -> Vec<(String, usize)> {
            list.iter().map(|(n, p)| (n.to_string(), *p)).collect()
        };
        // No more jobs than groups: one reader a table.
        assert_eq!(split(2, 1024), parts(&[]));
        assert_eq!(split(3, 1024), parts(&[]));
        // Three spare readers, each to the table whose ranges are then the largest:
        // big (10,000 pages in 1), big (in 2: 5,000), small (4,000 against big's 3,333).
        assert_eq!(split(6, 1024), parts(&[("big", 3), ("small", 2)]));
        // Each range keeps at least split_min_pages: big splits in 3 (3,333 pages each) but
        // not 4, small not at all; the other spare readers stay unused.
        assert_eq!(split(10, 3_333), parts(&[("big", 3)]));
        assert_eq!(split(10, 3_334), parts(&[("big", 2)]));
        // A minimum of 0 counts as 1: a range is never empty.
        assert_eq!(split(5, 0), parts(&[("big", 3)]));
    }

    #[test]
    fn a_transform_must_be_for_a_copied_table_and_read_its_columns() {
        let mut users = table("users", 1);
        users.columns = vec![column("email", false), column("name", false)];
        let catalog = Catalog {
            tables: vec![users, table("empty", 1)],
            ..Catalog::default()
        };
        let check = |name: &str, reads: Vec<usize>| {
            let transform: Arc<dyn TableTransform> = Arc::new(Present(reads));
            let transforms: Transforms = [(TableName::new("public", name), transform)].into();
            check_transforms(&catalog, &transforms).map_err(|e| e.to_string())
        };
        assert_eq!(check("users", vec![0, 1]), Ok(()));
        assert_eq!(
            check("orders", vec![0]),
            Err("a transform is given for public.orders, which this sync does not copy".into())
        );
        assert_eq!(
            check("users", vec![1, 2]),
            Err(
                "the transform of public.users reads column index 2, but the table has 2 \
                 copied columns"
                    .into()
            )
        );
        assert_eq!(
            check("empty", Vec::new()),
            Err("public.empty has no copied column to transform".into())
        );
    }

    #[test]
    fn a_long_sample_value_is_cut_at_a_character_and_says_its_length() {
        assert_eq!(shortened("ana@example.org"), "ana@example.org");
        let sixty = "é".repeat(SAMPLE_CHARS);
        assert_eq!(shortened(&sixty), sixty);
        assert_eq!(
            shortened(&format!("{sixty}Ζω")),
            format!("{sixty}… (62 characters)")
        );
    }

    #[test]
    fn the_failures_are_the_failed_tables() {
        let report = |name: &str, status| empty_report(TableName::new("public", name), status);
        let sync = SyncReport {
            snapshot: String::new(),
            tables: vec![
                report("copied", TableStatus::Copied),
                report("failed", failed(&anyhow::anyhow!("the group failed"))),
                report("skipped", TableStatus::Skipped),
            ],
            skipped_groups: 1,
            failed_groups: 1,
            target_defaults: Vec::new(),
        };
        let failures: Vec<_> = sync.failures().collect();
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].table.name, "failed");
        assert_eq!(
            failures[0].status,
            TableStatus::Failed {
                error: "the group failed".into()
            }
        );
    }
}
