-- name: InsertIdentity :one
INSERT INTO auth.identities (id, provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
VALUES (@id, @provider_id, @user_id, @identity_data, @provider, now(), now(), now())
RETURNING *;

-- name: ListUserIdentities :many
SELECT * FROM auth.identities WHERE user_id = $1 ORDER BY created_at;

-- name: SetIdentityData :exec
UPDATE auth.identities SET identity_data = @identity_data, updated_at = now()
WHERE user_id = @user_id AND provider = @provider;

-- name: TouchIdentity :exec
UPDATE auth.identities SET last_sign_in_at = now(), updated_at = now()
WHERE user_id = @user_id AND provider = @provider;
