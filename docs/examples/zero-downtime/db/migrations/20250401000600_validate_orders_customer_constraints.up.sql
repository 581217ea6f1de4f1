-- A later migration than the one that added them NOT VALID: VALIDATE scans the table under a
-- SHARE UPDATE EXCLUSIVE lock, so reads and writes go on.
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_not_null;
