CREATE TABLE customers (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      text NOT NULL UNIQUE,
    full_name  text NOT NULL,
    phone      text,
    birth_date date,
    created_at timestamptz NOT NULL DEFAULT now()
);
