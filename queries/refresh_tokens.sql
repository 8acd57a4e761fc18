-- name: InsertRefreshToken :one
INSERT INTO auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id)
VALUES ('00000000-0000-0000-0000-000000000000', @token, @user_id, false, now(), now(), @parent, @session_id)
RETURNING id, token, created_at;

-- name: GetRefreshToken :one
SELECT id, token, user_id, revoked, parent, session_id, updated_at, now()::timestamptz AS db_now
FROM auth.refresh_tokens WHERE token = $1;

-- name: RotateRefreshToken :exec
-- Revokes a token and inserts its child in one statement.
WITH revoked AS (
  UPDATE auth.refresh_tokens AS used SET revoked = true, updated_at = now() WHERE used.id = @used_id::bigint
)
INSERT INTO auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id)
VALUES ('00000000-0000-0000-0000-000000000000', @child, @user_id, false, now(), now(), @parent, @session_id);

-- name: GetActiveRefreshToken :one
-- The newest unrevoked token of a session: the one a client should hold.
SELECT id, token, parent FROM auth.refresh_tokens
WHERE session_id = $1 AND revoked = false
ORDER BY id DESC LIMIT 1;
