-- name: InsertSession :exec
INSERT INTO auth.sessions (id, user_id, created_at, updated_at, aal, user_agent, refreshed_at)
VALUES (@id, @user_id, now(), now(), 'aal1', @user_agent, now());

-- name: GetSession :one
SELECT id, user_id, created_at, not_after FROM auth.sessions WHERE id = $1;

-- name: LockSessionOfRefreshToken :one
-- Locks the session a refresh token belongs to: refreshes of one session
-- run one at a time.
SELECT id, user_id, not_after FROM auth.sessions
WHERE id = (SELECT session_id FROM auth.refresh_tokens WHERE token = @token::text)
FOR UPDATE;

-- name: TouchSession :exec
UPDATE auth.sessions SET refreshed_at = now(), updated_at = now(), user_agent = coalesce(@user_agent, user_agent)
WHERE id = @id;

-- name: DeleteSession :execrows
DELETE FROM auth.sessions WHERE id = $1;

-- name: DeleteUserSessions :execrows
DELETE FROM auth.sessions WHERE user_id = $1;

-- name: DeleteOtherSessions :execrows
DELETE FROM auth.sessions WHERE user_id = @user_id AND id <> @keep_id;

-- name: InsertAMRClaim :exec
INSERT INTO auth.mfa_amr_claims (id, session_id, created_at, updated_at, authentication_method)
VALUES (@id, @session_id, now(), now(), @method)
ON CONFLICT (session_id, authentication_method) DO UPDATE SET updated_at = now();

-- name: ListAMRClaims :many
SELECT authentication_method, updated_at FROM auth.mfa_amr_claims
WHERE session_id = $1 ORDER BY updated_at DESC;

-- name: SetLockTimeout :exec
-- Bounds the wait for a session another request holds (refresh).
SELECT set_config('lock_timeout', @timeout::text, true);
