-- Expand: a nullable column without a default is instant (no rewrite, a brief lock).
-- The application release that goes with it writes customer_id on every new order.
ALTER TABLE orders ADD COLUMN customer_id bigint;
