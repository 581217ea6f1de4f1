//! `confiture db start|stop|status|url|reset`: the project's throwaway local cluster.

use std::io::Write;

use serde::Serialize;

use crate::cli::DbCommand;
use crate::context::Globals;
use crate::db::cluster::{Cluster, ClusterAction, ClusterStatus};
use crate::error::ExitCode;
use crate::output::{Report, paint, style};
use crate::project::Project;

/// Runs one `db` subcommand in the project at or above `--project` (a project is required:
/// the cluster lives in its `.confiture/pg/`).
pub async fn run(g: &Globals, cmd: &DbCommand) -> anyhow::Result<ExitCode> {
    let root = Project::find_root(&g.project_dir)?;
    let cluster = Cluster::for_project(&root);
    match cmd {
        DbCommand::Start => {
            if !g.out.is_json() && !cluster.status()?.running {
                g.out
                    .line(paint(style::DIM, "starting the local PostgreSQL..."));
            }
            g.out.report(&cluster.start()?);
        }
        DbCommand::Stop => g.out.report(&cluster.stop()?),
        DbCommand::Status => g.out.report(&cluster.status()?),
        DbCommand::Url => {
            let url = cluster.connection_spec()?.redacted();
            g.out.report(&UrlReport { url });
        }
        DbCommand::Reset => {
            cluster.reset_database().await?;
            let mut status = cluster.status()?;
            status.action = Some(ClusterAction::Reset);
            g.out.report(&status);
        }
    }
    Ok(ExitCode::Ok)
}

/// `confiture db url`: the bare URL in text mode, for `psql "$(confiture db url)"`.
#[derive(Debug, Serialize)]
struct UrlReport {
    url: String,
}

impl Report for UrlReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "{}", self.url)
    }
}

impl Report for ClusterStatus {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let headline = match self.action {
            Some(ClusterAction::Initialized) => {
                paint(style::OK, "created and started a new local cluster")
            }
            Some(ClusterAction::Started) => paint(style::OK, "started the local cluster"),
            Some(ClusterAction::AlreadyRunning) => {
                paint(style::OK, "the local cluster is already running")
            }
            Some(ClusterAction::Stopped) => paint(style::OK, "stopped the local cluster"),
            Some(ClusterAction::AlreadyStopped) => "the local cluster is not running".to_string(),
            Some(ClusterAction::Reset) => paint(
                style::OK,
                format!("dropped and re-created database {}", self.database),
            ),
            None if self.running => paint(style::OK, "running"),
            None if self.initialized => paint(style::WARN, "stopped"),
            None => paint(style::WARN, "not created yet"),
        };
        writeln!(out, "{headline}")?;
        for note in &self.notes {
            writeln!(out, "  {} {note}", paint(style::WARN, "note:"))?;
        }
        let mut field = |name: &str, value: String| {
            writeln!(
                out,
                "  {}{value}",
                paint(style::DIM, format!("{:<16}", format!("{name}:")))
            )
        };
        if self.running
            && let Some(url) = &self.url
        {
            field("url", url.clone())?;
        }
        field("database", self.database.clone())?;
        if let Some(port) = self.port {
            field("port", port.to_string())?;
        }
        if let Some(pid) = self.pid {
            field("pid", pid.to_string())?;
        }
        let shown = |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| p.display().to_string());
        if let Some(dir) = shown(&self.data_dir) {
            field("data directory", dir)?;
        } else {
            field("state directory", self.state_dir.display().to_string())?;
        }
        if let Some(log) = shown(&self.log_file) {
            field("server log", log)?;
        }
        match (&self.server_version, shown(&self.bin_dir)) {
            (Some(version), Some(dir)) => field("server", format!("PostgreSQL {version} ({dir})"))?,
            (None, Some(dir)) => field("server", dir)?,
            _ => {}
        }
        if let Some(user) = &self.run_as {
            field("runs as", format!("OS user `{user}`"))?;
        }
        if !self.running && self.action != Some(ClusterAction::Stopped) {
            writeln!(out, "  start it with `confiture db start`")?;
        }
        Ok(())
    }
}
