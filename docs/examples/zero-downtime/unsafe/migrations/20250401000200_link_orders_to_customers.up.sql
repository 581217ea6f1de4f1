-- The same change in one migration, one transaction: correct on an empty table, an outage on
-- a busy one. Every statement below holds its lock until the whole migration commits.
ALTER TABLE orders ADD COLUMN customer_id bigint;
UPDATE orders SET customer_id = (SELECT c.id FROM customers c WHERE c.email = orders.customer_email);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
ALTER TABLE orders
    ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
