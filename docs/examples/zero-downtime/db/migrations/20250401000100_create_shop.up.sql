-- The starting point: customers, and 1,000 orders that name their customer by email.
CREATE TABLE customers (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_email text NOT NULL,
    total_cents    bigint NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
INSERT INTO customers (email)
SELECT format('customer%s@example.org', n) FROM generate_series(1, 100) AS n;
INSERT INTO orders (customer_email, total_cents)
SELECT format('customer%s@example.org', 1 + n % 100), 100 * n FROM generate_series(1, 1000) AS n;
