-- NOT VALID: the constraints hold for new and updated rows at once; existing rows are not
-- scanned, so the lock is brief. They are validated after the backfill.
ALTER TABLE orders
    ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
ALTER TABLE orders
    ADD CONSTRAINT orders_customer_id_not_null CHECK (customer_id IS NOT NULL) NOT VALID;
