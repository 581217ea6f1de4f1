//! Suppression comments: `-- confiture-lint: disable=<rule>[,<rule>]` on the lines directly
//! above a statement silences those rules for findings inside that statement;
//! `-- confiture-lint: disable-file=<rule>[,...]` anywhere in a file silences them for the whole
//! file. A name may be a rule id, an alias or a category. Unknown names are reported.

use std::collections::HashMap;

use super::registry::{Registry, Target};
use super::rule::{Category, Rule, Severity, Violation};
use super::rules::UNKNOWN_SUPPRESSION;
use crate::sql::{Location, SqlFile};
use crate::strings::did_you_mean;

/// A resolved suppression target.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Silenced {
    Rule(String),
    Category(Category),
}

impl Silenced {
    fn covers(&self, rule_id: &str, category: Category) -> bool {
        match self {
            Silenced::Rule(id) => id == rule_id,
            Silenced::Category(c) => *c == category,
        }
    }
}

/// One statement's suppressions: its line span and what it silences.
#[derive(Debug)]
struct Span {
    first: u32,
    last: u32,
    silenced: Vec<Silenced>,
}

/// Every suppression of the linted files.
#[derive(Debug, Default)]
pub struct Suppressions {
    whole_file: HashMap<String, Vec<Silenced>>,
    /// Per file, sorted by first line.
    statements: HashMap<String, Vec<Span>>,
}

/// `disable=` or `disable-file=` and its names, when the comment is a suppression.
fn parse(comment: &str) -> Option<(bool, Vec<&str>)> {
    let text = comment.trim_start();
    let text = text.strip_prefix("--").unwrap_or(text).trim();
    let rest = text.strip_prefix("confiture-lint:")?.trim();
    let (whole_file, names) = if let Some(names) = rest.strip_prefix("disable-file=") {
        (true, names)
    } else {
        (false, rest.strip_prefix("disable=")?)
    };
    // Names separated by commas; the list ends at the first word that does not continue it,
    // so a reason may follow: `disable=drop-column (unused since 4.2)`.
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut names_found = Vec::new();
    let mut rest = names;
    loop {
        let trimmed = rest.trim_start();
        let end = trimmed.find(|c: char| !is_name(c)).unwrap_or(trimmed.len());
        if end == 0 {
            break;
        }
        names_found.push(&trimmed[..end]);
        match trimmed[end..].trim_start().strip_prefix(',') {
            Some(after) => rest = after,
            None => break,
        }
    }
    let names = names_found;
    Some((whole_file, names))
}

impl Suppressions {
    /// Reads the suppression comments of `files`; returns them and a violation for each name
    /// that is neither a rule nor a category.
    pub fn collect(files: &[SqlFile], registry: &Registry) -> (Self, Vec<Violation>) {
        let mut this = Suppressions::default();
        let mut unknown = Vec::new();
        let candidates = registry.names();
        let mut resolve = |file: &str, line: u32, names: Vec<&str>| -> Vec<Silenced> {
            let mut silenced = Vec::new();
            for name in names {
                match registry.target(name) {
                    Some(Target::Rule(id)) => silenced.push(Silenced::Rule(id.to_string())),
                    Some(Target::Category(c)) => silenced.push(Silenced::Category(c)),
                    None => {
                        let hint = did_you_mean(name, &candidates)
                            .map(|best| format!("did you mean `{best}`?"))
                            .unwrap_or_else(|| {
                                "`confiture lint --list-rules` lists every rule".to_string()
                            });
                        unknown.push(Violation {
                            rule_id: UNKNOWN_SUPPRESSION.to_string(),
                            severity: Severity::Warning,
                            message: format!(
                                "suppression names unknown rule `{name}`, so it silences nothing"
                            ),
                            location: Some(Location {
                                file: file.to_string(),
                                line,
                                column: 1,
                            }),
                            suggestion: Some(hint),
                            fix: None,
                        });
                    }
                }
            }
            silenced
        };
        for file in files {
            for (line, comment) in &file.file_comments {
                if let Some((true, names)) = parse(comment) {
                    let silenced = resolve(&file.path, *line, names);
                    this.whole_file
                        .entry(file.path.clone())
                        .or_default()
                        .extend(silenced);
                }
            }
            let mut spans = Vec::new();
            for statement in &file.statements {
                let mut silenced = Vec::new();
                for (line, comment) in &statement.comments_before {
                    if let Some((false, names)) = parse(comment) {
                        silenced.extend(resolve(&file.path, *line, names));
                    }
                }
                if !silenced.is_empty() {
                    let first = statement.location.line;
                    let lines = statement.text.lines().count().max(1) as u32;
                    spans.push(Span {
                        first,
                        last: first + lines - 1,
                        silenced,
                    });
                }
            }
            if !spans.is_empty() {
                spans.sort_by_key(|s| s.first);
                this.statements.insert(file.path.clone(), spans);
            }
        }
        (this, unknown)
    }

