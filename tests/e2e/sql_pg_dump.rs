//! The SQL analysis layer on real `pg_dump` output: a non-trivial database (schema, enum,
//! domain, sequences, serial and identity columns, partitions, a view, a materialized view, a
//! plpgsql function, a trigger, a policy, comments, partial and expression indexes, foreign
//! keys, rows) dumped with `--schema-only` and with its data, parsed and modelled without a
//! panic, and the model checked against the source SQL's own model.

use std::collections::BTreeSet;

use confiture::sql::{
    Location, SchemaModel, SqlFile, Statement, StatementKind, build_model, parse_file,
};

use crate::harness::{TestDb, pg_dump};

/// The database, as a team would write it.
const SHOP: &str = r#"
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE SCHEMA shop;
CREATE TYPE shop.order_status AS ENUM ('new', 'paid', 'shipped');
CREATE DOMAIN shop.email AS text CHECK (VALUE LIKE '%@%');
CREATE SEQUENCE shop.invoice_no START 1000;

CREATE TABLE shop.customers (
    id bigserial PRIMARY KEY,
    email shop.email NOT NULL,
    full_name varchar(200) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    score int4 CHECK (score >= 0),
    "Nick" text
);
CREATE UNIQUE INDEX customers_email_lower ON shop.customers (lower(email));

CREATE TABLE shop.products (
    sku text PRIMARY KEY,
    price numeric(10, 2) NOT NULL CHECK (price > 0),
    tags text[] DEFAULT '{}',
    discontinued_at timestamp
);

CREATE TABLE shop.orders (
    id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES shop.customers (id) ON DELETE CASCADE,
    status shop.order_status NOT NULL DEFAULT 'new',
    invoice bigint DEFAULT nextval('shop.invoice_no'),
    total numeric(12, 2),
    total_with_tax numeric(12, 2) GENERATED ALWAYS AS (total * 1.2) STORED,
    placed_at timestamptz DEFAULT now()
);
CREATE INDEX orders_customer ON shop.orders (customer_id);
CREATE INDEX orders_open ON shop.orders (placed_at) WHERE status <> 'shipped';

CREATE TABLE shop.order_lines (
    order_id int NOT NULL,
    sku text NOT NULL,
    qty smallint NOT NULL DEFAULT 1,
    CONSTRAINT order_lines_pk PRIMARY KEY (order_id, sku),
    CONSTRAINT order_lines_order_fk FOREIGN KEY (order_id) REFERENCES shop.orders (id),
    CONSTRAINT order_lines_sku_fk FOREIGN KEY (sku) REFERENCES shop.products (sku)
);

