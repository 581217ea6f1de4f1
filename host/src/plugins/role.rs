//! `confiture plugins create-role`: a least-privilege role for plugins' SQL.
//!
//! The role cannot log in and holds no attribute (`NOSUPERUSER NOCREATEDB NOCREATEROLE
//! NOREPLICATION NOBYPASSRLS NOINHERIT`); it may read the tables of the given schemas (and, for
//! `--write`, insert, update and delete in them and use their sequences), including tables
//! created later by the user running the command (default privileges). A connection that is not
//! a superuser is granted the role, so it can switch to it.

use std::io::Write;

use serde::Serialize;
use tokio_postgres::error::SqlState;

use super::database::{identifier, literal};
use crate::context::Globals;
use crate::error::{ExitCode, Failure};
use crate::output::{Report, paint, style};

/// The role created when neither the command line nor the environment names one.
pub const DEFAULT_ROLE: &str = "confiture_plugin";

/// What `create-role` did.
#[derive(Debug, Serialize)]
pub struct RoleReport {
    /// The role.
    pub role: String,
    /// False when it existed already (its privileges were granted again).
    pub created: bool,
    /// `read` or `write`.
    pub access: &'static str,
    /// Schemas it may use.
    pub schemas: Vec<String>,
    /// The user granted membership, when the connection is not a superuser.
    pub granted_to: Option<String>,
    /// The statements run (or, with `--print-sql`, to run).
    pub sql: Vec<String>,
    /// True with `--print-sql`: nothing was run.
    pub printed_only: bool,
}

impl Report for RoleReport {
    fn render_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.printed_only {
            for statement in &self.sql {
                writeln!(out, "{statement};")?;
            }
            return Ok(());
        }
        let verb = if self.created { "Created" } else { "Updated" };
        writeln!(
            out,
            "{} role {} ({} access to schema(s) {})",
            paint(style::OK, verb),
            paint(style::BOLD, &self.role),
            self.access,
            self.schemas.join(", ")
        )?;
        if let Some(user) = &self.granted_to {
            writeln!(out, "  granted to {user}, so it can switch to the role")?;
        }
        writeln!(
            out,
            "  plugins' SQL runs as it with `plugin_sandbox: {{role: {}}}` (or \
             `plugins.<name>.role`) in the environment file",
            self.role
        )
    }
}

/// The statement that creates the role.
pub fn create_sql(role: &str) -> String {
    format!(
        "CREATE ROLE {} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS \
         NOINHERIT",
        identifier(role)
    )
}

/// The statements that grant the role what plugins need on `schemas`: read, and with `write`
/// also insert, update, delete and sequences; tables created later included.
pub fn grant_sql(role: &str, write: bool, schemas: &[String]) -> Vec<String> {
    let r = identifier(role);
    let mut sql = Vec::new();
    for schema in schemas {
        let s = identifier(schema);
        sql.push(format!("GRANT USAGE ON SCHEMA {s} TO {r}"));
        sql.push(format!("GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {r}"));
        sql.push(format!(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT SELECT ON TABLES TO {r}"
        ));
        if write {
            sql.push(format!(
                "GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}"
            ));
            sql.push(format!(
                "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {s} TO {r}"
            ));
            sql.push(format!(
                "ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT INSERT, UPDATE, DELETE ON TABLES TO {r}"
            ));
            sql.push(format!(
                "ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {r}"
            ));
        }
    }
    sql
}

/// What `confiture plugins create-role` is asked to do (its flags, as plain values).
#[derive(Debug, Clone, Default)]
pub struct CreateRoleRequest {
    /// The role (default: `plugin_sandbox.role` of the environment, else confiture_plugin).
    pub role: Option<String>,
    /// Also grant INSERT, UPDATE and DELETE.
    pub write: bool,
    /// Schemas whose tables the role may read (empty: public).
    pub schema: Vec<String>,
    /// Print the SQL instead of running it.
    pub print_sql: bool,
}

