-- An example table: edit it, or replace it with your own. Each file holds the current
-- definition of its objects; changes to a live database go through db/migrations/.
CREATE TABLE customers (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      text        NOT NULL UNIQUE,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE customers IS 'People who place orders.';