CREATE TABLE shop.events (
    id bigint NOT NULL,
    at timestamptz NOT NULL,
    payload jsonb,
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE shop.events_2024 PARTITION OF shop.events
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE shop.events_2025 PARTITION OF shop.events
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE INDEX events_payload ON shop.events USING gin (payload);

CREATE VIEW shop.customer_totals AS
    SELECT c.id, c.email, sum(o.total) AS total
    FROM shop.customers c LEFT JOIN shop.orders o ON o.customer_id = c.id
    GROUP BY c.id, c.email;
CREATE MATERIALIZED VIEW shop.daily_sales AS
    SELECT date_trunc('day', placed_at) AS day, sum(total) AS total
    FROM shop.orders GROUP BY 1;

CREATE FUNCTION shop.touch_customer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- keep the score sane; a semicolon in a comment;
    IF NEW.score IS NULL THEN
        NEW.score := 0;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER customers_touch BEFORE INSERT OR UPDATE ON shop.customers
    FOR EACH ROW EXECUTE FUNCTION shop.touch_customer();

ALTER TABLE shop.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_own ON shop.orders USING (customer_id > 0);

COMMENT ON TABLE shop.customers IS 'People who buy; kept 7 years';
COMMENT ON COLUMN shop.customers.email IS 'PII: contact address';

INSERT INTO shop.customers (email, full_name, score, "Nick") VALUES
    ('ada@example.com', 'Ada', 3, 'a	tab'), ('bob@example.com', 'Bob; Jr.', NULL, E'line\nbreak');
INSERT INTO shop.products VALUES ('SKU-1', 9.99, '{a,b}', NULL), ('SKU-2', 5.00, DEFAULT, now());
INSERT INTO shop.orders (customer_id, total) VALUES (1, 15.00), (2, 5.00);
INSERT INTO shop.order_lines VALUES (1, 'SKU-1', 1), (1, 'SKU-2', 1), (2, 'SKU-2', 1);
INSERT INTO shop.events VALUES (1, '2024-05-01', '{"k": "v;\\."}'), (2, '2025-02-01', NULL);
"#;

const TABLES: [&str; 7] = [
    "shop.customers",
    "shop.events",
    "shop.events_2024",
    "shop.events_2025",
    "shop.order_lines",
    "shop.orders",
    "shop.products",
];

fn shop_db() -> TestDb {
    let db = TestDb::new();
    db.client().batch_execute(SHOP).expect("create the shop");
    db
}

/// Every statement's location points at its text in `dump`.
fn assert_locations_match(file: &SqlFile, text: &str) {
    let lines: Vec<&str> = text.lines().collect();
    for s in &file.statements {
        let line = lines[s.location.line as usize - 1];
        let from: String = line.chars().skip(s.location.column as usize - 1).collect();
        let head: String = s.text.chars().take_while(|&c| c != '\n').collect();
        assert!(
            from.starts_with(&head),
            "statement at {} reads {from:?}, expected {head:?}",
            s.location
        );
    }
}

fn find<'f>(file: &'f SqlFile, starts_with: &str) -> &'f Statement {
    file.statements
        .iter()
        .find(|s| s.text.starts_with(starts_with))
        .unwrap_or_else(|| panic!("no statement starting with {starts_with:?}"))
}

/// The model without locations (they differ between a source file and a dump).
fn without_locations(model: &SchemaModel) -> SchemaModel {
    let mut model = model.clone();
    let nowhere = Location::default();
    for table in &mut model.tables {
        table.location = nowhere.clone();
        for column in &mut table.columns {
            column.location = nowhere.clone();
        }
        for fk in &mut table.foreign_keys {
            fk.location = nowhere.clone();
        }
    }
    for index in &mut model.indexes {
        index.location = nowhere.clone();
    }
    model
}

