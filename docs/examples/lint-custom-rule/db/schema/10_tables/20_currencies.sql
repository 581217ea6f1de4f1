-- A lookup table shared by every tenant: exempt from tenant_id_required (see local.yaml).
CREATE TABLE currencies (
    code       text PRIMARY KEY,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
