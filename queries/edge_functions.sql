-- name: ListEdgeFunctions :many
SELECT name, runtime, verify_jwt, source, upstream_url, created_at, updated_at
FROM pgstack.edge_functions
ORDER BY name;

-- name: GetEdgeFunction :one
SELECT name, runtime, verify_jwt, source, upstream_url, created_at, updated_at
FROM pgstack.edge_functions
WHERE name = $1;

-- name: UpsertEdgeFunction :one
INSERT INTO pgstack.edge_functions (name, runtime, verify_jwt, source, upstream_url)
VALUES (@name, @runtime, @verify_jwt, @source, @upstream_url)
ON CONFLICT (name) DO UPDATE
SET runtime = EXCLUDED.runtime,
    verify_jwt = EXCLUDED.verify_jwt,
    source = EXCLUDED.source,
    upstream_url = EXCLUDED.upstream_url
RETURNING name, runtime, verify_jwt, source, upstream_url, created_at, updated_at;

-- name: DeleteEdgeFunction :one
DELETE FROM pgstack.edge_functions
WHERE name = $1
RETURNING name, runtime;

-- name: InsertEdgeFunctionLogs :copyfrom
INSERT INTO pgstack.edge_function_logs (function_name, request_id, method, status, duration_ms, error, console)
VALUES (@function_name, @request_id, @method, @status, @duration_ms, @error, @console);

-- name: ListEdgeFunctionLogs :many
SELECT id, function_name, request_id, method, status, duration_ms, error, console, created_at
FROM pgstack.edge_function_logs
WHERE function_name = @function_name
ORDER BY created_at DESC, id DESC
LIMIT @max_rows;

-- name: InDatabaseFunctionSource :one
-- The body of pgstack.fn_<name> as the server stores it, to redeploy only on change.
SELECT p.prosrc, l.lanname::text AS language
FROM pg_catalog.pg_proc AS p
JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language AS l ON l.oid = p.prolang
WHERE n.nspname = 'pgstack' AND p.proname = @proname::text
LIMIT 1;
