-- +goose Up

-- The REST schema cache reloads when anything sends NOTIFY pgrst, 'reload
-- schema' (PostgREST's convention). These event triggers send it after every
-- DDL command and every drop, so a migration, a CREATE TABLE in the SQL
-- editor or Studio is visible at /rest/v1 without a restart. Event triggers
-- need a superuser; on a database where the migrating role is not one, the
-- triggers are skipped with a notice and NOTIFY pgrst, 'reload schema' has
-- to be sent by hand after DDL.

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION pgstack.rest_schema_changed() RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
  NOTIFY pgrst, 'reload schema';
END
$$;
-- +goose StatementEnd

REVOKE ALL ON FUNCTION pgstack.rest_schema_changed() FROM anon, authenticated, service_role, PUBLIC;

-- +goose StatementBegin
DO $$
BEGIN
  IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    RAISE NOTICE 'pgstack: not a superuser, skipping the REST schema reload event triggers';
    RETURN;
  END IF;
  DROP EVENT TRIGGER IF EXISTS pgstack_rest_ddl_watch;
  DROP EVENT TRIGGER IF EXISTS pgstack_rest_drop_watch;
  CREATE EVENT TRIGGER pgstack_rest_ddl_watch ON ddl_command_end
    EXECUTE FUNCTION pgstack.rest_schema_changed();
  CREATE EVENT TRIGGER pgstack_rest_drop_watch ON sql_drop
    EXECUTE FUNCTION pgstack.rest_schema_changed();
END
$$;
-- +goose StatementEnd

-- +goose Down

DROP EVENT TRIGGER IF EXISTS pgstack_rest_ddl_watch;
DROP EVENT TRIGGER IF EXISTS pgstack_rest_drop_watch;
DROP FUNCTION IF EXISTS pgstack.rest_schema_changed();
