-- name: GetUserByID :one
SELECT * FROM auth.users WHERE id = $1;

-- name: GetUserByEmail :one
-- Non-SSO users by e-mail address (stored lower-cased) within an audience.
SELECT * FROM auth.users
WHERE email = lower(@email::text) AND aud = @aud::text AND is_sso_user = false;

-- name: UserEmailTaken :one
SELECT EXISTS (
  SELECT 1 FROM auth.users
  WHERE email = lower(@email::text) AND is_sso_user = false AND id <> @except_id::uuid
) AS taken;

-- name: InsertUser :one
INSERT INTO auth.users (
  instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, invited_at,
  confirmation_token, recovery_token, email_change_token_new, email_change, email_change_token_current,
  raw_app_meta_data, raw_user_meta_data, is_super_admin, created_at, updated_at,
  phone, phone_confirmed_at, banned_until, is_anonymous
) VALUES (
  '00000000-0000-0000-0000-000000000000', @id, @aud, @role, @email, @encrypted_password, @email_confirmed_at, @invited_at,
  '', '', '', '', '',
  @raw_app_meta_data, @raw_user_meta_data, false, now(), now(),
  @phone, @phone_confirmed_at, @banned_until, @is_anonymous
)
RETURNING *;

-- name: UpdateUser :one
-- Writes back every column the auth service changes; the caller loaded the
-- row, changed it and passes all of it.
UPDATE auth.users SET
  aud = @aud,
  role = @role,
  email = @email,
  encrypted_password = @encrypted_password,
  email_confirmed_at = @email_confirmed_at,
  invited_at = @invited_at,
  confirmation_token = @confirmation_token,
  confirmation_sent_at = @confirmation_sent_at,
  recovery_token = @recovery_token,
  recovery_sent_at = @recovery_sent_at,
  email_change_token_new = @email_change_token_new,
  email_change = @email_change,
  email_change_sent_at = @email_change_sent_at,
  email_change_token_current = @email_change_token_current,
  email_change_confirm_status = @email_change_confirm_status,
  last_sign_in_at = @last_sign_in_at,
  raw_app_meta_data = @raw_app_meta_data,
  raw_user_meta_data = @raw_user_meta_data,
  phone = @phone,
  phone_confirmed_at = @phone_confirmed_at,
  banned_until = @banned_until,
  is_anonymous = @is_anonymous,
  deleted_at = @deleted_at,
  updated_at = now()
WHERE id = @id
RETURNING *;

-- name: SetLastSignIn :exec
UPDATE auth.users SET last_sign_in_at = now(), updated_at = now() WHERE id = $1;

-- name: ListUsers :many
SELECT * FROM auth.users
WHERE aud = @aud::text
ORDER BY created_at DESC, id
LIMIT @lim OFFSET @off;

-- name: CountUsers :one
SELECT count(*) FROM auth.users WHERE aud = @aud::text;

-- name: DeleteUser :execrows
DELETE FROM auth.users WHERE id = $1;
