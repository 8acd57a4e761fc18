package auth

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgstack/pgstack/gen/db"
)

// User is a user as GoTrue serialises it.
type User struct {
	ID                 uuid.UUID
	Aud, Role          string
	Email, Phone       string
	NewEmail           string
	EmailConfirmedAt   *time.Time
	PhoneConfirmedAt   *time.Time
	ConfirmedAt        *time.Time
	ConfirmationSentAt *time.Time
	RecoverySentAt     *time.Time
	EmailChangeSentAt  *time.Time
	InvitedAt          *time.Time
	LastSignInAt       *time.Time
	BannedUntil        *time.Time
	DeletedAt          *time.Time
	AppMetadata        map[string]any
	UserMetadata       map[string]any
	Identities         []Identity
	CreatedAt          time.Time
	UpdatedAt          time.Time
	IsAnonymous        bool
}

// Identity is a sign-in identity of a user.
type Identity struct {
	ID           uuid.UUID // the row id (JSON identity_id)
	ProviderID   string    // JSON id
	UserID       uuid.UUID
	Data         map[string]any
	Provider     string
	Email        string
	LastSignInAt *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

func tsPtr(t pgtype.Timestamptz) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time.UTC()
	return &v
}

func tsVal(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

func ts(t time.Time) pgtype.Timestamptz { return pgtype.Timestamptz{Time: t, Valid: true} }

func jsonObject(b []byte) map[string]any {
	m := map[string]any{}
	if len(b) > 0 {
		_ = json.Unmarshal(b, &m)
		if m == nil {
			m = map[string]any{}
		}
	}
	return m
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of JSON values are marshalled here
	}
	return b
}

func toUser(u db.AuthUser, ids []db.AuthIdentity) *User {
	out := &User{
		ID: u.ID, Aud: str(u.Aud), Role: str(u.Role), Email: str(u.Email), Phone: str(u.Phone),
		NewEmail:           str(u.EmailChange),
		EmailConfirmedAt:   tsPtr(u.EmailConfirmedAt),
		PhoneConfirmedAt:   tsPtr(u.PhoneConfirmedAt),
		ConfirmedAt:        tsPtr(u.ConfirmedAt),
		ConfirmationSentAt: tsPtr(u.ConfirmationSentAt),
		RecoverySentAt:     tsPtr(u.RecoverySentAt),
		EmailChangeSentAt:  tsPtr(u.EmailChangeSentAt),
		InvitedAt:          tsPtr(u.InvitedAt),
		LastSignInAt:       tsPtr(u.LastSignInAt),
		BannedUntil:        tsPtr(u.BannedUntil),
		DeletedAt:          tsPtr(u.DeletedAt),
		AppMetadata:        jsonObject(u.RawAppMetaData),
		UserMetadata:       jsonObject(u.RawUserMetaData),
		CreatedAt:          tsVal(u.CreatedAt),
		UpdatedAt:          tsVal(u.UpdatedAt),
		IsAnonymous:        u.IsAnonymous,
		Identities:         make([]Identity, 0, len(ids)),
	}
	if out.NewEmail == "" {
		out.EmailChangeSentAt = nil
	}
	for _, i := range ids {
		out.Identities = append(out.Identities, Identity{
			ID: i.ID, ProviderID: i.ProviderID, UserID: i.UserID, Data: jsonObject(i.IdentityData),
			Provider: i.Provider, Email: str(i.Email), LastSignInAt: tsPtr(i.LastSignInAt),
			CreatedAt: tsVal(i.CreatedAt), UpdatedAt: tsVal(i.UpdatedAt),
		})
	}
	return out
}

// withIdentities loads the identities of u.
func (s *Service) withIdentities(ctx context.Context, q *db.Queries, u db.AuthUser) (*User, error) {
	ids, err := q.ListUserIdentities(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return toUser(u, ids), nil
}

// updateParams copies a loaded row into the parameters that write it back.
func updateParams(u db.AuthUser) db.UpdateUserParams {
	return db.UpdateUserParams{
		ID: u.ID, Aud: u.Aud, Role: u.Role, Email: u.Email, EncryptedPassword: u.EncryptedPassword,
		EmailConfirmedAt: u.EmailConfirmedAt, InvitedAt: u.InvitedAt,
		ConfirmationToken: u.ConfirmationToken, ConfirmationSentAt: u.ConfirmationSentAt,
		RecoveryToken: u.RecoveryToken, RecoverySentAt: u.RecoverySentAt,
		EmailChangeTokenNew: u.EmailChangeTokenNew, EmailChange: u.EmailChange, EmailChangeSentAt: u.EmailChangeSentAt,
		EmailChangeTokenCurrent: u.EmailChangeTokenCurrent, EmailChangeConfirmStatus: u.EmailChangeConfirmStatus,
		LastSignInAt: u.LastSignInAt, RawAppMetaData: u.RawAppMetaData, RawUserMetaData: u.RawUserMetaData,
		Phone: u.Phone, PhoneConfirmedAt: u.PhoneConfirmedAt, BannedUntil: u.BannedUntil,
		IsAnonymous: u.IsAnonymous, DeletedAt: u.DeletedAt,
	}
}

func banned(u db.AuthUser, now time.Time) bool {
	return u.BannedUntil.Valid && u.BannedUntil.Time.After(now)
}
