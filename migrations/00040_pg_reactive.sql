-- +goose Up

-- Live queries: install pg_reactive when the server has it (pgStack's images
-- and `pgstack start` do). Databases without it still migrate; /live/v1 then
-- answers that live queries are unavailable.

-- +goose StatementBegin
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'pg_reactive') THEN
    CREATE EXTENSION IF NOT EXISTS pg_reactive;
  END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down

DROP EXTENSION IF EXISTS pg_reactive;
