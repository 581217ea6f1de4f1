-- A log of deployments, for the operators: not per tenant, and said so.
-- confiture-lint: disable=tenant_id_required (operators' table, no tenant data)
CREATE TABLE deploy_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
