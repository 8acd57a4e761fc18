package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pgstack/pgstack/gen/db"
	"github.com/pgstack/pgstack/internal/identity"
	"github.com/pgstack/pgstack/internal/jwt"
)

// caller is a verified user token and what it points to.
type caller struct {
	user      db.AuthUser
	sessionID uuid.UUID // uuid.Nil for tokens without session_id
}

type userClaims struct {
	SessionID string `json:"session_id"`
}

// authenticate checks that the request carries a user's access token whose
// user and session still exist, as GoTrue's /user does.
func (s *Service) authenticate(ctx context.Context, id identity.Identity) (caller, error) {
	if id.Token == "" || !metaFrom(ctx).Bearer {
		return caller{}, newError(http.StatusUnauthorized, CodeNoAuthorization, "This endpoint requires a valid Bearer token")
	}
	uid, err := uuid.Parse(id.Subject)
	if err != nil {
		return caller{}, forbidden(CodeBadJWT, "invalid claim: missing sub claim")
	}
	var claims userClaims
	_ = json.Unmarshal(id.Claims, &claims)
	u, err := s.q.GetUserByID(ctx, uid)
	if notFound(err) {
		return caller{}, forbidden(CodeUserNotFound, "User from sub claim in JWT does not exist")
	} else if err != nil {
		return caller{}, transient(err)
	}
	if u.DeletedAt.Valid {
		return caller{}, forbidden(CodeUserNotFound, "User from sub claim in JWT does not exist")
	}
	c := caller{user: u}
	if claims.SessionID != "" {
		sid, err := uuid.Parse(claims.SessionID)
		if err != nil {
			return caller{}, forbidden(CodeBadJWT, "invalid claim: session_id claim is not a UUID")
		}
		if _, err := s.q.GetSession(ctx, sid); notFound(err) {
			return caller{}, forbidden(CodeSessionNotFound, "Session from session_id claim in JWT does not exist")
		} else if err != nil {
			return caller{}, transient(err)
		}
		c.sessionID = sid
	}
	if banned(u, time.Now()) {
		return caller{}, forbidden(CodeUserBanned, "User is banned")
	}
	return c, nil
}

// GetUser is GET /user.
func (s *Service) GetUser(ctx context.Context, id identity.Identity) (*User, error) {
	c, err := s.authenticate(ctx, id)
	if err != nil {
		return nil, err
	}
	u, err := s.withIdentities(ctx, s.q, c.user)
	return u, transient(err)
}

// UpdateUserParams is PUT /user. Data keys with a nil value are removed.
type UpdateUserParams struct {
	Email               *string
	Password            *string
	Phone               *string
	Data                map[string]any
	AppMetadata         map[string]any
	CodeChallenge       string
	CodeChallengeMethod string
	RedirectTo          string
}

