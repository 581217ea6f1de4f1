//! One lint run: build the model once, run every enabled rule, then apply severities,
//! suppressions and the fail level.

use std::time::Instant;

use serde::Serialize;

use super::config::LintConfig;
use super::registry::Registry;
use super::rule::{Category, LintContext, Rule, Severity, Violation};
use super::rules::UNKNOWN_SUPPRESSION;
use super::suppress::Suppressions;
use crate::sql::SqlFile;

/// The JSON report's schema version; bumped only on incompatible changes.
pub const REPORT_VERSION: u32 = 1;

/// Where a finding is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingLocation {
    /// File, relative to the project root.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

/// A finding after configuration and suppressions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule that found it.
    pub rule: String,
    /// The rule's category.
    pub category: Category,
    /// Severity after configuration overrides.
    pub severity: Severity,
    /// What is wrong and why it matters.
    pub message: String,
    /// Where, when known.
    pub location: Option<FindingLocation>,
    /// How to fix it.
    pub suggestion: Option<String>,
    /// The fix as SQL, when mechanical.
    pub fix: Option<String>,
}

/// Counts by severity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Critical findings.
    pub critical: usize,
    /// Warnings.
    pub warning: usize,
    /// Informational findings.
    pub info: usize,
    /// Findings silenced by suppression comments.
    pub suppressed: usize,
}

/// The result of `confiture lint` (the JSON output, schema version [`REPORT_VERSION`]).
#[derive(Debug, Clone, Serialize)]
pub struct LintReport {
    /// Schema version of this document.
    pub version: u32,
    /// The files linted, in model order.
    pub files: Vec<String>,
    /// Statements read across those files.
    pub statements: usize,
    /// Rules that ran.
    pub rules_run: usize,
    /// The PostgreSQL major version the version-dependent rules assumed
    /// (`linting.postgres_version`, else [`crate::risk::DEFAULT_POSTGRES_VERSION`]).
    pub postgres_version: u32,
    /// Findings, sorted by file, line, column and rule.
    pub findings: Vec<Finding>,
    /// Counts.
    pub summary: Summary,
    /// The severity at which the run fails.
    pub fail_level: Severity,
    /// True when some finding reached the fail level (exit code 1).
    pub failed: bool,
    /// Wall time of the analysis, in milliseconds.
    pub elapsed_ms: u64,
}

/// Lints `files` (already parsed, in model order).
pub fn lint(
    files: &[SqlFile],
    registry: &Registry,
    config: &LintConfig,
    fail_level: Severity,
) -> LintReport {
    let started = Instant::now();
    let settings = crate::risk::Settings {
        postgres_version: config.options.postgres_version,
    };
    let (model, risks) = crate::risk::assess_files(files, settings);
    let ctx = LintContext::new(&model, files, &config.options, &risks);
    let (suppressions, unknown) = Suppressions::collect(files, registry);

    let mut summary = Summary::default();
    let mut findings = Vec::new();
    let mut keep = |rule: &dyn Rule, v: Violation, summary: &mut Summary| {
        if suppressions.silences(rule, v.location.as_ref()) {
            summary.suppressed += 1;
            return;
        }
        let severity = config.severity(&v.rule_id, v.severity);
        match severity {
            Severity::Critical => summary.critical += 1,
            Severity::Warning => summary.warning += 1,
            Severity::Info => summary.info += 1,
        }
        findings.push(Finding {
            rule: v.rule_id,
            category: rule.category(),
            severity,
            message: v.message,
            location: v.location.map(|l| FindingLocation {
                file: l.file,
                line: l.line,
                column: l.column,
            }),
            suggestion: v.suggestion,
            fix: v.fix,
        });
    };
    let enabled: Vec<&dyn Rule> = registry
        .rules()
        .iter()
        .map(|r| r.as_ref())
        .filter(|r| config.is_enabled(r.id()))
        .collect();
    let rules_run = enabled.len();
    for (rule, violations) in enabled.iter().zip(check_all(&enabled, &ctx)) {
        for violation in violations {
            keep(*rule, violation, &mut summary);
        }
    }
    if config.is_enabled(UNKNOWN_SUPPRESSION)
        && let Some(rule) = registry.get(UNKNOWN_SUPPRESSION)
    {
        for violation in unknown {
            keep(rule, violation, &mut summary);
        }
    }

    fn position(f: &Finding) -> Option<(&str, u32, u32)> {
        f.location
            .as_ref()
            .map(|l| (l.file.as_str(), l.line, l.column))
    }
    findings.sort_by(|a, b| {
        position(a)
            .cmp(&position(b))
            .then_with(|| a.rule.cmp(&b.rule))
    });
    let failed = findings.iter().any(|f| f.severity >= fail_level);
    LintReport {
        version: REPORT_VERSION,
        files: files.iter().map(|f| f.path.clone()).collect(),
        statements: files.iter().map(|f| f.statements.len()).sum(),
        rules_run,
        postgres_version: settings.postgres_version,
        findings,
        summary,
        fail_level,
        failed,
        elapsed_ms: started.elapsed().as_millis() as u64,
    }
}

