//! SARIF 2.1.0 for code scanning: `tool.driver.rules` describes every rule that ran (id, help,
//! default level); each finding is a `result` with a `physicalLocation` region.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::lint::engine::LintReport;
use crate::lint::registry::Registry;
use crate::lint::rule::Severity;

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn help_uri(id: &str) -> String {
    format!(
        "{}/blob/main/docs/guides/schema-linting.md#{id}",
        env!("CARGO_PKG_REPOSITORY")
    )
}

/// The SARIF log.
pub fn render(report: &LintReport, registry: &Registry) -> String {
    // The whole registry, so rule indexes are stable across runs; results point at theirs.
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let rules: Vec<Value> = registry
        .rules()
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            index.insert(rule.id(), i);
            json!({
                "id": rule.id(),
                "name": rule.id(),
                "shortDescription": { "text": rule.description() },
                "fullDescription": { "text": rule.description() },
                "help": {
                    "text": format!(
                        "{} See docs/guides/schema-linting.md#{}.",
                        rule.description(),
                        rule.id()
                    )
                },
                "helpUri": help_uri(rule.id()),
                "defaultConfiguration": { "level": level(rule.default_severity()) },
                "properties": {
                    "category": rule.category().as_str(),
                    "tags": [rule.category().as_str()],
                },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut text = f.message.clone();
            if let Some(s) = &f.suggestion {
                text.push_str(". Fix: ");
                text.push_str(s);
            }
            let mut result = json!({
                "ruleId": f.rule,
                "level": level(f.severity),
                "message": { "text": text },
                "properties": { "severity": f.severity.as_str(), "category": f.category.as_str() },
            });
            if let Some(i) = index.get(f.rule.as_str()) {
                result["ruleIndex"] = json!(i);
            }
            if let Some(l) = &f.location {
                result["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": { "uri": relative_uri(&l.file), "uriBaseId": "%SRCROOT%" },
                        "region": { "startLine": l.line.max(1), "startColumn": l.column.max(1) },
                    }
                }]);
            }
            if let Some(fix) = &f.fix {
                result["properties"]["fix"] = json!(fix);
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "confiture",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "properties": { "postgresVersion": report.postgres_version },
            "results": results,
        }]
    });
    crate::output::json_document(&log)
}

/// A file path as a URI reference relative to `%SRCROOT%`: `./` and leading `/` dropped, `..`
/// and `.` segments removed (a location never points outside the project), every byte but
/// unreserved characters and `/` percent-encoded (RFC 3986), so spaces, newlines and `#`/`?`
/// stay part of the path.
fn relative_uri(path: &str) -> String {
    let mut uri = String::with_capacity(path.len());
    let segments = path
        .split(['/', '\\'])
        .filter(|s| !s.is_empty() && *s != "." && *s != "..");
    for (i, segment) in segments.enumerate() {
        if i > 0 {
            uri.push('/');
        }
        for byte in segment.bytes() {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                uri.push(byte as char);
            } else {
                uri.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    uri
}

#[cfg(test)]
mod uri_tests {
    use super::relative_uri;

    #[test]
    fn uris_are_relative_and_percent_encoded() {
        assert_eq!(
            relative_uri("db/schema/10 users.sql"),
            "db/schema/10%20users.sql"
        );
        assert_eq!(relative_uri("../../etc/passwd"), "etc/passwd");
        assert_eq!(relative_uri("/abs/x.sql"), "abs/x.sql");
        assert_eq!(relative_uri("./a\nb#?.sql"), "a%0Ab%23%3F.sql");
        assert_eq!(relative_uri("café.sql"), "caf%C3%A9.sql");
    }
}
