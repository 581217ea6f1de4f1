-- No personal data: copied as it is.
CREATE TABLE products (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL,
    price_cents bigint NOT NULL
);
