-- name: UpsertOneTimeToken :exec
INSERT INTO auth.one_time_tokens (id, user_id, token_type, token_hash, relates_to, created_at, updated_at)
VALUES (@id, @user_id, @token_type, @token_hash, @relates_to, now(), now())
ON CONFLICT (user_id, token_type) DO UPDATE
SET token_hash = excluded.token_hash, relates_to = excluded.relates_to, created_at = now(), updated_at = now();

-- name: FindOneTimeToken :one
SELECT id, user_id, token_type, token_hash, relates_to, created_at, now()::timestamptz AS db_now
FROM auth.one_time_tokens
WHERE token_hash = @token_hash AND token_type = @token_type;

-- name: GetUserOneTimeToken :one
SELECT id, user_id, token_type, token_hash, relates_to, created_at, now()::timestamptz AS db_now
FROM auth.one_time_tokens
WHERE user_id = @user_id AND token_type = @token_type;

-- name: DeleteOneTimeToken :exec
DELETE FROM auth.one_time_tokens WHERE user_id = @user_id AND token_type = @token_type;

-- name: DeleteUserOneTimeTokens :exec
DELETE FROM auth.one_time_tokens WHERE user_id = $1;
