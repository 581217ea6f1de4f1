//! WASM lint rules (`tenant-lint`, and the hostile `panics` plugin) through `confiture lint`:
//! found in the plugins directory or given with `--rules`, their findings go through the same
//! configuration, suppression, exclusion and output path as built-in rules, and a failing
//! plugin is reported without failing the run.

use crate::harness::TestProject;
use crate::plugins_support::{component, hostile};

const SCHEMA: &str = "CREATE TABLE public.orders (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    total numeric NOT NULL\n);\n\n-- confiture-lint: disable=tenant_id_required\nCREATE TABLE public.countries (\n    code text PRIMARY KEY\n);\n";

fn project_with_schema() -> TestProject {
    let project = TestProject::new();
    project.write("db/schema/10_tables/orders.sql", SCHEMA);
    project
}

fn tenant_findings(report: &serde_json::Value) -> Vec<&serde_json::Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "tenant_id_required")
        .collect()
}

#[test]
fn plugin_rules_from_the_plugins_directory_run_like_built_ins() {
    let project = project_with_schema();
    std::fs::create_dir_all(project.root().join("plugins")).unwrap();
    std::fs::copy(
        component("tenant-lint"),
        project.root().join("plugins/tenant-lint.wasm"),
    )
    .expect("copy the plugin");

    let report = project.run(&["lint", "--format", "json"]).json();
    let found = tenant_findings(&report);
    // `countries` is suppressed by the comment above it; `orders` is reported where it is.
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(found[0]["category"], "structure");
    assert_eq!(
        found[0]["location"]["file"],
        "db/schema/10_tables/orders.sql"
    );
    assert_eq!(found[0]["location"]["line"], 1);
    assert!(
        found[0]["message"].as_str().unwrap().contains("orders"),
        "{report:#}"
    );
    assert!(
        report["summary"]["suppressed"].as_u64().unwrap() >= 1,
        "{report:#}"
    );

    let listed = project.run(&["lint", "--list-rules"]);
    assert!(
        listed.stdout.contains("tenant_id_required"),
        "{}",
        listed.stdout
    );

    let excluded = project
        .run(&[
            "lint",
            "--format",
            "json",
            "--exclude-rules",
            "tenant_id_required",
        ])
        .json();
    assert!(tenant_findings(&excluded).is_empty(), "{excluded:#}");

    project.write(
        "db/environments/local.yaml",
        &format!(
            "database_url: {}\nlinting:\n  rules:\n    tenant_id_required: critical\n",
            project.db.url
        ),
    );
    let strict = project.run(&["lint", "--format", "json"]);
    assert_eq!(
        strict.code, 1,
        "a critical plugin finding fails the run: {}",
        strict.stdout
    );
    assert_eq!(tenant_findings(&strict.json())[0]["severity"], "critical");

    let sarif = project.run(&["lint", "--format", "sarif"]);
    assert!(
        sarif.stdout.contains("\"tenant_id_required\""),
        "{}",
        sarif.stdout
    );
}

#[test]
fn rules_flag_takes_a_component_or_a_directory() {
    let project = project_with_schema();
    let file = component("tenant-lint");
    let by_file = project
        .run(&[
            "lint",
            "--format",
            "json",
            "--rules",
            file.to_str().unwrap(),
        ])
        .json();
    assert_eq!(tenant_findings(&by_file).len(), 1, "{by_file:#}");

    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&file, dir.path().join("tenant-lint.wasm")).unwrap();
    let by_dir = project
        .run(&[
            "lint",
            "--format",
            "json",
            "--rules",
            dir.path().to_str().unwrap(),
        ])
        .json();
    assert_eq!(tenant_findings(&by_dir).len(), 1, "{by_dir:#}");

    let missing = project.run(&["lint", "--rules", "no/such/dir"]);
    assert_eq!(missing.code, 5, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("--rules no/such/dir"),
        "{}",
        missing.stderr
    );
}

#[test]
fn a_failing_rule_plugin_is_reported_and_the_run_goes_on() {
    let project = project_with_schema();
    let report = project.run(&[
        "lint",
        "--format",
        "json",
        "--rules",
        hostile("panics").to_str().unwrap(),
        "--rules",
        component("tenant-lint").to_str().unwrap(),
    ]);
    // The panic is a warning-level finding, so the run passes at the default fail level.
    assert_eq!(report.code, 0, "{}\n{}", report.stdout, report.stderr);
    let report = report.json();
    let failure = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "hostile_panics")
        .unwrap_or_else(|| panic!("the plugin failure is reported: {report:#}"));
    let message = failure["message"].as_str().unwrap();
    assert!(message.contains("plugin hostile-panics"), "{message}");
    assert!(message.contains("panicked"), "{message}");
    assert!(message.contains("did not run"), "{message}");
    // The other plugin and the built-in rules still ran.
    assert_eq!(tenant_findings(&report).len(), 1, "{report:#}");
    assert!(report["rules_run"].as_u64().unwrap() > 40, "{report:#}");
}

/// Lint plugins fail closed: a change cannot switch a critical rule off by making its plugin
/// fail. Each rule of the failing plugin reports that it did not run, at its own severity.
#[test]
fn a_failing_critical_rule_fails_the_run() {
    let project = project_with_schema();
    let rules = hostile("critical-rule");
    let run = project.run(&[
        "lint",
        "--format",
        "json",
        "--rules",
        rules.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let finding = |rule: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule)
            .unwrap_or_else(|| panic!("{rule} reports its failure: {report:#}"))
            .clone()
    };
    let gate = finding("hostile_critical_gate");
    assert_eq!(gate["severity"], "critical", "{gate:#}");
    let message = gate["message"].as_str().unwrap();
    assert!(
        message.contains("rule hostile_critical_gate of plugin hostile-critical-rule did not run"),
        "{message}"
    );
    assert!(message.contains("panicked"), "{message}");
    assert_eq!(finding("hostile_style_note")["severity"], "warning");
    assert!(
        report["summary"]["critical"].as_u64().unwrap() >= 1,
        "{report:#}"
    );

    // The text report says the same and exits 1 as well.
    let text = project.run(&["lint", "--rules", rules.to_str().unwrap()]);
    assert_eq!(text.code, 1, "{}\n{}", text.stdout, text.stderr);
    assert!(
        text.stdout.contains("hostile_critical_gate"),
        "{}",
        text.stdout
    );
}