    /// True when a finding of `rule` at `location` is silenced.
    pub fn silences(&self, rule: &dyn Rule, location: Option<&Location>) -> bool {
        let Some(location) = location else {
            return false;
        };
        let (id, category) = (rule.id(), rule.category());
        if self
            .whole_file
            .get(&location.file)
            .is_some_and(|s| s.iter().any(|s| s.covers(id, category)))
        {
            return true;
        }
        let Some(spans) = self.statements.get(&location.file) else {
            return false;
        };
        // The last span starting at or before the line; spans do not overlap.
        let at = spans.partition_point(|s| s.first <= location.line);
        at > 0 && {
            let span = &spans[at - 1];
            location.line <= span.last && span.silenced.iter().any(|s| s.covers(id, category))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::parse_file;

    fn rule<'a>(registry: &'a Registry, id: &str) -> &'a dyn Rule {
        registry.get(id).unwrap()
    }

    fn at(file: &str, line: u32) -> Location {
        Location {
            file: file.into(),
            line,
            column: 1,
        }
    }

    #[test]
    fn parse_forms() {
        assert_eq!(
            parse("-- confiture-lint: disable=a, b"),
            Some((false, vec!["a", "b"]))
        );
        assert_eq!(
            parse("confiture-lint: disable-file=c"),
            Some((true, vec!["c"]))
        );
        assert_eq!(
            parse("-- confiture-lint: disable=drop-column (unused since 4.2, see #12)"),
            Some((false, vec!["drop-column"]))
        );
        assert_eq!(parse("-- just a comment"), None);
        assert_eq!(parse("-- confiture-lint: enable=a"), None);
    }

    #[test]
    fn statement_and_file_suppressions() {
        let registry = Registry::builtin();
        let sql = "CREATE TABLE a (id bigint);\n\
                   -- confiture-lint: disable=require-primary-key,naming\n\
                   CREATE TABLE b (\n  id bigint\n);\n\
                   CREATE TABLE c (id bigint);\n";
        let file = parse_file("s.sql", sql, false);
        let (s, unknown) = Suppressions::collect(&[file], &registry);
        assert!(unknown.is_empty());
        let pk = rule(&registry, "require-primary-key");
        assert!(!s.silences(pk, Some(&at("s.sql", 1))));
        assert!(s.silences(pk, Some(&at("s.sql", 3))));
        assert!(s.silences(pk, Some(&at("s.sql", 4))));
        assert!(s.silences(rule(&registry, "naming-snake-case"), Some(&at("s.sql", 4))));
        assert!(!s.silences(pk, Some(&at("s.sql", 6))));
        assert!(!s.silences(pk, Some(&at("other.sql", 3))));
        assert!(!s.silences(rule(&registry, "prefer-jsonb"), Some(&at("s.sql", 3))));

        let file = parse_file(
            "f.sql",
            "CREATE TABLE a (id bigint);\n-- confiture-lint: disable-file=structure\n",
            false,
        );
        let (s, _) = Suppressions::collect(&[file], &registry);
        assert!(s.silences(pk, Some(&at("f.sql", 1))));
        assert!(!s.silences(rule(&registry, "naming-snake-case"), Some(&at("f.sql", 1))));
    }

    #[test]
    fn unknown_names_are_reported_with_a_suggestion() {
        let registry = Registry::builtin();
        let file = parse_file(
            "s.sql",
            "-- confiture-lint: disable=require-primary-kye\nCREATE TABLE a (id bigint);\n",
            false,
        );
        let (_, unknown) = Suppressions::collect(&[file], &registry);
        assert_eq!(unknown.len(), 1);
        assert_eq!(unknown[0].location.as_ref().unwrap().line, 1);
        assert_eq!(
            unknown[0].suggestion.as_deref(),
            Some("did you mean `require-primary-key`?")
        );
    }
}
