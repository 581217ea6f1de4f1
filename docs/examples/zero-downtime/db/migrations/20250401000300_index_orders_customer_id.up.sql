-- confiture: no-transaction
-- CREATE INDEX CONCURRENTLY cannot run inside a transaction block: the first line above makes
-- Confiture run this file outside one. Reads and writes go on while the index builds.
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