/// Statements worth a rule thread of their own.
const STATEMENTS_PER_THREAD: usize = 2_000;

/// Runs `rules` over `ctx` on as many threads as the project's size is worth; the result is in
/// `rules`' order.
fn check_all(rules: &[&dyn Rule], ctx: &LintContext<'_>) -> Vec<Vec<Violation>> {
    let statements = ctx.statements().count();
    let workers = crate::parallel::threads_for(statements, STATEMENTS_PER_THREAD);
    if workers == 1 {
        return rules.iter().map(|r| r.check(ctx)).collect();
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                scope.spawn(move || {
                    rules
                        .iter()
                        .enumerate()
                        .skip(w)
                        .step_by(workers)
                        .map(|(i, r)| (i, r.check(ctx)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut results: Vec<Vec<Violation>> = vec![Vec::new(); rules.len()];
        for handle in handles {
            for (i, found) in handle.join().expect("a rule thread panicked") {
                results[i] = found;
            }
        }
        results
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::config::{Source, resolve};
    use crate::project::settings::linting::LintingSettings;
    use crate::sql::parse_file;

    fn run(sql: &str, fail_level: Severity) -> LintReport {
        let registry = Registry::builtin();
        let source = Source {
            shown: "local.yaml",
            text: "",
        };
        let config = resolve(&LintingSettings::default(), &registry, &source, &[], true).unwrap();
        lint(
            &[parse_file("s.sql", sql, false)],
            &registry,
            &config,
            fail_level,
        )
    }

    #[test]
    fn findings_are_sorted_counted_and_suppressible() {
        let report = run(
            "CREATE TABLE b (id bigint, password text);\n\
             -- confiture-lint: disable=require-primary-key\n\
             CREATE TABLE a (id bigint PRIMARY KEY, created_at timestamptz, updated_at timestamptz);\n",
            Severity::Critical,
        );
        assert!(report.failed, "password-not-hashed is critical");
        let lines: Vec<u32> = report
            .findings
            .iter()
            .map(|f| f.location.as_ref().unwrap().line)
            .collect();
        assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.rule == "require-primary-key")
        );
        assert_eq!(
            report.summary.critical + report.summary.warning + report.summary.info,
            report.findings.len()
        );
        assert_eq!(report.version, REPORT_VERSION);
    }

    #[test]
    fn below_the_fail_level_passes() {
        let report = run(
            "CREATE TABLE a (id bigint PRIMARY KEY, doc json, created_at timestamptz, \
             updated_at timestamptz);",
            Severity::Critical,
        );
        assert!(!report.failed);
        assert!(report.summary.warning >= 1);
        let report = run(
            "CREATE TABLE a (id bigint PRIMARY KEY, doc json, created_at timestamptz, \
             updated_at timestamptz);",
            Severity::Warning,
        );
        assert!(report.failed);
    }
}