// UpdateUser changes the signed-in user's e-mail (after confirming the new
// address), password (signing out every other session) or metadata.
func (s *Service) UpdateUser(ctx context.Context, id identity.Identity, p UpdateUserParams) (*User, error) {
	if err := s.limitIP(metaFrom(ctx), limitOTP); err != nil {
		return nil, err
	}
	c, err := s.authenticate(ctx, id)
	if err != nil {
		return nil, err
	}
	if p.AppMetadata != nil && id.Role != jwt.RoleServiceRole {
		return nil, forbidden(CodeNotAdmin, "Updating app_metadata requires admin privileges")
	}
	if p.Phone != nil && *p.Phone != "" {
		return nil, unprocessable(CodePhoneProviderDisabled, "Phone changes are disabled")
	}
	pkce, err := checkPKCE(p.CodeChallenge, p.CodeChallengeMethod)
	if err != nil {
		return nil, err
	}
	var newHash string
	if p.Password != nil {
		if err := s.checkPassword(*p.Password); err != nil {
			return nil, err
		}
		if c.user.IsAnonymous && str(c.user.Email) == "" && (p.Email == nil || *p.Email == "") {
			return nil, unprocessable(CodeValidationFailed, "Updating password of an anonymous user without an email or phone is not allowed")
		}
		same, err := s.comparePassword(ctx, c.user.EncryptedPassword, *p.Password)
		if err != nil {
			return nil, err
		}
		if same {
			return nil, unprocessable(CodeSamePassword, "New password should be different from the old password.")
		}
		if newHash, err = s.hashPassword(ctx, *p.Password); err != nil {
			return nil, err
		}
	}
	var newEmail string
	if p.Email != nil && *p.Email != "" {
		if newEmail, err = normalizeEmail(*p.Email); err != nil {
			return nil, err
		}
		if newEmail == str(c.user.Email) {
			newEmail = ""
		}
	}

	var out *User
	err = s.inTx(ctx, func(q *db.Queries) error {
		u, err := q.GetUserByID(ctx, c.user.ID)
		if err != nil {
			return err
		}
		if p.Data != nil {
			meta := jsonObject(u.RawUserMetaData)
			for k, v := range p.Data {
				if v == nil {
					delete(meta, k)
				} else {
					meta[k] = v
				}
			}
			u.RawUserMetaData = mustJSON(meta)
		}
		if p.AppMetadata != nil {
			app := jsonObject(u.RawAppMetaData)
			for k, v := range p.AppMetadata {
				if v == nil {
					delete(app, k)
				} else {
					app[k] = v
				}
			}
			u.RawAppMetaData = mustJSON(app)
		}
		if newHash != "" {
			u.EncryptedPassword = &newHash
		}
		if u, err = q.UpdateUser(ctx, updateParams(u)); err != nil {
			return err
		}
		if newHash != "" {
			// A new password ends every other session and voids pending links.
			if c.sessionID != uuid.Nil {
				_, err = q.DeleteOtherSessions(ctx, db.DeleteOtherSessionsParams{UserID: u.ID, KeepID: c.sessionID})
			} else {
				_, err = q.DeleteUserSessions(ctx, u.ID)
			}
			if err != nil {
				return err
			}
			if err := q.DeleteUserOneTimeTokens(ctx, u.ID); err != nil {
				return err
			}
			u.RecoveryToken, u.ConfirmationToken = ptr(""), ptr("")
			if u, err = q.UpdateUser(ctx, updateParams(u)); err != nil {
				return err
			}
			if err := s.audit(ctx, q, u.ID, str(u.Email), actionUpdatePassword, nil); err != nil {
				return err
			}
		}
		if newEmail != "" {
			if taken, err := q.UserEmailTaken(ctx, db.UserEmailTakenParams{Email: newEmail, ExceptID: u.ID}); err != nil {
				return err
			} else if taken {
				return unprocessable(CodeEmailExists, "A user with this email address has already been registered")
			}
			if u.IsAnonymous && s.cfg.MailerAutoconfirm {
				if u, err = s.applyEmail(ctx, q, u, newEmail); err != nil {
					return err
				}
			} else {
				if str(u.EmailChange) == newEmail {
					if err := s.checkMailFrequency(u.EmailChangeSentAt); err != nil {
						return err
					}
				}
				u.EmailChange = &newEmail
				u.EmailChangeTokenCurrent = ptr("")
				u.EmailChangeConfirmStatus = ptr(int16(0))
				if err := q.DeleteOneTimeToken(ctx, db.DeleteOneTimeTokenParams{UserID: u.ID, TokenType: "email_change_token_current"}); err != nil {
					return err
				}
				if err := s.sendMail(ctx, q, &u, MailEmailChange, newEmail, pkce, p.RedirectTo); err != nil {
					return err
				}
				// With secure e-mail change the current address confirms too,
				// so a stolen session alone cannot move the account away.
				if s.cfg.SecureEmailChange && str(u.Email) != "" {
					if err := s.sendMail(ctx, q, &u, mailEmailChangeCurrent, str(u.Email), pkce, p.RedirectTo); err != nil {
						return err
					}
				}
				if err := s.audit(ctx, q, u.ID, str(u.Email), actionEmailChangeRequest, nil); err != nil {
					return err
				}
			}
		}
		if p.Data != nil || p.AppMetadata != nil {
			if err := s.audit(ctx, q, u.ID, str(u.Email), actionModified, nil); err != nil {
				return err
			}
		}
		out, err = s.withIdentities(ctx, q, u)
		return err
	})
	return out, err
}

