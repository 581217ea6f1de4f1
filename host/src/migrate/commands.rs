//! `confiture migrate ...` commands: generate, status, verify, baseline (up and down live in
//! their own modules), and what they share.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use chrono::Utc;

use super::apply::Unit;
use super::apply::indexes::invalid_indexes;
use super::confirm::confirm;
use super::files::{
    Migration, compare_versions, discover, discover_all, is_valid_name, same_version,
};
use super::ledger::Ledger;
use super::plan::{State, plan};
use super::report::{
    BaselineReport, FailureReport, GenerateReport, Item, StatusReport, StatusRow, Target,
    VerifyReport, VerifyRun,
};
use crate::context::Globals;
use crate::db::lock::{LockWait, MigrationLock};
use crate::error::{ExitCode, Failure};
use crate::output::{Output, Report};
use crate::project::{Project, ResolvedDatabase};
use crate::risk::{MigrationRisk, TableSizes, assess_migration, sharpen, tables};
use crate::sql::{ModelBuilder, SourceText, parse_files, split_statements};

pub use super::down::{DownRequest, down};
pub use super::up::{UpRequest, up};
pub(crate) use super::up::{pending, read_applied};

/// How a command waits for the migration lock (`--no-wait`, `--lock-wait`, upstream's
/// `--lock-timeout`, as plain values).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LockOptions {
    /// Fail at once when another run holds the lock.
    pub no_wait: bool,
    /// How long to wait, when the command line says; else the environment's
    /// `migration.locking.timeout_ms`, else five minutes.
    pub wait: Option<std::time::Duration>,
}

impl LockOptions {
    /// The wait, given the environment's setting (milliseconds).
    pub fn wait(&self, env_lock_wait_ms: Option<u64>) -> std::time::Duration {
        use std::time::Duration;
        self.wait
            .or(env_lock_wait_ms.map(Duration::from_millis))
            .unwrap_or(Duration::from_secs(300))
    }
}

/// What every migrate command that connects works with.
pub(crate) struct Context {
    pub project: Project,
    pub db: ResolvedDatabase,
    pub migrations: Vec<Migration>,
    pub ledger: Ledger,
}

impl Context {
    /// Opens the project, finds the migrations (warning about files that are not applied) and
    /// resolves the database.
    pub fn open(g: &Globals) -> anyhow::Result<Self> {
        let project = g.project()?;
        let found = discover_all(&project.migrations_dir())?;
        for notice in &found.notices {
            g.out.warn(format!(
                "{}: {}",
                project.show(&notice.path),
                notice.message
            ));
        }
        let migrations = found.migrations;
        let db = g.database(&project)?;
        let ledger = Ledger::new(&project.env.migrations_table);
        Ok(Context {
            project,
            db,
            migrations,
            ledger,
        })
    }

    /// Connects to the database, and spells out the tracking table's schema (so the tool's
    /// writes mean the same whatever a migration does to the session).
    pub async fn connect(&mut self) -> anyhow::Result<tokio_postgres::Client> {
        let client = self.db.spec.connect().await?;
        self.ledger = self.ledger.qualified(&client).await?;
        Ok(client)
    }

    /// The units that apply `pending`, each file checked: refused (exit 5, naming file:line)
    /// before anything runs when one cannot run as written.
    pub fn units<'a>(&self, pending: &[&'a Migration]) -> Result<Vec<Unit<'a>>, Failure> {
        pending
            .iter()
            .map(|m| Unit::up(m, self.show(&m.up_path)))
            .collect()
    }

    /// The database and table, for reports.
    pub fn target(&self) -> Target {
        Target {
            database: self.db.spec.redacted(),
            database_source: self.db.source.clone(),
            table: self.ledger.name().to_string(),
        }
    }

    /// `path` relative to the project root.
    pub fn show(&self, path: &Path) -> String {
        self.project.show(path)
    }

    /// The migration on disk with `version`, or a configuration failure (exit 5).
    pub fn find(&self, version: &str) -> anyhow::Result<&Migration> {
        self.migrations
            .iter()
            .find(|m| same_version(&m.version, version))
            .ok_or_else(|| {
                let unpadded = |v: &str| v.trim_start_matches('0').to_string();
                let near = self
                    .migrations
                    .iter()
                    .find(|m| unpadded(&m.version) == unpadded(version));
                Failure::config(format!(
                    "no migration with version {version} in {}",
                    self.show(&self.project.migrations_dir())
                ))
                .hint(match near {
                    Some(m) => format!(
                        "did you mean {}? versions are matched as written, as upstream does",
                        m.version
                    ),
                    None => "`confiture migrate status` lists the versions".to_string(),
                })
                .into()
            })
    }

    /// Takes the migration lock for this database and table.
    pub async fn lock(&self, args: &LockOptions, out: &Output) -> anyhow::Result<MigrationLock> {
        let wait = if args.no_wait {
            LockWait::NoWait
        } else {
            LockWait::UpTo(args.wait(self.project.env.lock_wait_ms))
        };
        MigrationLock::acquire(&self.db.spec, self.ledger.name(), wait, out).await
    }

    /// Asks before changing a protected database, one whose environment sets upstream's
    /// `require_confirmation`, or when `forced`.
    pub fn confirm_if(&self, forced: bool, question: &str, yes: bool) -> anyhow::Result<()> {
        if forced || self.project.env.protected || self.project.env.require_confirmation {
            confirm(question, yes)?;
        }
        Ok(())
    }

    /// The failure for a command that needs the tracking table when there is none (exit 2).
    pub fn no_tracking_table(&self) -> anyhow::Error {
        Failure::new(
            ExitCode::NoTrackingTable,
            format!(
                "no tracking table `{}` in {}: no migration was ever applied here",
                self.ledger.name(),
                self.db.spec.redacted()
            ),
        )
        .hint("run `confiture migrate up` (or `migrate baseline --through V` for an existing database)")
        .into()
    }
}

