//! Structure: primary keys, timestamp columns, and the column types to prefer.

use super::{quote, show_table};
use crate::lint::rule::{BuiltinRule, Category, LintContext, Severity, Violation};
use crate::sql::{Column, Table};

pub(super) fn rules() -> Vec<BuiltinRule> {
    vec![
        BuiltinRule {
            id: "require-primary-key",
            category: Category::Structure,
            severity: Severity::Warning,
            description: "Every table needs a primary key: without one, rows cannot be \
                          addressed reliably, logical replication cannot replicate UPDATE and \
                          DELETE, and duplicates creep in.",
            check: primary_key,
        },
        BuiltinRule {
            id: "timestamp-columns",
            category: Category::Structure,
            severity: Severity::Info,
            description: "Tables should carry the configured timestamp columns (by default \
                          created_at and updated_at): they are what every incident \
                          investigation asks for first.",
            check: timestamps,
        },
        BuiltinRule {
            id: "prefer-timestamptz",
            category: Category::Structure,
            severity: Severity::Warning,
            description: "`timestamp` (without time zone) stores wall-clock time with no \
                          zone; values shift silently when the server or client zone changes. \
                          `timestamptz` stores an instant.",
            check: timestamptz,
        },
        BuiltinRule {
            id: "prefer-identity",
            category: Category::Structure,
            severity: Severity::Warning,
            description: "`serial` creates a separately owned sequence with loose permissions \
                          and odd dump/restore behaviour; `GENERATED ... AS IDENTITY` is the \
                          standard, owned replacement.",
            check: identity,
        },
        BuiltinRule {
            id: "prefer-bigint-keys",
            category: Category::Structure,
            severity: Severity::Warning,
            description: "An `integer` key runs out at 2,147,483,647; changing its type later \
                          rewrites the table and every referencing one under an exclusive \
                          lock. Use `bigint` from the start.",
            check: bigint_keys,
        },
        BuiltinRule {
            id: "prefer-jsonb",
            category: Category::Structure,
            severity: Severity::Warning,
            description: "`json` is stored as text, re-parsed on every access, cannot be \
                          indexed and has no equality operator (SELECT DISTINCT and UNION \
                          fail); `jsonb` has none of these problems.",
            check: jsonb,
        },
        BuiltinRule {
            id: "prefer-text-over-char",
            category: Category::Structure,
            severity: Severity::Warning,
            description: "`char(n)` pads values with spaces, wastes storage and compares \
                          surprisingly; use `text` (with a CHECK on length if needed).",
            check: char_type,
        },
    ]
}

/// Each column of each table, with its table.
fn columns<'a>(ctx: &LintContext<'a>) -> impl Iterator<Item = (&'a Table, &'a Column)> + 'a {
    ctx.model
        .tables
        .iter()
        .flat_map(|t| t.columns.iter().map(move |c| (t, c)))
}

fn alter_type(table: &Table, column: &Column, new_type: &str) -> String {
    format!(
        "ALTER TABLE {} ALTER COLUMN {} TYPE {new_type};",
        quote_table(table),
        quote(&column.name)
    )
}

fn quote_table(table: &Table) -> String {
    if table.schema == "public" {
        quote(&table.name)
    } else {
        format!("{}.{}", quote(&table.schema), quote(&table.name))
    }
}

fn primary_key(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    ctx.model
        .tables
        .iter()
        // A partition's keys are its parent's (the rule judges the parent).
        .filter(|t| t.primary_key.is_empty() && t.partition_of.is_none())
        .map(|t| {
            let v = rule.at(
                &t.location,
                format!("table `{}` has no primary key", show_table(&t.qualified())),
            );
            match t.column("id") {
                Some(_) => v.suggest("make `id` the primary key").fix(format!(
                    "ALTER TABLE {} ADD PRIMARY KEY (id);",
                    quote_table(t)
                )),
                None => v.suggest(
                    "add a key column: `id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY`",
                ),
            }
        })
        .collect()
}

