//! Lint rule `tenant_id_required` (structure, warning): every table has a `tenant_id` column,
//! so rows of a multi-tenant schema can always be scoped to their tenant. Config keys: `column`
//! (the column's name, default `tenant_id`) and `exempt` (a comma list of tables, `name` or
//! `schema.name`, e.g. lookup tables shared by all tenants).

use confiture_sdk::{Lint, LintContext, Plugin, RuleInfo, Severity, Violation, config, config_or};

/// The plugin.
#[derive(Default)]
pub struct TenantLint;

impl Plugin for TenantLint {
    const NAME: &'static str = "tenant-lint";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Every table must have a tenant_id column";
}

/// The rule.
pub const TENANT_ID_REQUIRED: RuleInfo = RuleInfo {
    id: "tenant_id_required",
    category: "structure",
    default_severity: Severity::Warning,
    description: "Every table must have a tenant_id column so its rows can be scoped to a tenant",
};

impl Lint for TenantLint {
    const RULES: &'static [RuleInfo] = &[TENANT_ID_REQUIRED];

    fn check(&self, context: &LintContext) -> Vec<Violation> {
        if !context.is_enabled(TENANT_ID_REQUIRED.id) {
            return Vec::new();
        }
        let column = config_or("column", "tenant_id");
        let exempt = config("exempt").unwrap_or_default();
        let exempt: Vec<&str> = exempt
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect();
        context
            .tables
            .iter()
            .filter(|table| {
                !exempt.contains(&table.name.as_str())
                    && !exempt.contains(&table.qualified_name().as_str())
            })
            .filter(|table| table.column(&column).is_none())
            .map(|table| {
                let name = table.qualified_name();
                Violation::new(
                    &TENANT_ID_REQUIRED,
                    format!("table {name} has no {column} column"),
                )
                .at(&table.location)
                .suggest(format!(
                    "add a {column} column, or list the table in this plugin's `exempt` config"
                ))
                .fix(format!("ALTER TABLE {name} ADD COLUMN {column} bigint;"))
            })
            .collect()
    }
}

confiture_sdk::export_plugin!(TenantLint: lint);

#[cfg(test)]
mod tests {
    use super::*;
    use confiture_sdk::lint::{Column, Location, Table};
    use confiture_sdk::testing;

    fn table(name: &str, columns: &[&str]) -> Table {
        Table {
            schema: "public".into(),
            name: name.into(),
            columns: columns
                .iter()
                .map(|c| Column {
                    name: c.to_string(),
                    type_name: "bigint".into(),
                    ..Column::default()
                })
                .collect(),
            location: Location {
                file: format!("db/schema/{name}.sql"),
                line: 1,
                column: 1,
            },
            ..Table::default()
        }
    }

    fn context(tables: Vec<Table>) -> LintContext {
        LintContext {
            tables,
            enabled_rules: vec!["tenant_id_required".into()],
            ..LintContext::default()
        }
    }

    #[test]
    fn reports_tables_without_tenant_id_with_a_fix() {
        let found = TenantLint.check(&context(vec![
            table("orders", &["id", "tenant_id"]),
            table("users", &["id"]),
        ]));
        assert_eq!(found.len(), 1);
        let v = &found[0];
        assert_eq!(v.rule_id, "tenant_id_required");
        assert_eq!(v.severity, Severity::Warning);
        assert_eq!(v.message, "table public.users has no tenant_id column");
        assert_eq!(v.location.as_ref().unwrap().file, "db/schema/users.sql");
        assert_eq!(
            v.fix.as_deref(),
            Some("ALTER TABLE public.users ADD COLUMN tenant_id bigint;")
        );
    }

    #[test]
    fn column_name_and_exemptions_come_from_config() {
        testing::set_config("column", "org_id");
        testing::set_config("exempt", "countries, public.currencies");
        let found = TenantLint.check(&context(vec![
            table("orders", &["org_id"]),
            table("users", &["tenant_id"]),
            table("countries", &[]),
            table("currencies", &[]),
        ]));
        let messages: Vec<&str> = found.iter().map(|v| v.message.as_str()).collect();
        assert_eq!(messages, ["table public.users has no org_id column"]);
    }

    #[test]
    fn silent_when_the_rule_is_disabled() {
        let mut ctx = context(vec![table("users", &[])]);
        ctx.enabled_rules.clear();
        assert!(TenantLint.check(&ctx).is_empty());
    }
}
