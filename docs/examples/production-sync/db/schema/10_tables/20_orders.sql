-- Orders reference their customer by email: anonymizing customers.email rewrites
-- orders.customer_email the same way (foreign-key propagation), so the key still joins.
CREATE TABLE orders (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_email   text NOT NULL REFERENCES customers (email),
    total_cents      bigint NOT NULL,
    shipping_address text,
    client_ip        inet,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_email_idx ON orders (customer_email);
