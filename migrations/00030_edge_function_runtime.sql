-- +goose Up

-- Edge-function runtime support: invocation logs, a change notification that
-- makes every server reload its function registry, and the privileges that
-- let API roles call the in-database functions pgstack.fn_<name> (which run
-- as the caller). Tables in pgstack stay invisible to the API roles.

CREATE TABLE IF NOT EXISTS pgstack.edge_function_logs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  function_name text NOT NULL,
  request_id text NOT NULL DEFAULT '',
  method text NOT NULL,
  status integer NOT NULL,
  duration_ms double precision NOT NULL,
  error text NULL,
  console text NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS edge_function_logs_function_created_idx
  ON pgstack.edge_function_logs (function_name, created_at DESC, id DESC);
COMMENT ON TABLE pgstack.edge_function_logs IS 'One row per edge-function invocation: status, duration, error and console output.';

-- A statement-level trigger: one notification per change of the catalog, however
-- it was made (admin API, POST /api/sql, psql). The payload is empty; listeners
-- reload the whole (small) catalog.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION pgstack.notify_edge_functions_changed() RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  PERFORM pg_catalog.pg_notify('pgstack_edge_functions', '');
  RETURN NULL;
END
$$;
-- +goose StatementEnd

DROP TRIGGER IF EXISTS edge_functions_notify ON pgstack.edge_functions;
CREATE TRIGGER edge_functions_notify
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pgstack.edge_functions
  FOR EACH STATEMENT EXECUTE FUNCTION pgstack.notify_edge_functions_changed();

-- API roles may resolve pgstack.fn_<name>; EXECUTE is granted per function when
-- it is deployed. Nothing else in the schema is granted.
GRANT USAGE ON SCHEMA pgstack TO anon, authenticated, service_role;
REVOKE ALL ON pgstack.edge_function_logs FROM anon, authenticated, service_role, PUBLIC;
REVOKE ALL ON FUNCTION pgstack.notify_edge_functions_changed() FROM anon, authenticated, service_role, PUBLIC;

-- +goose Down

DROP TRIGGER IF EXISTS edge_functions_notify ON pgstack.edge_functions;
DROP FUNCTION IF EXISTS pgstack.notify_edge_functions_changed();
DROP TABLE IF EXISTS pgstack.edge_function_logs;
REVOKE USAGE ON SCHEMA pgstack FROM anon, authenticated, service_role;