/// What the model must hold for the shop, whether read from the source or from a dump.
fn assert_shop_model(model: &SchemaModel) {
    let tables: BTreeSet<String> = model.tables.iter().map(|t| t.qualified()).collect();
    assert_eq!(tables, TABLES.iter().map(|t| t.to_string()).collect());

    let customers = model.table("shop.customers").expect("customers");
    let columns: Vec<(&str, &str, bool)> = customers
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.type_name.as_str(), c.nullable))
        .collect();
    assert_eq!(
        columns,
        [
            ("id", "bigint", false),
            ("email", "shop.email", false),
            ("full_name", "character varying(200)", false),
            ("created_at", "timestamp with time zone", false),
            ("score", "integer", true),
            ("Nick", "text", true),
        ]
    );
    let id = customers.column("id").unwrap();
    assert!(id.serial && !id.identity);
    assert_eq!(
        id.default.as_deref(),
        Some("nextval('shop.customers_id_seq'::REGCLASS)")
    );
    assert_eq!(customers.primary_key, ["id"]);
    assert_eq!(
        customers.comment.as_deref(),
        Some("People who buy; kept 7 years")
    );
    assert_eq!(
        customers.column("email").unwrap().comment.as_deref(),
        Some("PII: contact address")
    );
    assert_eq!(customers.checks.len(), 1, "{:?}", customers.checks);

    let orders = model.table("shop.orders").expect("orders");
    let id = orders.column("id").unwrap();
    assert_eq!(id.type_name, "integer");
    assert!(id.identity && !id.serial && !id.nullable);
    assert!(orders.column("total_with_tax").unwrap().generated);
    assert_eq!(
        orders.column("status").unwrap().type_name,
        "shop.order_status"
    );
    assert!(
        orders.column("invoice").unwrap().serial,
        "a nextval default"
    );
    let fk = &orders.foreign_keys[0];
    assert_eq!(
        (
            &fk.columns[..],
            fk.referenced_table.as_str(),
            &fk.referenced_columns[..]
        ),
        (
            &["customer_id".to_string()][..],
            "shop.customers",
            &["id".to_string()][..]
        )
    );

    let products = model.table("shop.products").expect("products");
    let types: Vec<&str> = products
        .columns
        .iter()
        .map(|c| c.type_name.as_str())
        .collect();
    assert_eq!(
        types,
        [
            "text",
            "numeric(10,2)",
            "text[]",
            "timestamp without time zone"
        ]
    );

    let lines = model.table("shop.order_lines").expect("order_lines");
    assert_eq!(lines.primary_key, ["order_id", "sku"]);
    let fks: BTreeSet<(Option<&str>, &str)> = lines
        .foreign_keys
        .iter()
        .map(|fk| (fk.name.as_deref(), fk.referenced_table.as_str()))
        .collect();
    assert_eq!(
        fks,
        BTreeSet::from([
            (Some("order_lines_order_fk"), "shop.orders"),
            (Some("order_lines_sku_fk"), "shop.products")
        ])
    );
    assert_eq!(lines.column("qty").unwrap().type_name, "smallint");

    for partition in ["shop.events_2024", "shop.events_2025"] {
        let t = model.table(partition).expect(partition);
        let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "at", "payload"], "{partition}");
        assert_eq!(t.primary_key, ["id", "at"], "{partition}");
    }

    let email = model
        .indexes
        .iter()
        .find(|i| i.name == "customers_email_lower")
        .expect("the expression index");
    assert!(email.unique && email.table == "shop.customers");
    assert!(
        email.columns[0].starts_with("lower("),
        "{:?}",
        email.columns
    );
    let open = model
        .indexes
        .iter()
        .find(|i| i.name == "orders_open")
        .unwrap();
    assert_eq!(open.columns, ["placed_at"]);
    assert!(
        open.predicate
            .as_deref()
            .unwrap()
            .contains("status <> 'shipped'")
    );
    assert_eq!(
        model
            .indexes_on("shop.events")
            .map(|i| &i.name)
            .collect::<Vec<_>>(),
        ["events_payload"]
    );
    assert!(
        model.indexes.iter().all(|i| !i.name.ends_with("_pkey")),
        "primary keys are not repeated as indexes"
    );
}

#[test]
fn the_source_sql_parses_completely_and_models_the_shop() {
    let source = parse_file("db/schema/shop.sql", SHOP, false);
    let unparsed: Vec<_> = source
        .statements
        .iter()
        .filter(|s| s.kind == StatementKind::Unparsed)
        .map(|s| &s.text)
        .collect();
    assert!(unparsed.is_empty(), "{unparsed:#?}");
    assert_locations_match(&source, SHOP);
    assert_shop_model(&build_model(&[source]));
}

