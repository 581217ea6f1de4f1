-- Forgot the tenant: invoices of every customer end up in one pile.
CREATE TABLE invoices (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id   bigint NOT NULL REFERENCES projects (id),
    currency     text NOT NULL REFERENCES currencies (code),
    amount_cents bigint NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invoices_project_id_idx ON invoices (project_id);
CREATE INDEX invoices_currency_idx ON invoices (currency);