fn timestamps(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let wanted = &ctx.options.timestamp_columns;
    ctx.model
        .tables
        .iter()
        .filter_map(|t| {
            let missing: Vec<&String> = wanted.iter().filter(|c| t.column(c).is_none()).collect();
            (!missing.is_empty()).then(|| {
                let names: Vec<String> = missing.iter().map(|c| format!("`{c}`")).collect();
                let fix: Vec<String> = missing
                    .iter()
                    .map(|c| {
                        format!(
                            "ALTER TABLE {} ADD COLUMN {} timestamptz NOT NULL DEFAULT now();",
                            quote_table(t),
                            quote(c)
                        )
                    })
                    .collect();
                rule.at(
                    &t.location,
                    format!(
                        "table `{}` has no {} column",
                        show_table(&t.qualified()),
                        names.join(" or ")
                    ),
                )
                .suggest("add the timestamp columns (or set `linting.timestamp_columns`)")
                .fix(fix.join("\n"))
            })
        })
        .collect()
}

fn timestamptz(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    columns(ctx)
        .filter(|(_, c)| {
            c.type_name == "timestamp"
                || c.type_name.starts_with("timestamp without time zone")
                || (c.type_name.starts_with("timestamp(")
                    && !c.type_name.contains("with time zone"))
        })
        .map(|(t, c)| {
            rule.at(
                &c.location,
                format!(
                    "column `{}.{}` is `{}`: it stores no time zone, so values shift when a \
                     session's zone differs",
                    show_table(&t.qualified()),
                    c.name,
                    c.type_name
                ),
            )
            .suggest("use `timestamptz` (timestamp with time zone)")
            .fix(alter_type(t, c, "timestamptz"))
        })
        .collect()
}

fn identity(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    columns(ctx)
        // A partition's columns are its parent's (the rule judges the parent).
        .filter(|(t, c)| c.serial && t.partition_of.is_none())
        .map(|(t, c)| {
            rule.at(
                &c.location,
                format!(
                    "column `{}.{}` is a serial: its sequence is a separate object with its \
                     own permissions",
                    show_table(&t.qualified()),
                    c.name
                ),
            )
            .suggest(format!(
                "declare it as `{} bigint GENERATED ALWAYS AS IDENTITY`",
                quote(&c.name)
            ))
        })
        .collect()
}

/// True for the 16- and 32-bit integer types.
fn is_small_int(type_name: &str) -> bool {
    matches!(
        type_name,
        "integer" | "int" | "int4" | "smallint" | "int2" | "serial" | "serial4" | "smallserial"
    )
}

fn bigint_keys(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for table in &ctx.model.tables {
        let [key] = table.primary_key.as_slice() else {
            continue;
        };
        let Some(column) = table.column(key) else {
            continue;
        };
        if is_small_int(&column.type_name) {
            found.push(
                rule.at(
                    &column.location,
                    format!(
                        "primary key `{}.{}` is `{}`: it runs out at about 2.1 billion rows, \
                         and widening it later rewrites the table under an exclusive lock",
                        show_table(&table.qualified()),
                        column.name,
                        column.type_name
                    ),
                )
                .suggest("use `bigint` (and `bigint` for the foreign keys referencing it)")
                .fix(alter_type(table, column, "bigint")),
            );
        }
    }
    found
}

fn jsonb(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    columns(ctx)
        .filter(|(_, c)| c.type_name == "json")
        .map(|(t, c)| {
            rule.at(
                &c.location,
                format!(
                    "column `{}.{}` is `json`: re-parsed on every read, not indexable, no \
                     equality operator",
                    show_table(&t.qualified()),
                    c.name
                ),
            )
            .suggest("use `jsonb`")
            .fix(alter_type(t, c, "jsonb"))
        })
        .collect()
}