#[test]
fn a_schema_only_pg_dump_parses_and_models_like_its_source() {
    let db = shop_db();
    let text = pg_dump(&db, &["--schema-only"]);
    let file = parse_file("dump/schema.sql", &text, false);
    assert_locations_match(&file, &text);

    let model = build_model(std::slice::from_ref(&file));
    assert_shop_model(&model);

    // The partitions' indexes PostgreSQL made itself are in the dump, and everything the
    // source declared is there with the same columns.
    let from_source = build_model(&[parse_file("shop.sql", SHOP, false)]);
    for table in &from_source.tables {
        let dumped = model.table(&table.qualified()).unwrap();
        let shape = |t: &confiture::sql::Table| {
            t.columns
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        c.type_name.clone(),
                        c.nullable,
                        c.identity,
                        c.generated,
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(shape(table), shape(dumped), "{}", table.qualified());
        assert_eq!(
            table.primary_key,
            dumped.primary_key,
            "{}",
            table.qualified()
        );
    }
    for index in &from_source.indexes {
        let dumped = model.indexes.iter().find(|i| i.name == index.name).unwrap();
        assert_eq!((&dumped.table, dumped.unique), (&index.table, index.unique));
    }
    assert!(model.indexes_on("shop.events_2024").count() == 1);

    // What sqlparser cannot read is kept, located, kinded, and does not stop the file; the
    // forms every dump writes are understood from their words, not reported as unparsed.
    let unparsed: Vec<&Statement> = file.statements.iter().filter(|s| s.ast.is_none()).collect();
    assert!(
        !unparsed.is_empty(),
        "pg_dump output has statements sqlparser cannot read"
    );
    let owned_by = find(&file, "ALTER SEQUENCE shop.customers_id_seq OWNED BY");
    assert_eq!(owned_by.kind, StatementKind::Other);
    assert_eq!(
        owned_by.guessed_kind, None,
        "not unparsed: nothing to guess"
    );
    assert!(owned_by.ast.is_none());
    let lines: Vec<&str> = text.lines().collect();
    for s in &unparsed {
        assert_eq!(s.guessed_kind.is_some(), s.kind == StatementKind::Unparsed);
        assert!(lines[s.location.line as usize - 1].starts_with(s.text.lines().next().unwrap()));
    }
    let first_unparsed = unparsed[0].location.line;
    assert!(
        file.statements
            .iter()
            .any(|s| s.location.line > first_unparsed && s.kind == StatementKind::AlterTable),
        "statements after an unparsed one are still parsed"
    );
    for (prefix, kind, guessed) in [
        (
            "CREATE FUNCTION shop.touch_customer",
            StatementKind::CreateFunction,
            "create-function",
        ),
        (
            "CREATE TRIGGER customers_touch",
            StatementKind::CreateTrigger,
            "create-trigger",
        ),
    ] {
        let s = find(&file, prefix);
        assert!(
            s.kind == kind
                || (s.kind == StatementKind::Unparsed
                    && s.guessed_kind.as_deref() == Some(guessed)),
            "{prefix}: {:?} {:?}",
            s.kind,
            s.guessed_kind
        );
    }
    assert_eq!(
        find(&file, "SET statement_timeout").kind,
        StatementKind::Set
    );
}

#[test]
fn a_full_pg_dump_with_copy_data_models_the_same_schema() {
    let db = shop_db();
    let schema_only = pg_dump(&db, &["--schema-only"]);
    let full = pg_dump(&db, &[]);
    let file = parse_file("dump/full.sql", &full, false);
    assert_locations_match(&file, &full);

    let copies: Vec<&Statement> = file
        .statements
        .iter()
        .filter(|s| s.text.starts_with("COPY "))
        .collect();
    assert_eq!(copies.len(), 6, "one COPY per table with rows");
    assert!(
        copies
            .iter()
            .all(|s| s.ast.is_some() && s.text.ends_with("FROM stdin"))
    );
    for data in ["ada@example.com", "Bob; Jr.", "SKU-1", r"v;\\\\."] {
        assert!(full.contains(data), "the dump holds {data}");
        assert!(
            file.statements.iter().all(|s| !s.text.contains(data)),
            "COPY data {data:?} became a statement"
        );
    }
    let setval = find(&file, "SELECT pg_catalog.setval('shop.customers_id_seq'");
    assert_eq!(setval.kind, StatementKind::Other);

    let model = build_model(std::slice::from_ref(&file));
    assert_shop_model(&model);
    let schema_model = build_model(&[parse_file("dump/schema.sql", &schema_only, false)]);
    assert_eq!(without_locations(&model), without_locations(&schema_model));
}
