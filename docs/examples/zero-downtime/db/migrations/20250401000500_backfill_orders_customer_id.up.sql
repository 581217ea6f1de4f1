-- confiture: no-transaction
-- Backfill in batches, each committed on its own: no row stays locked for long, and a rerun
-- picks up where it stopped (only rows still NULL are touched).
UPDATE orders o SET customer_id = c.id FROM customers c
 WHERE c.email = o.customer_email AND o.customer_id IS NULL AND o.id BETWEEN 1 AND 500;
UPDATE orders o SET customer_id = c.id FROM customers c
 WHERE c.email = o.customer_email AND o.customer_id IS NULL AND o.id > 500;
