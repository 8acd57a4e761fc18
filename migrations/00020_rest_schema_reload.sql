-- +goose Up

-- The REST schema cache reloads when anything sends NOTIFY pgrst, 'reload
-- schema' (PostgREST's convention). These event triggers send it after DDL
-- that can change what /rest/v1 exposes (the same commands Supabase's
-- pgrst_ddl_watch and pgrst_drop_watch watch; temporary objects are
-- ignored), so a migration, a CREATE TABLE in the SQL editor or Studio is
-- visible without a restart. Event triggers need a superuser; where the
-- migrating role is not one, the triggers are skipped with a notice and
-- NOTIFY pgrst, 'reload schema' has to be sent after DDL.

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION pgstack.rest_ddl_watch() RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  cmd record;
BEGIN
  FOR cmd IN SELECT * FROM pg_catalog.pg_event_trigger_ddl_commands() LOOP
    IF cmd.command_tag IN (
         'CREATE SCHEMA', 'ALTER SCHEMA', 'CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'ALTER TABLE',
         'CREATE FOREIGN TABLE', 'ALTER FOREIGN TABLE', 'CREATE VIEW', 'ALTER VIEW',
         'CREATE MATERIALIZED VIEW', 'ALTER MATERIALIZED VIEW', 'CREATE FUNCTION', 'ALTER FUNCTION',
         'CREATE TRIGGER', 'CREATE TYPE', 'ALTER TYPE', 'CREATE RULE', 'COMMENT')
       AND cmd.schema_name IS DISTINCT FROM 'pg_temp' THEN
      NOTIFY pgrst, 'reload schema';
      RETURN;
    END IF;
  END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION pgstack.rest_drop_watch() RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
  obj record;
BEGIN
  FOR obj IN SELECT * FROM pg_catalog.pg_event_trigger_dropped_objects() LOOP
    IF obj.object_type IN ('schema', 'table', 'foreign table', 'view', 'materialized view',
                           'function', 'trigger', 'type', 'rule')
       AND NOT obj.is_temporary THEN
      NOTIFY pgrst, 'reload schema';
      RETURN;
    END IF;
  END LOOP;
END
$$;
-- +goose StatementEnd

REVOKE ALL ON FUNCTION pgstack.rest_ddl_watch() FROM anon, authenticated, service_role, PUBLIC;
REVOKE ALL ON FUNCTION pgstack.rest_drop_watch() FROM anon, authenticated, service_role, PUBLIC;

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
    EXECUTE FUNCTION pgstack.rest_ddl_watch();
  CREATE EVENT TRIGGER pgstack_rest_drop_watch ON sql_drop
    EXECUTE FUNCTION pgstack.rest_drop_watch();
END
$$;
-- +goose StatementEnd

-- +goose Down

DROP EVENT TRIGGER IF EXISTS pgstack_rest_ddl_watch;
DROP EVENT TRIGGER IF EXISTS pgstack_rest_drop_watch;
DROP FUNCTION IF EXISTS pgstack.rest_ddl_watch();
DROP FUNCTION IF EXISTS pgstack.rest_drop_watch();