/// An [`Item`] for a migration.
pub(crate) fn item(m: &Migration, duration_ms: Option<u64>) -> Item {
    Item {
        version: m.version.clone(),
        name: m.name.clone(),
        duration_ms,
        ..Item::default()
    }
}

/// The risk of each of `pending` (in order): its statements classified against the schema
/// that the migrations before it build (without table sizes: see [`assess_live`]).
fn assess(
    ctx: &Context,
    pending: &[&Migration],
    settings: crate::risk::Settings,
) -> Vec<MigrationRisk> {
    let shown: Vec<String> = ctx
        .migrations
        .iter()
        .map(|m| ctx.show(&m.up_path))
        .collect();
    let sources: Vec<SourceText<'_>> = ctx
        .migrations
        .iter()
        .zip(&shown)
        .map(|(m, path)| SourceText {
            shown_path: path,
            text: &m.up_sql,
            in_migration: true,
            // Risk and the model need one statement of each data run, not every row.
            every_data_statement: false,
        })
        .collect();
    let files = parse_files(&sources);
    // One pass: the model grows file by file, each pending migration assessed against the
    // schema before it.
    let mut before = ModelBuilder::default();
    let mut risks: Vec<Option<MigrationRisk>> = pending.iter().map(|_| None).collect();
    let mut left = pending.len();
    for (m, file) in ctx.migrations.iter().zip(&files) {
        if left == 0 {
            break;
        }
        if let Some(at) = pending.iter().position(|p| p.version == m.version) {
            risks[at] = Some(assess_migration(&file.statements, Some(&before), settings));
            left -= 1;
        }
        before.apply(file);
    }
    risks
        .into_iter()
        .map(|risk| risk.unwrap_or_else(|| assess_migration(&[], None, settings)))
        .collect()
}

/// [`assess`] for the server's PostgreSQL version (see [`live_risk_settings`]), then sharpened
/// with the live sizes of the tables the statements touch (one query for all of them;
/// thresholds from the environment's `risk:`). Levels only go up.
pub(crate) async fn assess_live(
    ctx: &Context,
    client: &impl tokio_postgres::GenericClient,
    pending: &[&Migration],
) -> anyhow::Result<Vec<MigrationRisk>> {
    let settings = live_risk_settings(ctx, client).await?;
    let mut risks = assess(ctx, pending, settings);
    let sizes = TableSizes::fetch(client, &tables(&risks)).await?;
    for risk in &mut risks {
        sharpen(risk, &sizes, &ctx.project.env.risk);
    }
    Ok(risks)
}

/// The risk settings of a command connected to the database: the environment's
/// `linting.postgres_version` when set, else the server's own major version (lint, which never
/// connects, assumes [`crate::risk::DEFAULT_POSTGRES_VERSION`] instead).
async fn live_risk_settings(
    ctx: &Context,
    client: &impl tokio_postgres::GenericClient,
) -> anyhow::Result<crate::risk::Settings> {
    let postgres_version = match ctx.project.env.linting.postgres_version {
        Some(configured) => configured,
        None => {
            let number: i32 = client
                .query_one("SELECT current_setting('server_version_num')::int", &[])
                .await
                .context("reading the server's version for the risk classification")?
                .get(0);
            u32::try_from(number / 10_000).unwrap_or(crate::risk::DEFAULT_POSTGRES_VERSION)
        }
    };
    Ok(crate::risk::Settings { postgres_version })
}

