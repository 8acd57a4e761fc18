-- name: InsertAuditLogEntry :exec
INSERT INTO auth.audit_log_entries (instance_id, id, payload, created_at, ip_address)
VALUES ('00000000-0000-0000-0000-000000000000', @id, @payload, now(), @ip_address);
