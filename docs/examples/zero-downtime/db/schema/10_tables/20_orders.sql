-- Orders point at their customer by id. (customer_email is the old link, kept until every
-- application release reads customer_id; a later "contract" migration drops it.)
CREATE TABLE orders (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_email text NOT NULL,
    customer_id    bigint,
    total_cents    bigint NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id),
    CONSTRAINT orders_customer_id_not_null CHECK (customer_id IS NOT NULL)
);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
