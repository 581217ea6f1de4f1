//! Performance: foreign keys and lookup columns without an index, duplicate and redundant
//! indexes.

use super::{covers, quote, show_table};
use crate::lint::rule::{BuiltinRule, Category, LintContext, Severity, Violation};
use crate::sql::{Index, Table};

/// The rule behind the release notes' `performance.warn_missing_indices` setting.
pub const MISSING_LOOKUP_INDEX: &str = "missing-lookup-index";

pub(super) fn rules() -> Vec<BuiltinRule> {
    vec![
        BuiltinRule {
            id: "fk-without-index",
            category: Category::Performance,
            severity: Severity::Warning,
            description: "A foreign key whose columns do not lead some index makes every \
                          DELETE or key UPDATE on the referenced table scan the referencing \
                          one, and joins on it slow.",
            check: fk_without_index,
        },
        BuiltinRule {
            id: MISSING_LOOKUP_INDEX,
            category: Category::Performance,
            severity: Severity::Warning,
            description: "Columns the configuration names as lookup keys \
                          (linting.lookup_keys, by default email and username) are searched \
                          by value; without an index each lookup scans the table.",
            check: lookup_index,
        },
        BuiltinRule {
            id: "duplicate-index",
            category: Category::Performance,
            severity: Severity::Warning,
            description: "Two indexes (or an index and a primary key or unique constraint) \
                          on the same columns: the copy slows every write and takes space \
                          for nothing.",
            check: duplicate,
        },
        BuiltinRule {
            id: "redundant-index",
            category: Category::Performance,
            severity: Severity::Info,
            description: "An index whose columns are a prefix of another index on the same \
                          table: the longer one serves the same queries.",
            check: redundant,
        },
    ]
}

/// Column lists that serve lookups on a table: its plain indexes, primary key and unique keys.
/// The column lists of the table's keys and of the indexes that serve lookups by equality on
/// their leading columns: full indexes, and partial ones whose predicate only says some of
/// those columns are not NULL (true of any value looked up by equality).
fn key_lists<'a>(ctx: &LintContext<'a>, table: &'a Table) -> Vec<&'a [String]> {
    let serves_equality = |i: &Index| match (&i.predicate, &i.predicate_not_null) {
        (None, _) => true,
        (Some(_), Some(not_null)) => not_null.iter().all(|c| i.columns.contains(c)),
        (Some(_), None) => false,
    };
    let mut lists: Vec<&[String]> = ctx
        .indexes_on(&table.qualified())
        .iter()
        .filter(|i| serves_equality(i))
        .map(|i| i.columns.as_slice())
        .collect();
    if !table.primary_key.is_empty() {
        lists.push(&table.primary_key);
    }
    lists.extend(table.unique_keys.iter().map(Vec::as_slice));
    lists
}

fn create_index(table: &Table, columns: &[String]) -> String {
    let name = format!("{}_{}_idx", table.name, columns.join("_"));
    let cols: Vec<String> = columns.iter().map(|c| quote(c)).collect();
    let target = if table.schema == "public" {
        quote(&table.name)
    } else {
        format!("{}.{}", quote(&table.schema), quote(&table.name))
    };
    format!(
        "CREATE INDEX CONCURRENTLY {} ON {target} ({});",
        quote(&name),
        cols.join(", ")
    )
}

fn fk_without_index(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for table in &ctx.model.tables {
        if table.foreign_keys.is_empty() {
            continue;
        }
        let lists = key_lists(ctx, table);
        for fk in &table.foreign_keys {
            if lists.iter().any(|cols| covers(cols, &fk.columns)) {
                continue;
            }
            found.push(
                rule.at(
                    &fk.location,
                    format!(
                        "foreign key `{}` ({}) → `{}` has no index starting with its columns: \
                         deletes on `{}` scan `{}`",
                        show_table(&table.qualified()),
                        fk.columns.join(", "),
                        show_table(&fk.referenced_table),
                        show_table(&fk.referenced_table),
                        show_table(&table.qualified()),
                    ),
                )
                .suggest("index the foreign key's columns")
                .fix(create_index(table, &fk.columns)),
            );
        }
    }
    found
}

