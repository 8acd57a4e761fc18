-- name: InsertFlowState :exec
INSERT INTO auth.flow_state (id, user_id, auth_code, code_challenge_method, code_challenge, provider_type,
  authentication_method, created_at, updated_at)
VALUES (@id, @user_id, @auth_code, @code_challenge_method, @code_challenge, 'email', @authentication_method, now(), now());

-- name: GetFlowStateByAuthCode :one
SELECT id, user_id, auth_code, code_challenge_method, code_challenge, authentication_method, created_at,
  auth_code_issued_at, now()::timestamptz AS db_now
FROM auth.flow_state WHERE auth_code = $1;

-- name: GetLatestFlowState :one
-- The newest pending flow of a user for an authentication method.
SELECT id, auth_code FROM auth.flow_state
WHERE user_id = @user_id AND authentication_method = @authentication_method
ORDER BY created_at DESC LIMIT 1;

-- name: IssueFlowAuthCode :exec
UPDATE auth.flow_state SET auth_code_issued_at = now(), updated_at = now() WHERE id = $1;

-- name: DeleteFlowState :execrows
DELETE FROM auth.flow_state WHERE id = $1;