fn char_type(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    columns(ctx)
        .filter(|(_, c)| {
            let element = c.type_name.trim_end_matches("[]");
            let base = element.split('(').next().unwrap_or_default().trim();
            matches!(base, "character" | "char" | "bpchar")
        })
        .map(|(t, c)| {
            rule.at(
                &c.location,
                format!(
                    "column `{}.{}` is `{}`: values are blank-padded to the length",
                    show_table(&t.qualified()),
                    c.name,
                    c.type_name
                ),
            )
            .suggest("use `text`, with a CHECK (length(...) <= n) if the limit matters")
            .fix(alter_type(t, c, "text"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::lint::rule::RuleOptions;

    #[test]
    fn primary_key_missing_and_added_later() {
        let found = schema("require-primary-key", "CREATE TABLE t (id bigint, v text);");
        assert_count(&found, 1);
        assert_eq!(
            found[0].fix.as_deref(),
            Some("ALTER TABLE t ADD PRIMARY KEY (id);")
        );
        let found = schema(
            "require-primary-key",
            "CREATE TABLE t (id bigint, v text);\nALTER TABLE t ADD PRIMARY KEY (id);",
        );
        assert_count(&found, 0);
    }

    #[test]
    fn timestamp_columns_are_configurable() {
        let sql = "CREATE TABLE t (id bigint PRIMARY KEY, created_at timestamptz);";
        let found = schema("timestamp-columns", sql);
        assert_count(&found, 1);
        assert!(
            found[0].message.contains("`updated_at`"),
            "{}",
            found[0].message
        );
        let options = RuleOptions {
            timestamp_columns: vec!["created_at".into()],
            ..RuleOptions::default()
        };
        assert_count(&run_with("timestamp-columns", &[sql], &[], &options), 0);
    }

    #[test]
    fn timestamptz_over_timestamp() {
        let found = schema(
            "prefer-timestamptz",
            "CREATE TABLE t (id bigint PRIMARY KEY, a timestamp, b timestamp(3) without time zone);",
        );
        assert_count(&found, 2);
        assert_eq!(
            found[0].fix.as_deref(),
            Some("ALTER TABLE t ALTER COLUMN a TYPE timestamptz;")
        );
        let found = schema(
            "prefer-timestamptz",
            "CREATE TABLE t (id bigint PRIMARY KEY, a timestamptz, b timestamp with time zone);",
        );
        assert_count(&found, 0);
    }

    #[test]
    fn identity_over_serial() {
        assert_count(
            &schema(
                "prefer-identity",
                "CREATE TABLE t (id bigserial PRIMARY KEY);",
            ),
            1,
        );
        assert_count(
            &schema(
                "prefer-identity",
                "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);",
            ),
            0,
        );
    }

    #[test]
    fn bigint_keys() {
        assert_count(
            &schema(
                "prefer-bigint-keys",
                "CREATE TABLE t (id integer PRIMARY KEY);",
            ),
            1,
        );
        assert_count(
            &schema(
                "prefer-bigint-keys",
                "CREATE TABLE t (id bigint PRIMARY KEY, n integer);",
            ),
            0,
        );
    }

    #[test]
    fn jsonb_over_json() {
        assert_count(
            &schema(
                "prefer-jsonb",
                "CREATE TABLE t (id bigint PRIMARY KEY, doc json);",
            ),
            1,
        );
        assert_count(
            &schema(
                "prefer-jsonb",
                "CREATE TABLE t (id bigint PRIMARY KEY, doc jsonb);",
            ),
            0,
        );
    }

    #[test]
    fn text_over_char() {
        assert_count(
            &schema(
                "prefer-text-over-char",
                "CREATE TABLE t (id bigint PRIMARY KEY, c char(2));",
            ),
            1,
        );
        assert_count(
            &schema(
                "prefer-text-over-char",
                "CREATE TABLE t (id bigint PRIMARY KEY, c varchar(2), d text);",
            ),
            0,
        );
    }
}
