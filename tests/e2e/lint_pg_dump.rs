//! `confiture lint` on a real `pg_dump --schema-only` of a non-trivial database: no crash,
//! statements the parser cannot read reported as `unparsed`, the rest linted, SARIF valid.

use crate::harness::{TestDb, pg_dump};
use crate::lint_output::LintProject;

const SCHEMA: &str = r#"
CREATE SCHEMA billing;
CREATE TYPE billing.status AS ENUM ('open', 'paid', 'void');
CREATE DOMAIN billing.money_cents AS bigint CHECK (VALUE >= 0);
CREATE SEQUENCE billing.invoice_no START 1000;
CREATE TABLE billing.customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    password text,
    created timestamp DEFAULT now()
);
CREATE TABLE billing.invoices (
    id bigserial PRIMARY KEY,
    no bigint NOT NULL DEFAULT nextval('billing.invoice_no'),
    customer_id bigint NOT NULL REFERENCES billing.customers (id) ON DELETE CASCADE,
    status billing.status NOT NULL DEFAULT 'open',
    total billing.money_cents NOT NULL,
    meta json,
    CONSTRAINT invoices_no_key UNIQUE (no)
);
CREATE INDEX invoices_status_idx ON billing.invoices (status) WHERE status <> 'void';
CREATE TABLE billing.events (id bigint NOT NULL, at timestamptz NOT NULL, payload jsonb)
    PARTITION BY RANGE (at);
CREATE TABLE billing.events_2025 PARTITION OF billing.events
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE VIEW billing.open_invoices AS SELECT * FROM billing.invoices WHERE status = 'open';
CREATE MATERIALIZED VIEW billing.totals AS
    SELECT customer_id, sum(total) AS total FROM billing.invoices GROUP BY customer_id;
CREATE FUNCTION billing.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.created := now();
    RETURN NEW;
END $$;
CREATE TRIGGER customers_touch BEFORE UPDATE ON billing.customers
    FOR EACH ROW EXECUTE FUNCTION billing.touch();
ALTER TABLE billing.customers CLUSTER ON customers_pkey;
COMMENT ON TABLE billing.customers IS 'Paying customers; contract.';
CREATE POLICY own_invoices ON billing.invoices USING (customer_id = 1);
ALTER TABLE billing.invoices ENABLE ROW LEVEL SECURITY;
"#;

#[test]
fn a_schema_only_pg_dump_lints_without_a_crash() {
    let db = TestDb::new();
    db.client()
        .batch_execute(SCHEMA)
        .expect("create the schema");
    let dump = pg_dump(&db, &["--schema-only", "--no-owner"]);

    let project = LintProject::new(&[("db/schema/dump.sql", &dump)]);
    let run = project.lint(&["--format", "json"]);
    assert!(
        matches!(run.code, 0 | 1),
        "exit {}\n{}",
        run.code,
        run.stderr
    );
    let doc = run.json();
    let findings = doc["findings"].as_array().unwrap();
    let rules: Vec<&str> = findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    // Findings from the model built out of the dump's CREATE/ALTER statements.
    for rule in [
        "password-not-hashed",
        "prefer-timestamptz",
        "prefer-jsonb",
        "fk-without-index",
    ] {
        assert!(rules.contains(&rule), "{rule} missing from {rules:?}");
    }
    // Every finding points into the dump.
    let lines = dump.lines().count() as u64;
    for f in findings {
        let line = f["location"]["line"].as_u64().unwrap();
        assert!(line >= 1 && line <= lines, "{f}");
    }
    let sarif = project.lint(&["--format", "sarif"]);
    assert!(matches!(sarif.code, 0 | 1));
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::draft4::new(&schema).unwrap();
    assert!(validator.is_valid(&sarif.json()));
}