fn lookup_index(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for table in &ctx.model.tables {
        let mut lists = None;
        for key in &ctx.options.lookup_keys {
            let Some(column) = table.column(key) else {
                continue;
            };
            let lists = lists.get_or_insert_with(|| key_lists(ctx, table));
            let wanted = std::slice::from_ref(&column.name);
            if lists.iter().any(|cols| covers(cols, wanted)) {
                continue;
            }
            found.push(
                rule.at(
                    &column.location,
                    format!(
                        "missing index on `{}.{}`: it is a lookup key, so every lookup scans \
                         the table",
                        show_table(&table.qualified()),
                        column.name
                    ),
                )
                .suggest("index it (a unique index if values are unique)")
                .fix(create_index(table, wanted)),
            );
        }
    }
    found
}

/// `(name, columns)` of each index-like structure of a table, constraints first.
fn structures<'a>(table: &'a Table, indexes: &[&'a Index]) -> Vec<(String, &'a [String])> {
    let mut all: Vec<(String, &[String])> = Vec::new();
    if !table.primary_key.is_empty() {
        all.push(("the primary key".to_string(), &table.primary_key));
    }
    for key in &table.unique_keys {
        all.push((format!("the unique constraint ({})", key.join(", ")), key));
    }
    for index in indexes.iter().filter(|i| i.predicate.is_none()) {
        all.push((format!("index `{}`", index.name), &index.columns));
    }
    all
}

fn duplicate(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for table in &ctx.model.tables {
        let indexes = ctx.indexes_on(&table.qualified());
        if indexes.is_empty() {
            continue;
        }
        let all = structures(table, indexes);
        let constraints = all.len() - indexes.iter().filter(|i| i.predicate.is_none()).count();
        let plain: Vec<&&Index> = indexes.iter().filter(|i| i.predicate.is_none()).collect();
        for (k, index) in plain.iter().enumerate() {
            let me = constraints + k;
            let earlier = all[..me]
                .iter()
                .find(|(_, cols)| *cols == index.columns.as_slice());
            if let Some((other, _)) = earlier {
                found.push(
                    rule.at(
                        &index.location,
                        format!(
                            "index `{}` on `{}` ({}) duplicates {other}",
                            index.name,
                            show_table(&table.qualified()),
                            index.columns.join(", ")
                        ),
                    )
                    .suggest("drop the duplicate")
                    .fix(format!("DROP INDEX CONCURRENTLY {};", quote(&index.name))),
                );
            }
        }
    }
    found
}