/// `confiture plugins create-role [ROLE]`.
pub async fn create_role(g: &Globals, args: &CreateRoleRequest) -> anyhow::Result<ExitCode> {
    let project = g.project()?;
    let role = args
        .role
        .clone()
        .or_else(|| project.env.plugin_sandbox.role.clone())
        .unwrap_or_else(|| DEFAULT_ROLE.to_string());
    if role.is_empty() || role.len() > 63 || role.contains('\0') {
        return Err(
            Failure::config(format!("`{}` is not a role name", role.escape_debug()))
                .hint("give 1 to 63 bytes")
                .into(),
        );
    }
    let schemas = if args.schema.is_empty() {
        vec!["public".to_string()]
    } else {
        args.schema.clone()
    };
    let access = if args.write { "write" } else { "read" };
    if args.print_sql {
        let mut sql = vec![create_sql(&role)];
        sql.extend(grant_sql(&role, args.write, &schemas));
        g.out.report(&RoleReport {
            sql,
            role,
            created: false,
            access,
            schemas,
            granted_to: None,
            printed_only: true,
        });
        return Ok(ExitCode::Ok);
    }
    let db = g.database(&project)?;
    let failed = |statement: &str, e: tokio_postgres::Error| -> anyhow::Error {
        Failure::new(
            ExitCode::Failure,
            format!(
                "`{statement}` failed on {}: {}",
                db.spec.redacted(),
                super::DbError::from(e)
            ),
        )
        .hint(
            "run it as a user that may create roles (a superuser, or one with CREATEROLE that \
             owns the schemas), or print the SQL with --print-sql for your DBA; nothing was \
             changed",
        )
        .into()
    };
    let mut client = db.spec.connect().await?;
    let tx = client.transaction().await?;
    let row = tx
        .query_one(
            &format!(
                "SELECT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {}), \
                 (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = session_user), \
                 session_user::text",
                literal(&role)
            ),
            &[],
        )
        .await?;
    let (mut exists, superuser, user): (bool, bool, String) = (row.get(0), row.get(1), row.get(2));
    let create = create_sql(&role);
    if !exists {
        // Another run may create it meanwhile: then it exists, which is what was asked.
        tx.batch_execute("SAVEPOINT confiture_create_role").await?;
        match tx.batch_execute(&create).await {
            Ok(()) => {
                tx.batch_execute("RELEASE SAVEPOINT confiture_create_role")
                    .await?
            }
            Err(e)
                if e.code().is_some_and(|c| {
                    *c == SqlState::DUPLICATE_OBJECT || *c == SqlState::UNIQUE_VIOLATION
                }) =>
            {
                tx.batch_execute("ROLLBACK TO SAVEPOINT confiture_create_role")
                    .await?;
                exists = true;
            }
            Err(e) => return Err(failed(&create, e)),
        }
    }
    let mut sql = grant_sql(&role, args.write, &schemas);
    if !superuser {
        sql.push(format!(
            "GRANT {} TO {}",
            identifier(&role),
            identifier(&user)
        ));
    }
    for statement in &sql {
        tx.batch_execute(statement)
            .await
            .map_err(|e| failed(statement, e))?;
    }
    tx.commit().await?;
    if !exists {
        sql.insert(0, create);
    }
    g.out.report(&RoleReport {
        role,
        created: !exists,
        access,
        schemas,
        granted_to: (!superuser).then_some(user),
        sql,
        printed_only: false,
    });
    Ok(ExitCode::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_sql_quotes_and_grants_per_schema() {
        assert_eq!(
            create_sql("plugin \"r\""),
            "CREATE ROLE \"plugin \"\"r\"\"\" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE \
             NOREPLICATION NOBYPASSRLS NOINHERIT"
        );
        assert_eq!(
            grant_sql("r", false, &["public".into()]),
            [
                "GRANT USAGE ON SCHEMA \"public\" TO \"r\"",
                "GRANT SELECT ON ALL TABLES IN SCHEMA \"public\" TO \"r\"",
                "ALTER DEFAULT PRIVILEGES IN SCHEMA \"public\" GRANT SELECT ON TABLES TO \"r\"",
            ]
        );
        assert_eq!(grant_sql("w", true, &["a".into(), "b".into()]).len(), 14);
    }
}
