-- name: GetServerVersion :one
SELECT current_setting('server_version')::text AS version;

-- name: ListAvailableExtensions :many
-- The extensions among names this server can install, and the installed version if any.
SELECT a.name::text AS name, x.extversion AS installed_version
FROM pg_catalog.pg_available_extensions() AS a
LEFT JOIN pg_catalog.pg_extension AS x ON x.extname = a.name
WHERE a.name = ANY(@names::text[])
ORDER BY a.name;
