//! Hook plugin `email-not-null-hook` (event `post-execute`, asks `db-read`): fails the migration when
//! `SELECT count(*) FROM <table> WHERE <column> IS NULL` finds rows — inside the migration's
//! transaction, so the migration is rolled back before anyone sees users without an email.
//! Config keys: `table` (default `users`, may be `schema.table`), `column` (default `email`).

use confiture_sdk::{
    Capability, Database, Error, Hook, HookContext, HookEvent, Plugin, Result, config_or,
};

/// The plugin.
#[derive(Default)]
pub struct EmailNotNull;

impl Plugin for EmailNotNull {
    const NAME: &'static str = "email-not-null-hook";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Fails a migration that leaves users without an email";
    const CAPABILITIES: &'static [Capability] = &[Capability::DbRead];
}

impl Hook for EmailNotNull {
    const EVENTS: &'static [HookEvent] = &[HookEvent::PostExecute];

    fn handle(&self, context: &HookContext, db: &Database) -> Result<()> {
        let table = config_or("table", "users");
        let column = config_or("column", "email");
        let sql = format!(
            "SELECT count(*) FROM {} WHERE {} IS NULL",
            quote_qualified(&table),
            quote_ident(&column)
        );
        let rows = db.query(&sql, &[])?;
        let count: u64 = rows
            .scalar()
            .and_then(|count| count.parse().ok())
            .ok_or_else(|| Error::new(format!("`{sql}` returned no count")))?;
        let migration = context.migration.as_ref().map_or_else(String::new, |m| {
            format!(" after migration {}_{}", m.version, m.name)
        });
        if count > 0 {
            return Err(Error::new(format!(
                "{count} row(s) of {table} have a NULL {column}{migration}; \
                 fill them in (or make the migration do so) before applying it"
            )));
        }
        confiture_sdk::debug!("{table}.{column} has no NULLs{migration}");
        Ok(())
    }
}

/// `name` as a quoted SQL identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `schema.table` or `table`, each part quoted.
fn quote_qualified(name: &str) -> String {
    name.split('.')
        .map(quote_ident)
        .collect::<Vec<_>>()
        .join(".")
}

confiture_sdk::export_plugin!(EmailNotNull: hook);

#[cfg(test)]
mod tests {
    use super::*;
    use confiture_sdk::{Rows, testing};

    fn run() -> Result<()> {
        EmailNotNull.handle(
            &HookContext::new(HookEvent::PostExecute),
            &testing::database(),
        )
    }

    #[test]
    fn passes_when_no_email_is_null() {
        testing::with_rows(Rows::single("count", Some("0")));
        run().unwrap();
        assert_eq!(
            testing::db_calls()[0].0,
            r#"SELECT count(*) FROM "users" WHERE "email" IS NULL"#
        );
    }

    #[test]
    fn fails_with_the_count() {
        testing::with_rows(Rows::single("count", Some("3")));
        let error = run().unwrap_err();
        assert!(
            error
                .message()
                .starts_with("3 row(s) of users have a NULL email"),
            "{error}"
        );
    }

    #[test]
    fn table_and_column_are_configurable_and_quoted() {
        testing::set_config("table", "crm.Contacts");
        testing::set_config("column", "e\"mail");
        testing::with_rows(Rows::single("count", Some("0")));
        run().unwrap();
        assert_eq!(
            testing::db_calls()[0].0,
            r#"SELECT count(*) FROM "crm"."Contacts" WHERE "e""mail" IS NULL"#
        );
    }

    #[test]
    fn a_database_error_fails_the_hook() {
        testing::on_query(|_, _| {
            Err(confiture_sdk::DbError {
                code: "not-granted".into(),
                message: "plugin email-not-null-hook lacks db-read".into(),
            })
        });
        let error = run().unwrap_err();
        assert!(error.message().contains("lacks db-read"), "{error}");
    }
}
