//! The case table (`cases/migrations.sql`): every construct the migration rules judge, with the
//! verdict each rule must give, and the check that risk classification and lint agree on every
//! migration statement of every case.

use std::collections::HashMap;

use super::testing::run_with;
use crate::lint::rule::{LintContext, Rule, RuleOptions, Severity};
use crate::risk::{self, Level};
use crate::sql::parse_file;

const CASES: &str = include_str!("cases/migrations.sql");

/// One case of the table.
#[derive(Debug)]
struct Case {
    /// The line of its header in the table.
    line: usize,
    rule: String,
    flag: bool,
    options: RuleOptions,
    no_transaction: bool,
    /// Squawk's verdict on the same construct, when Squawk has a rule for it.
    squawk: Option<bool>,
    /// Why our verdict differs from Squawk's, when it does.
    differs: Option<String>,
    before: String,
    migration: String,
}

fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    let mut section = "migration";
    for (n, line) in CASES.lines().enumerate() {
        if let Some(header) = line.strip_prefix("-- case: ") {
            let (words, differs) = match header.split_once(" differs: ") {
                Some((w, why)) => (w, Some(why.trim().to_string())),
                None => (header, None),
            };
            let mut words = words.split_whitespace();
            let rule = words.next().expect("a rule id").to_string();
            let flag = match words.next() {
                Some("flag") => true,
                Some("pass") => false,
                other => panic!("line {}: verdict {other:?}", n + 1),
            };
            let mut case = Case {
                line: n + 1,
                rule,
                flag,
                options: RuleOptions::default(),
                no_transaction: false,
                squawk: None,
                differs,
                before: String::new(),
                migration: String::new(),
            };
            for word in words {
                match word {
                    "no-transaction" => case.no_transaction = true,
                    "lock-timeout-off" => case.options.runner_sets_lock_timeout = false,
                    w if w.starts_with("pg=") => {
                        case.options.postgres_version = w[3..].parse().expect("pg=<major>");
                    }
                    w if w.starts_with("squawk=") => {
                        case.squawk = Some(w.ends_with(":flag"));
                    }
                    other => panic!("line {}: unknown option {other}", n + 1),
                }
            }
            cases.push(case);
            section = "migration";
            continue;
        }
        let Some(case) = cases.last_mut() else {
            continue;
        };
        match line {
            "-- before:" => section = "before",
            "-- migration:" => section = "migration",
            _ if section == "before" => {
                case.before.push_str(line);
                case.before.push('\n');
            }
            _ => {
                case.migration.push_str(line);
                case.migration.push('\n');
            }
        }
    }
    for case in &mut cases {
        if case.no_transaction {
            case.migration = format!("-- confiture: no-transaction\n{}", case.migration);
        }
    }
    cases
}

#[test]
fn every_case_gets_its_verdict() {
    let cases = cases();
    assert!(cases.len() > 200, "{} cases", cases.len());
    let mut wrong = Vec::new();
    for case in &cases {
        let found = run_with(
            &case.rule,
            &[&case.before],
            &[&case.migration],
            &case.options,
        );
        if found.is_empty() == case.flag {
            wrong.push(format!(
                "line {}: {} should {} but found {:#?}",
                case.line,
                case.rule,
                if case.flag { "flag" } else { "pass" },
                found
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn differences_from_squawk_are_explained() {
    let cases = cases();
    let compared: Vec<&Case> = cases.iter().filter(|c| c.squawk.is_some()).collect();
    let mut agree = 0;
    for case in &compared {
        let same = case.squawk == Some(case.flag);
        assert_eq!(
            same,
            case.differs.is_none(),
            "line {}: a verdict that differs from Squawk's says why, and only then",
            case.line
        );
        agree += usize::from(same);
    }
    // The figure quoted in docs/guides/schema-linting.md.
    println!("agree with Squawk on {agree} of {} cases", compared.len());
    assert!(
        agree * 100 >= compared.len() * 90,
        "{agree}/{}",
        compared.len()
    );
}

/// The severity lint gives a risk level.
fn severity_of(level: Level) -> Option<Severity> {
    match level {
        Level::Low => None,
        Level::High => Some(Severity::Warning),
        Level::Critical => Some(Severity::Critical),
    }
}

#[test]
fn risk_and_lint_agree_on_every_migration_statement() {
    let rules = super::builtin();
    let safety: Vec<&dyn Rule> = rules
        .iter()
        .filter(|r| !super::migration::effects_of(r.id).is_empty() || r.id == "unparsed")
        .map(|r| r as &dyn Rule)
        .collect();
    let mut statements = 0;
    for case in cases() {
        let files = vec![
            parse_file("db/schema/00.sql", &case.before, false),
            parse_file("db/migrations/001_m.up.sql", &case.migration, true),
        ];
        let settings = risk::Settings {
            postgres_version: case.options.postgres_version,
        };
        let (model, risks) = risk::assess_files(&files, settings);
        let ctx = LintContext::new(&model, &files, &case.options, &risks);
        let mut worst: HashMap<(u32, u32), Severity> = HashMap::new();
        for v in safety.iter().flat_map(|r| r.check(&ctx)) {
            let at = v.location.as_ref().expect("a located finding");
            let entry = worst.entry((at.line, at.column)).or_insert(v.severity);
            *entry = (*entry).max(v.severity);
        }
        let risk = risks[1].as_ref().expect("the migration is classified");
        for (s, (_, assessment)) in files[1].statements.iter().zip(&risk.statements) {
            statements += 1;
            let lint = worst
                .get(&(s.location.line, s.location.column))
                .copied()
                .filter(|&s| s > Severity::Info);
            assert_eq!(
                lint,
                severity_of(assessment.level),
                "cases line {}: `{}`: risk says {:?} ({:?}), lint says {lint:?}",
                case.line,
                s.text,
                assessment.level,
                assessment.reasons
            );
        }
    }
    assert!(statements > 250, "{statements} statements compared");
}