// applyEmail makes email the user's confirmed address and e-mail identity.
func (s *Service) applyEmail(ctx context.Context, q *db.Queries, u db.AuthUser, email string) (db.AuthUser, error) {
	if taken, err := q.UserEmailTaken(ctx, db.UserEmailTakenParams{Email: email, ExceptID: u.ID}); err != nil {
		return u, err
	} else if taken {
		return u, unprocessable(CodeEmailExists, "A user with this email address has already been registered")
	}
	u.Email = &email
	u.EmailConfirmedAt = ts(time.Now())
	u.EmailChange, u.EmailChangeTokenNew, u.EmailChangeTokenCurrent = ptr(""), ptr(""), ptr("")
	u.EmailChangeConfirmStatus = ptr(int16(0))
	if u.IsAnonymous {
		u.IsAnonymous = false
		app := jsonObject(u.RawAppMetaData)
		app["provider"] = "email"
		app["providers"] = []string{"email"}
		u.RawAppMetaData = mustJSON(app)
	}
	u, err := q.UpdateUser(ctx, updateParams(u))
	if err != nil {
		return u, err
	}
	for _, tt := range []string{"email_change_token_new", "email_change_token_current"} {
		if err := q.DeleteOneTimeToken(ctx, db.DeleteOneTimeTokenParams{UserID: u.ID, TokenType: tt}); err != nil {
			return u, err
		}
	}
	ids, err := q.ListUserIdentities(ctx, u.ID)
	if err != nil {
		return u, err
	}
	hasEmail := false
	for _, i := range ids {
		hasEmail = hasEmail || i.Provider == "email"
	}
	data := mustJSON(identityData(u.ID, email, true))
	if hasEmail {
		err = q.SetIdentityData(ctx, db.SetIdentityDataParams{UserID: u.ID, Provider: "email", IdentityData: data})
	} else {
		_, err = q.InsertIdentity(ctx, db.InsertIdentityParams{ID: uuid.New(), ProviderID: u.ID.String(), UserID: u.ID, Provider: "email", IdentityData: data})
	}
	return u, err
}

// Logout scopes.
const (
	ScopeGlobal = "global"
	ScopeLocal  = "local"
	ScopeOthers = "others"
)

// Logout ends the caller's session (local), its other sessions (others) or
// all of them (global, the default).
func (s *Service) Logout(ctx context.Context, id identity.Identity, scope string) error {
	scope = strings.ToLower(scope)
	if scope == "" {
		scope = ScopeGlobal
	}
	if scope != ScopeGlobal && scope != ScopeLocal && scope != ScopeOthers {
		return badRequest(CodeValidationFailed, "Unsupported logout scope %q", scope)
	}
	c, err := s.authenticate(ctx, id)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(q *db.Queries) error {
		var err error
		switch {
		case c.sessionID == uuid.Nil || scope == ScopeGlobal:
			_, err = q.DeleteUserSessions(ctx, c.user.ID)
		case scope == ScopeLocal:
			_, err = q.DeleteSession(ctx, c.sessionID)
		default:
			_, err = q.DeleteOtherSessions(ctx, db.DeleteOtherSessionsParams{UserID: c.user.ID, KeepID: c.sessionID})
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, q, c.user.ID, str(c.user.Email), actionLogout, map[string]any{"scope": scope})
	})
}
