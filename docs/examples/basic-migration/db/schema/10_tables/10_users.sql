-- The current definition of `users`: what the migrations below add up to.
CREATE TABLE users (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      text NOT NULL UNIQUE,
    full_name  text NOT NULL,
    source     text NOT NULL DEFAULT 'signup',
    created_at timestamptz NOT NULL DEFAULT now()
);