fn redundant(rule: &BuiltinRule, ctx: &LintContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for table in &ctx.model.tables {
        let indexes = ctx.indexes_on(&table.qualified());
        if indexes.is_empty() {
            continue;
        }
        let all = structures(table, indexes);
        for index in indexes
            .iter()
            .filter(|i| i.predicate.is_none() && !i.unique)
        {
            let longer = all
                .iter()
                .find(|(_, cols)| cols.len() > index.columns.len() && covers(cols, &index.columns));
            if let Some((other, cols)) = longer {
                found.push(
                    rule.at(
                        &index.location,
                        format!(
                            "index `{}` ({}) is a prefix of {other} ({}), which serves the same \
                             lookups",
                            index.name,
                            index.columns.join(", "),
                            cols.join(", ")
                        ),
                    )
                    .suggest("drop the shorter index")
                    .fix(format!("DROP INDEX CONCURRENTLY {};", quote(&index.name))),
                );
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::lint::rule::RuleOptions;

    const PARENT: &str = "CREATE TABLE parents (id bigint PRIMARY KEY);\n";

    #[test]
    fn fk_without_index_fires_and_is_quiet_when_an_index_leads_with_it() {
        let child =
            "CREATE TABLE kids (id bigint PRIMARY KEY, parent_id bigint REFERENCES parents (id));";
        let found = schema("fk-without-index", &format!("{PARENT}{child}"));
        assert_count(&found, 1);
        assert_eq!(
            found[0].fix.as_deref(),
            Some("CREATE INDEX CONCURRENTLY kids_parent_id_idx ON kids (parent_id);")
        );
        // A partial index that only leaves out NULLs covers it; one that filters on
        // anything else does not.
        for (predicate, covered) in [
            ("parent_id IS NOT NULL", 0),
            ("parent_id IS NOT NULL AND id > 10", 1),
        ] {
            let index = format!("CREATE INDEX kids_parent ON kids (parent_id) WHERE {predicate};");
            assert_count(
                &run_with(
                    "fk-without-index",
                    &[&format!("{PARENT}{child}"), &index],
                    &[],
                    &RuleOptions::default(),
                ),
                covered,
            );
        }
        // An index in another file, leading with the FK column, covers it.
        let index = "CREATE INDEX kids_parent_idx ON kids (parent_id, id);";
        let found = run_with(
            "fk-without-index",
            &[&format!("{PARENT}{child}"), index],
            &[],
            &RuleOptions::default(),
        );
        assert_count(&found, 0);
        // An index where the FK column is not first does not.
        let found = schema(
            "fk-without-index",
            &format!("{PARENT}{child}\nCREATE INDEX k ON kids (id, parent_id);"),
        );
        assert_count(&found, 1);
    }

    #[test]
    fn fk_covered_by_composite_primary_key() {
        let found = schema(
            "fk-without-index",
            &format!(
                "{PARENT}CREATE TABLE links (parent_id bigint REFERENCES parents (id), n int, \
                 PRIMARY KEY (parent_id, n));"
            ),
        );
        assert_count(&found, 0);
    }

    #[test]
    fn lookup_keys_need_an_index() {
        let table = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);";
        assert_count(&schema(MISSING, table), 1);
        assert_count(
            &schema(
                MISSING,
                &format!("{table}\nCREATE UNIQUE INDEX u_email ON users (email);"),
            ),
            0,
        );
        assert_count(
            &schema(
                MISSING,
                "CREATE TABLE users (id bigint PRIMARY KEY, email text UNIQUE);",
            ),
            0,
        );
        let options = RuleOptions {
            lookup_keys: vec!["slug".into()],
            ..RuleOptions::default()
        };
        assert_count(&run_with(MISSING, &[table], &[], &options), 0);
    }

    const MISSING: &str = super::MISSING_LOOKUP_INDEX;

    #[test]
    fn duplicate_indexes_and_indexes_repeating_the_primary_key() {
        let found = schema(
            "duplicate-index",
            "CREATE TABLE t (id bigint PRIMARY KEY, a int, b int);\n\
             CREATE INDEX t_a ON t (a);\nCREATE INDEX t_a2 ON t (a);\nCREATE INDEX t_id ON t (id);",
        );
        assert_count(&found, 2);
        let found = schema(
            "duplicate-index",
            "CREATE TABLE t (id bigint PRIMARY KEY, a int, b int);\n\
             CREATE INDEX t_a ON t (a);\nCREATE INDEX t_ab ON t (a, b);\n\
             CREATE INDEX t_a_live ON t (a) WHERE b > 0;",
        );
        assert_count(&found, 0);
    }

    #[test]
    fn redundant_prefix_indexes() {
        let found = schema(
            "redundant-index",
            "CREATE TABLE t (id bigint PRIMARY KEY, a int, b int);\n\
             CREATE INDEX t_a ON t (a);\nCREATE INDEX t_ab ON t (a, b);",
        );
        assert_count(&found, 1);
        assert!(found[0].message.contains("`t_a`"));
        let found = schema(
            "redundant-index",
            "CREATE TABLE t (id bigint PRIMARY KEY, a int, b int);\n\
             CREATE UNIQUE INDEX t_a ON t (a);\nCREATE INDEX t_ba ON t (b, a);",
        );
        assert_count(&found, 0);
    }
}