/// Prints `report`; in text mode a failure also goes to stderr. Returns the exit code.
pub(crate) fn finish<R: Report>(
    out: &Output,
    report: &R,
    failure: Option<&FailureReport>,
) -> ExitCode {
    out.report(report);
    match failure {
        None => ExitCode::Ok,
        Some(f) => {
            if !out.is_json() {
                let mut stderr = anstream::stderr();
                let _ = f.render(&mut stderr);
                let _ = stderr.flush();
            }
            f.exit_code()
        }
    }
}

/// `migrate generate NAME`: new `.up.sql` and `.down.sql` files named by the UTC time and
/// `requested` (lower-cased, `-` and spaces as `_`).
pub fn generate(g: &Globals, requested: &str) -> anyhow::Result<ExitCode> {
    let project = g.project()?;
    let name = requested
        .trim()
        .to_ascii_lowercase()
        .replace(['-', ' '], "_");
    if !is_valid_name(&name) {
        return Err(Failure::config(format!(
            "`{requested}` is not a migration name: use letters, digits and underscores"
        ))
        .hint("e.g. `confiture migrate generate add_users_email_index`")
        .into());
    }
    let dir = project.migrations_dir();
    let existing = discover(&dir)?;
    let version = Utc::now().format("%Y%m%d%H%M%S").to_string();
    if let Some(m) = existing.iter().find(|m| same_version(&m.version, &version)) {
        return Err(Failure::config(format!(
            "version {version} is already taken by {}",
            project.show(&m.up_path)
        ))
        .hint("wait a second and run it again")
        .into());
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| Failure::config(format!("cannot create {}: {e}", project.show(&dir))))?;
    let slug = format!("{version}_{name}");
    let templates = [
        (
            format!("{slug}.up.sql"),
            format!(
                "-- Migration {slug}: apply.\n\
                 -- Runs in one transaction with its tracking row. Put\n\
                 -- `-- confiture: no-transaction` on the FIRST line to run outside one\n\
                 -- (needed for CREATE INDEX CONCURRENTLY).\n\n"
            ),
        ),
        (
            format!("{slug}.down.sql"),
            format!("-- Migration {slug}: roll back what the .up.sql did.\n\n"),
        ),
    ];
    let mut files = Vec::new();
    for (file_name, body) in &templates {
        let path = dir.join(file_name);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Failure::config(format!("cannot create {}: {e}", project.show(&path))))?;
        file.write_all(body.as_bytes())?;
        files.push(project.show(&path));
    }
    g.out.report(&GenerateReport {
        version,
        name,
        files,
    });
    Ok(ExitCode::Ok)
}

/// `migrate status`: every migration and its state.
pub async fn status(g: &Globals) -> anyhow::Result<ExitCode> {
    let mut ctx = Context::open(g)?;
    let client = ctx.connect().await?;
    let exists = ctx.ledger.exists(&client).await?;
    let applied = if exists {
        ctx.ledger.applied(&client).await?
    } else {
        Vec::new()
    };
    let entries = plan(&ctx.migrations, &applied);
    let pending: Vec<&Migration> = entries
        .iter()
        .filter(|e| e.state == State::Pending)
        .filter_map(|e| e.migration)
        .collect();
    let mut risks = pending
        .iter()
        .zip(assess_live(&ctx, &client, &pending).await?);
    let rows: Vec<StatusRow> = entries
        .iter()
        .map(|e| {
            let mut row = StatusRow::from_entry(e);
            if e.state == State::Pending
                && let Some((_, risk)) = risks.next()
            {
                row.risk = Some(risk.level);
                row.risk_reasons = Some(risk.reasons());
            }
            row
        })
        .collect();
    let any_pending = rows.iter().any(|row| row.state == State::Pending);
    g.out.report(&StatusReport {
        target: ctx.target(),
        tracking_table_exists: exists,
        counts: super::report::Counts::of(&rows),
        migrations: rows,
    });
    Ok(status_code(exists, any_pending))
}

/// `migrate status`'s exit code, upstream's signal for CI: 2 when there is no tracking table,
/// 1 when migrations are pending, else 0.
fn status_code(tracking_table_exists: bool, any_pending: bool) -> ExitCode {
    match (tracking_table_exists, any_pending) {
        (false, _) => ExitCode::NoTrackingTable,
        (true, true) => ExitCode::Pending,
        (true, false) => ExitCode::Ok,
    }
}

