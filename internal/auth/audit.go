package auth

import (
	"context"

	"github.com/google/uuid"

	"github.com/pgstack/pgstack/gen/db"
)

// Audit actions, GoTrue's names.
const (
	actionLogin              = "login"
	actionLogout             = "logout"
	actionSignup             = "user_signedup"
	actionRepeatedSignup     = "user_repeated_signup"
	actionConfirmationReq    = "user_confirmation_requested"
	actionRecoveryRequested  = "user_recovery_requested"
	actionUpdatePassword     = "user_updated_password"
	actionModified           = "user_modified"
	actionTokenRefreshed     = "token_refreshed"
	actionTokenRevoked       = "token_revoked"
	actionInvited            = "user_invited"
	actionDeleted            = "user_deleted"
	actionVerified           = "user_verified"
	actionMagicLinkRequested = "user_magiclink_requested"
	actionEmailChangeRequest = "user_email_change_requested"
	actionAdminCreated       = "user_created_by_admin"
	actionGenerateLink       = "generate_link"
)

// audit records an action in auth.audit_log_entries, in the caller's
// transaction so it lands with the change it describes.
func (s *Service) audit(ctx context.Context, q *db.Queries, actorID uuid.UUID, actor, action string, traits map[string]any) error {
	payload := map[string]any{
		"actor_id":       actorID.String(),
		"actor_username": actor,
		"actor_via_sso":  false,
		"action":         action,
		"log_type":       logType(action),
	}
	if len(traits) > 0 {
		payload["traits"] = traits
	}
	m := metaFrom(ctx)
	ip := m.IP
	if ip == "" {
		ip = m.Peer
	}
	if len(ip) > 64 {
		ip = ip[:64]
	}
	return q.InsertAuditLogEntry(ctx, db.InsertAuditLogEntryParams{
		ID: uuid.New(), Payload: mustJSON(payload), IpAddress: ip,
	})
}

func logType(action string) string {
	switch action {
	case actionLogin, actionLogout, actionTokenRefreshed, actionTokenRevoked:
		return "token"
	case actionSignup, actionRepeatedSignup, actionInvited, actionAdminCreated:
		return "team"
	}
	return "user"
}
