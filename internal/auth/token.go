package auth

import (
	"context"
	"net/http"
	"time"

	"github.com/pgstack/pgstack/gen/db"
)

// Grant types of POST /token.
const (
	GrantPassword     = "password"
	GrantRefreshToken = "refresh_token"
	GrantPKCE         = "pkce"
)

// TokenParams is the body of POST /token.
type TokenParams struct {
	Email, Phone, Password string
	RefreshToken           string
	AuthCode, CodeVerifier string
}

// Token issues a session for a grant type.
func (s *Service) Token(ctx context.Context, grantType string, p TokenParams) (*Session, error) {
	switch grantType {
	case GrantPassword:
		return s.passwordGrant(ctx, p)
	case GrantRefreshToken:
		if p.RefreshToken == "" {
			return nil, badRequest(CodeValidationFailed, "refresh_token required")
		}
		return s.Refresh(ctx, p.RefreshToken)
	case GrantPKCE:
		return s.pkceGrant(ctx, p.AuthCode, p.CodeVerifier)
	}
	return nil, badRequest(CodeInvalidCredentials, "unsupported_grant_type")
}

// passwordGrant signs in with e-mail and password. An unknown address, a
// user without a password and a wrong password give the same answer after
// the same bcrypt work, so response times do not reveal which addresses
// have accounts.
func (s *Service) passwordGrant(ctx context.Context, p TokenParams) (*Session, error) {
	if err := s.limitIP(metaFrom(ctx), limitToken); err != nil {
		return nil, err
	}
	if p.Phone != "" && p.Email == "" {
		return nil, badRequest(CodePhoneProviderDisabled, "Phone logins are disabled")
	}
	if p.Email == "" {
		return nil, badRequest(CodeValidationFailed, "missing email or phone")
	}
	email, err := normalizeEmail(p.Email)
	if err != nil {
		return nil, errInvalidCredentials()
	}
	if err := s.limitEmail(email); err != nil {
		return nil, err
	}
	u, err := s.q.GetUserByEmail(ctx, db.GetUserByEmailParams{Email: email, Aud: Audience})
	found := err == nil
	if err != nil && !notFound(err) {
		return nil, transient(err)
	}
	var hash *string
	if found {
		hash = u.EncryptedPassword
	}
	ok, err := s.comparePassword(ctx, hash, p.Password)
	if err != nil {
		return nil, err
	}
	if !ok || !found {
		return nil, errInvalidCredentials()
	}
	if banned(u, time.Now()) {
		return nil, badRequest(CodeUserBanned, "User is banned")
	}
	if !u.EmailConfirmedAt.Valid {
		return nil, badRequest(CodeEmailNotConfirmed, "Email not confirmed")
	}
	var out *Session
	err = s.inTx(ctx, func(q *db.Queries) error {
		if err := s.audit(ctx, q, u.ID, email, actionLogin, map[string]any{"provider": "email"}); err != nil {
			return err
		}
		if err := q.TouchIdentity(ctx, db.TouchIdentityParams{UserID: u.ID, Provider: "email"}); err != nil {
			return err
		}
		out, err = s.newSession(ctx, q, u, amrPassword)
		return err
	})
	if err != nil {
		return nil, err
	}
	if weak := s.checkPassword(p.Password); weak != nil {
		if e, ok := weak.(*Error); ok && e.Code == CodeWeakPassword {
			out.WeakPassword = e.Reasons
		}
	}
	return out, nil
}

// flowStateExpiry bounds the time between issuing a PKCE auth code and
// exchanging it.
const flowStateExpiry = 5 * time.Minute

// pkceGrant exchanges an auth code and its code verifier for a session. The
// flow state is deleted: a code works once.
func (s *Service) pkceGrant(ctx context.Context, authCode, verifier string) (*Session, error) {
	if err := s.limitIP(metaFrom(ctx), limitToken); err != nil {
		return nil, err
	}
	if authCode == "" || verifier == "" {
		return nil, badRequest(CodeValidationFailed, "invalid request: both auth code and code verifier should be non-empty")
	}
	var out *Session
	err := s.inTx(ctx, func(q *db.Queries) error {
		f, err := q.GetFlowStateByAuthCode(ctx, authCode)
		if notFound(err) {
			return newError(http.StatusNotFound, CodeFlowStateNotFound, "invalid flow state, no valid flow state found")
		} else if err != nil {
			return err
		}
		if !f.AuthCodeIssuedAt.Valid || f.UserID == nil {
			return newError(http.StatusNotFound, CodeFlowStateNotFound, "invalid flow state, no valid flow state found")
		}
		if f.DbNow.Time.Sub(f.AuthCodeIssuedAt.Time) > flowStateExpiry {
			return unprocessable(CodeFlowStateExpired, "invalid flow state, flow state has expired")
		}
		if err := verifyPKCE(f.CodeChallengeMethod, f.CodeChallenge, verifier); err != nil {
			return err
		}
		if _, err := q.DeleteFlowState(ctx, f.ID); err != nil {
			return err
		}
		u, err := q.GetUserByID(ctx, *f.UserID)
		if notFound(err) {
			return forbidden(CodeUserNotFound, "User not found")
		} else if err != nil {
			return err
		}
		if banned(u, time.Now()) {
			return badRequest(CodeUserBanned, "User is banned")
		}
		if err := s.audit(ctx, q, u.ID, str(u.Email), actionLogin, map[string]any{"provider": "email", "method": f.AuthenticationMethod}); err != nil {
			return err
		}
		out, err = s.newSession(ctx, q, u, f.AuthenticationMethod)
		return err
	})
	return out, err
}
