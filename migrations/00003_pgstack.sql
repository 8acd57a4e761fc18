-- +goose Up

-- Schema pgstack: pgStack's own catalog (edge functions, and the migration
-- version table pgstack.schema_migrations, created by the server before the
-- migrations run). Only the server's own database role uses it: the API roles
-- and PUBLIC have no privilege on the schema or anything in it.

CREATE SCHEMA IF NOT EXISTS pgstack;

CREATE TABLE IF NOT EXISTS pgstack.edge_functions (
  name text NOT NULL,
  runtime text NOT NULL,
  verify_jwt boolean NOT NULL DEFAULT true,
  source text NULL,
  upstream_url text NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT edge_functions_pkey PRIMARY KEY (name),
  CONSTRAINT edge_functions_name_check CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$'),
  CONSTRAINT edge_functions_runtime_check CHECK (runtime IN ('embedded', 'plv8', 'plpython', 'deno', 'http')),
  CONSTRAINT edge_functions_http_upstream_check CHECK (runtime <> 'http' OR upstream_url IS NOT NULL)
);
COMMENT ON TABLE pgstack.edge_functions IS 'Edge functions served under /functions/v1/<name>.';
COMMENT ON COLUMN pgstack.edge_functions.verify_jwt IS 'When true, a request must carry a valid JWT (the anon key is enough).';
COMMENT ON COLUMN pgstack.edge_functions.upstream_url IS 'Target of runtime http: requests are forwarded to this URL.';

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION pgstack.touch_updated_at() RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;
-- +goose StatementEnd

DROP TRIGGER IF EXISTS edge_functions_touch_updated_at ON pgstack.edge_functions;
CREATE TRIGGER edge_functions_touch_updated_at
  BEFORE UPDATE ON pgstack.edge_functions
  FOR EACH ROW EXECUTE FUNCTION pgstack.touch_updated_at();

REVOKE ALL ON SCHEMA pgstack FROM anon, authenticated, service_role, PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA pgstack FROM anon, authenticated, service_role, PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA pgstack FROM anon, authenticated, service_role, PUBLIC;
REVOKE ALL ON FUNCTION pgstack.touch_updated_at() FROM anon, authenticated, service_role, PUBLIC;

-- +goose Down

-- The schema itself stays: it also holds the migration version table.
DROP TABLE IF EXISTS pgstack.edge_functions;
DROP FUNCTION IF EXISTS pgstack.touch_updated_at();
