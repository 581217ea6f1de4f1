-- Invoices belong to a tenant. Nullable first (no rewrite, no long lock); a backfill and
-- NOT NULL follow in later migrations.
ALTER TABLE invoices ADD COLUMN tenant_id bigint;
