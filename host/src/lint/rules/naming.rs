//! Naming: snake_case identifiers, PostgreSQL's 63-byte limit, reserved words.

use std::borrow::Cow;

use sqlparser::ast::{ObjectName, SchemaName, Statement as Ast};

use super::{last_part, quote, show_table};
use crate::lint::rule::{BuiltinRule, Category, LintContext, Severity, Violation};
use crate::sql::Location;

/// PostgreSQL silently truncates identifiers longer than this many bytes (NAMEDATALEN - 1).
const MAX_IDENTIFIER_BYTES: usize = 63;

pub(super) fn rules() -> Vec<BuiltinRule> {
    vec![
        BuiltinRule {
            id: "naming-snake-case",
            category: Category::Naming,
            severity: Severity::Warning,
            description: "Identifiers (schemas, tables, columns, indexes, constraints, views, \
                          functions, types, sequences, triggers) should be lower-case \
                          snake_case: anything else must be double-quoted in every query, \
                          forever.",
            check: snake_case,
        },
        BuiltinRule {
            id: "naming-identifier-length",
            category: Category::Naming,
            severity: Severity::Critical,
            description: "PostgreSQL truncates identifiers longer than 63 bytes without an \
                          error, so two long names can collide and migrations refer to names \
                          that do not exist.",
            check: length,
        },
        BuiltinRule {
            id: "naming-reserved-word",
            category: Category::Naming,
            severity: Severity::Warning,
            description: "Identifiers that are SQL reserved words (user, order, group, ...) \
                          must be quoted everywhere and break hand-written queries and tools.",
            check: reserved,
        },
    ]
}

/// A named thing the naming rules look at.
struct Named<'a> {
    kind: &'static str,
    name: Cow<'a, str>,
    /// The table it belongs to, for columns.
    owner: Option<&'a str>,
    location: &'a Location,
}

/// Every identifier the model and the statements declare.
fn identifiers<'a>(ctx: &LintContext<'a>) -> Vec<Named<'a>> {
    let mut found = Vec::new();
    for table in &ctx.model.tables {
        found.push(Named {
            kind: "table",
            name: Cow::Borrowed(&table.name),
            owner: None,
            location: &table.location,
        });
        for column in &table.columns {
            found.push(Named {
                kind: "column",
                name: Cow::Borrowed(&column.name),
                owner: Some(&table.name),
                location: &column.location,
            });
        }
        for fk in &table.foreign_keys {
            if let Some(name) = &fk.name {
                found.push(Named {
                    kind: "constraint",
                    name: Cow::Borrowed(name),
                    owner: Some(&table.name),
                    location: &fk.location,
                });
            }
        }
    }
    for index in &ctx.model.indexes {
        found.push(Named {
            kind: "index",
            name: Cow::Borrowed(&index.name),
            owner: None,
            location: &index.location,
        });
    }
    for statement in ctx.statements() {
        let Some(ast) = statement.ast.as_deref() else {
            continue;
        };
        let (kind, name): (&'static str, &ObjectName) = match ast {
            Ast::CreateView(v) => ("view", &v.name),
            Ast::CreateFunction(f) => ("function", &f.name),
            Ast::CreateTrigger(t) => ("trigger", &t.name),
            Ast::CreateType { name, .. } => ("type", name),
            Ast::CreateSequence { name, .. } => ("sequence", name),
            Ast::CreateSchema {
                schema_name: SchemaName::Simple(name) | SchemaName::NamedAuthorization(name, _),
                ..
            } => ("schema", name),
            _ => continue,
        };
        found.push(Named {
            kind,
            name: Cow::Owned(last_part(name)),
            owner: None,
            location: &statement.location,
        });
    }
    found
}

fn describe(named: &Named<'_>) -> String {
    match named.owner {
        Some(owner) => format!("{} `{}.{}`", named.kind, show_table(owner), named.name),
        None => format!("{} `{}`", named.kind, named.name),
    }
}

/// `lower_snake_case`: starts with a letter or `_`, then letters, digits and `_`.
pub fn is_snake_case(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `CamelCase`, `kebab-case` or `with spaces` as `snake_case`.
fn to_snake_case(name: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if previous_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            previous_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else if !out.ends_with('_') {
            out.push('_');
            previous_lower = false;
        }
    }
    let trimmed = out.trim_matches('_').to_string();
    if trimmed.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{trimmed}")
    } else {
        trimmed
    }
}

fn snake_case(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    identifiers(ctx)
        .into_iter()
        .filter(|n| !is_snake_case(&n.name))
        .map(|n| {
            let better = to_snake_case(&n.name);
            rule.at(
                n.location,
                format!(
                    "{} is not snake_case: it has to be double-quoted in every query",
                    describe(&n)
                ),
            )
            .suggest(format!("rename it to `{better}`"))
        })
        .collect()
}