/// `migrate verify`: checksum drift, and with `--run` (`run`) each applied `.verify.sql`.
pub async fn verify(g: &Globals, run: bool) -> anyhow::Result<ExitCode> {
    let mut ctx = Context::open(g)?;
    let mut client = ctx.connect().await?;
    if !ctx.ledger.exists(&client).await? {
        return Err(ctx.no_tracking_table());
    }
    let applied = ctx.ledger.applied(&client).await?;
    let entries = plan(&ctx.migrations, &applied);
    let listed = |state: State| -> Vec<Item> {
        entries
            .iter()
            .filter(|e| e.state == state)
            .map(|e| Item {
                version: e.version.clone(),
                name: e.name.clone(),
                duration_ms: None,
                ..Item::default()
            })
            .collect()
    };
    let changed = listed(State::Changed);
    let missing = listed(State::Missing);
    let mut verified = Vec::new();
    if run {
        for m in entries
            .iter()
            .filter(|e| matches!(e.state, State::Applied | State::Changed))
            .filter_map(|e| e.migration)
        {
            let Some(path) = &m.verify_path else { continue };
            let file = ctx.show(path);
            let error = run_verify(&mut client, path, &file).await.err();
            verified.push(VerifyRun {
                version: m.version.clone(),
                ok: error.is_none(),
                error: error.map(|e| crate::error::one_line(&e)),
                file,
            });
        }
    }
    let invalid_indexes = invalid_indexes(&client).await?;
    let ok = changed.is_empty()
        && missing.is_empty()
        && invalid_indexes.is_empty()
        && verified.iter().all(|v| v.ok);
    g.out.report(&VerifyReport {
        target: ctx.target(),
        ok,
        changed,
        missing,
        invalid_indexes,
        verified,
    });
    Ok(if ok { ExitCode::Ok } else { ExitCode::Failure })
}

/// Runs one `.verify.sql` in a transaction that is rolled back; its first column must be true.
async fn run_verify(
    client: &mut tokio_postgres::Client,
    path: &Path,
    file: &str,
) -> anyhow::Result<()> {
    let sql =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {file}: {e}"))?;
    let statements = split_statements(&sql);
    let [statement] = statements.as_slice() else {
        anyhow::bail!(
            "{file}: must hold exactly one SELECT, found {} statements",
            statements.len()
        );
    };
    let tx = client.transaction().await?;
    let rows = tx.query(statement.text, &[]).await.map_err(|e| {
        crate::db::script::ScriptError::from_postgres(file, statement.text, statement.line, &e)
    })?;
    tx.rollback().await?;

    let value = match rows.first() {
        None => {
            anyhow::bail!("{file}: returned no row (expected one row whose first column is true)")
        }
        Some(row) => row
            .try_get::<_, Option<bool>>(0)
            .map_err(|_| anyhow::anyhow!("{file}: the first column is not a boolean"))?,
    };
    match value {
        Some(true) => Ok(()),
        Some(false) => anyhow::bail!("{file}: returned false"),
        None => anyhow::bail!("{file}: returned NULL"),
    }
}

/// What `confiture migrate baseline` is asked to do (its flags, as plain values).
#[derive(Debug, Clone, Default)]
pub struct BaselineRequest {
    /// Mark every migration up to and including this version as applied.
    pub through: String,
    /// Answer yes to confirmations.
    pub yes: bool,
}

/// `migrate baseline --through V`: record migrations as applied without running them.
pub async fn baseline(g: &Globals, a: &BaselineRequest) -> anyhow::Result<ExitCode> {
    let mut ctx = Context::open(g)?;
    let through = ctx.find(&a.through)?.version.clone();
    let mut client = ctx.connect().await?;
    let lock = ctx.lock(&LockOptions::default(), &g.out).await?;
    let result = async {
        let exists = ctx.ledger.exists(&client).await?;
        let applied = if exists {
            ctx.ledger.applied(&client).await?
        } else {
            Vec::new()
        };
        let to_record: Vec<&Migration> = plan(&ctx.migrations, &applied)
            .iter()
            .filter(|e| e.state == State::Pending)
            .filter_map(|e| e.migration)
            .filter(|m| compare_versions(&m.version, &through).is_le())
            .collect();
        if !to_record.is_empty() {
            ctx.confirm_if(
                false,
                &format!(
                    "Mark {} migration(s) as applied in {}?",
                    to_record.len(),
                    ctx.db.spec.redacted()
                ),
                a.yes,
            )?;
        }
        let tx = client.transaction().await?;
        ctx.ledger.ensure(&tx).await?;
        for m in &to_record {
            ctx.ledger.record_baseline(&tx, m).await?;
        }
        tx.commit().await?;
        anyhow::Ok(to_record.iter().map(|m| item(m, None)).collect())
    }
    .await;
    lock.release().await;
    g.out.report(&BaselineReport {
        target: ctx.target(),
        through,
        recorded: result?,
    });
    Ok(ExitCode::Ok)
}