fn length(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    identifiers(ctx)
        .into_iter()
        .filter(|n| n.name.len() > MAX_IDENTIFIER_BYTES)
        .map(|n| {
            let mut cut = MAX_IDENTIFIER_BYTES;
            while !n.name.is_char_boundary(cut) {
                cut -= 1;
            }
            rule.at(
                n.location,
                format!(
                    "{} is {} bytes long; PostgreSQL silently truncates it to `{}`",
                    describe(&n),
                    n.name.len(),
                    &n.name[..cut]
                ),
            )
            .suggest(format!(
                "use a name of at most {MAX_IDENTIFIER_BYTES} bytes"
            ))
        })
        .collect()
}

fn reserved(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    identifiers(ctx)
        .into_iter()
        .filter(|n| is_reserved(&n.name))
        .map(|n| {
            rule.at(
                n.location,
                format!(
                    "{} is the reserved word `{}`: it must be written {} in every query",
                    describe(&n),
                    n.name.to_uppercase(),
                    quote(&n.name)
                ),
            )
            .suggest(match n.kind {
                "table" => format!("rename it, e.g. to `{}s` or `app_{}`", n.name, n.name),
                _ => format!(
                    "rename it, e.g. to `{}_name` or a more specific word",
                    n.name
                ),
            })
        })
        .collect()
}

/// PostgreSQL's reserved key words (Appendix C: "reserved" and "reserved (can be function or
/// type)"), which cannot be used as identifiers without quotes.
const RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "binary",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "natural",
    "not",
    "notnull",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "overlaps",
    "placing",
    "primary",
    "references",
    "returning",
    "right",
    "select",
    "session_user",
    "similar",
    "some",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
];

/// True when `name` (compared case-insensitively) is a PostgreSQL reserved word.
pub fn is_reserved(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    RESERVED.binary_search(&lower.as_str()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn reserved_list_is_sorted_for_binary_search() {
        assert!(RESERVED.windows(2).all(|w| w[0] < w[1]));
        assert!(is_reserved("user") && is_reserved("ORDER") && !is_reserved("users"));
    }

    #[test]
    fn snake_case_fires_on_quoted_camel_case_of_every_kind() {
        let found = schema(
            "naming-snake-case",
            "CREATE TABLE \"UserAccounts\" (id bigint PRIMARY KEY, \"firstName\" text);\n\
             CREATE INDEX \"IdxName\" ON \"UserAccounts\" (\"firstName\");\n\
             CREATE VIEW \"ActiveUsers\" AS SELECT 1;\n",
        );
        let messages: Vec<&str> = found.iter().map(|v| v.message.as_str()).collect();
        assert_count(&found, 4);
        assert!(
            messages.iter().any(|m| m.contains("table `UserAccounts`")),
            "{messages:?}"
        );
        assert!(
            found
                .iter()
                .any(|v| v.suggestion.as_deref() == Some("rename it to `first_name`"))
        );
        assert!(messages.iter().any(|m| m.contains("view `ActiveUsers`")));
    }

    #[test]
    fn snake_case_near_miss_unquoted_names_fold_to_lower_case() {
        let found = schema(
            "naming-snake-case",
            "CREATE TABLE UserAccounts (id bigint PRIMARY KEY, first_name_2 text);",
        );
        assert_count(&found, 0);
    }

    #[test]
    fn identifier_length_over_63_bytes() {
        let long = "a".repeat(64);
        let found = schema(
            "naming-identifier-length",
            &format!("CREATE TABLE t (id bigint PRIMARY KEY, {long} text);"),
        );
        assert_count(&found, 1);
        assert!(found[0].message.contains("64 bytes"));
        let ok = "a".repeat(63);
        let found = schema(
            "naming-identifier-length",
            &format!("CREATE TABLE t (id bigint PRIMARY KEY, {ok} text);"),
        );
        assert_count(&found, 0);
    }

    #[test]
    fn reserved_words_fire_and_near_misses_do_not() {
        let found = schema(
            "naming-reserved-word",
            "CREATE TABLE \"user\" (id bigint PRIMARY KEY, \"order\" int);",
        );
        assert_count(&found, 2);
        let found = schema(
            "naming-reserved-word",
            "CREATE TABLE users (id bigint PRIMARY KEY, order_id int);",
        );
        assert_count(&found, 0);
    }

    #[test]
    fn to_snake_case_examples() {
        assert_eq!(to_snake_case("firstName"), "first_name");
        assert_eq!(to_snake_case("HTTPLog"), "httplog");
        assert_eq!(to_snake_case("my-table"), "my_table");
        assert_eq!(to_snake_case("2fa"), "_2fa");
    }
}
