package auth

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgstack/pgstack/gen/db"
)

// Session is GoTrue's token response.
type Session struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    int
	ExpiresAt    int64
	User         *User
	// WeakPassword lists why a correct password no longer meets the policy.
	WeakPassword []string
}

// Authentication methods (the amr claim).
const (
	amrPassword    = "password"
	amrOTP         = "otp"
	amrMagicLink   = "magiclink"
	amrRecovery    = "recovery"
	amrInvite      = "invite"
	amrEmailChange = "email_change"
	amrAnonymous   = "anonymous"
)

// newRefreshToken returns a random refresh token (26 base32 characters,
// 130 bits): longer than GoTrue's 12-character v1 tokens, which still work
// when they come from a restored database.
func newRefreshToken() string { return rand.Text() }

// newSession creates a session with its first refresh token and amr entry
// and returns the token response. It runs in the caller's transaction.
func (s *Service) newSession(ctx context.Context, q *db.Queries, u db.AuthUser, method string) (*Session, error) {
	sid := uuid.New()
	ua := metaFrom(ctx).UserAgent
	if err := q.InsertSession(ctx, db.InsertSessionParams{ID: sid, UserID: u.ID, UserAgent: &ua}); err != nil {
		return nil, err
	}
	if err := q.InsertAMRClaim(ctx, db.InsertAMRClaimParams{ID: uuid.New(), SessionID: sid, Method: method}); err != nil {
		return nil, err
	}
	rt := newRefreshToken()
	uid := u.ID.String()
	if _, err := q.InsertRefreshToken(ctx, db.InsertRefreshTokenParams{Token: &rt, UserID: &uid, SessionID: &sid}); err != nil {
		return nil, err
	}
	if err := q.SetLastSignIn(ctx, u.ID); err != nil {
		return nil, err
	}
	u.LastSignInAt = ts(time.Now())
	return s.tokenResponse(ctx, q, u, sid, rt)
}

type amrEntry struct {
	Method    string `json:"method"`
	Timestamp int64  `json:"timestamp"`
}

// tokenResponse signs an access token for the session and assembles the
// response around the refresh token the client should hold.
func (s *Service) tokenResponse(ctx context.Context, q *db.Queries, u db.AuthUser, sid uuid.UUID, refreshToken string) (*Session, error) {
	claims, err := q.ListAMRClaims(ctx, sid)
	if err != nil {
		return nil, err
	}
	amr := make([]amrEntry, 0, len(claims))
	for _, c := range claims {
		amr = append(amr, amrEntry{Method: c.AuthenticationMethod, Timestamp: c.UpdatedAt.Time.Unix()})
	}
	user, err := s.withIdentities(ctx, q, u)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	exp := now.Add(s.jwtExpiry)
	token, err := s.keys.SignAccessToken(map[string]any{
		"iss":           s.cfg.ExternalURL + "/auth/v1",
		"sub":           u.ID.String(),
		"aud":           str(u.Aud),
		"exp":           exp.Unix(),
		"iat":           now.Unix(),
		"email":         str(u.Email),
		"phone":         str(u.Phone),
		"app_metadata":  json.RawMessage(objectOrEmpty(u.RawAppMetaData)),
		"user_metadata": json.RawMessage(objectOrEmpty(u.RawUserMetaData)),
		"role":          roleOf(u),
		"aal":           "aal1",
		"amr":           amr,
		"session_id":    sid.String(),
		"is_anonymous":  u.IsAnonymous,
	})
	if err != nil {
		return nil, err
	}
	return &Session{
		AccessToken: token, RefreshToken: refreshToken, User: user,
		ExpiresIn: int(s.jwtExpiry / time.Second), ExpiresAt: exp.Unix(),
	}, nil
}

func objectOrEmpty(b []byte) []byte {
	if len(b) == 0 || string(b) == "null" {
		return []byte("{}")
	}
	return b
}

func roleOf(u db.AuthUser) string {
	if r := str(u.Role); r != "" {
		return r
	}
	return DefaultRole
}

// Refresh is grant_type=refresh_token. Refresh tokens rotate: using one
// revokes it and issues its child. A revoked token is still honoured when it
// is the parent of the session's current token (the client lost the
// response) or within REFRESH_TOKEN_REUSE_INTERVAL of its revocation
// (concurrent refreshes): the answer then carries the current token. Any
// other reuse means the token leaked: the whole session is deleted, which
// revokes its token family and makes /user answer session_not_found.
func (s *Service) Refresh(ctx context.Context, token string) (*Session, error) {
	if err := s.limitIP(metaFrom(ctx), limitToken); err != nil {
		return nil, err
	}
	if len(token) < 12 || len(token) > 255 {
		return nil, badRequest(CodeValidationFailed, "Refresh token is not valid")
	}
	// A refresh that waited too long for the session's lock is tried again
	// (bounded), then answered with 503, which clients retry.
	var (
		out    *Session
		reused bool
		err    error
	)
	for attempt := 0; attempt < refreshAttempts; attempt++ {
		out, reused, err = s.refreshOnce(ctx, token)
		if !lockTimedOut(err) || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return nil, transient(err)
	}
	if reused {
		return nil, badRequest(CodeRefreshTokenAlreadyUsed, "Invalid Refresh Token: Already Used")
	}
	return out, nil
}

// refreshAttempts bounds the retries of a refresh whose session stays locked.
const refreshAttempts = 3

func lockTimedOut(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55P03"
}

// refreshOnce runs one refresh transaction. reused reports a real reuse,
// whose revocation has been committed.
func (s *Service) refreshOnce(ctx context.Context, token string) (out *Session, reused bool, err error) {
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		// Bounded wait for a concurrent refresh of the same session; past it
		// the client gets a 503 and retries.
		if err := q.SetLockTimeout(ctx, strconv.FormatInt(s.lockTimeout.Milliseconds(), 10)); err != nil {
			return err
		}
		// A token whose session is gone went with it (cascade), so no row
		// here means the token is unknown.
		sess, err := q.LockSessionOfRefreshToken(ctx, token)
		if notFound(err) {
			return badRequest(CodeRefreshTokenNotFound, "Invalid Refresh Token: Refresh Token Not Found")
		} else if err != nil {
			return err
		}
		if sess.NotAfter.Valid && sess.NotAfter.Time.Before(time.Now()) {
			return badRequest(CodeSessionExpired, "Invalid Refresh Token: Session Expired")
		}
		// Read under the session lock: a concurrent refresh may have rotated it.
		rt, err := q.GetRefreshToken(ctx, &token)
		if notFound(err) {
			return badRequest(CodeRefreshTokenNotFound, "Invalid Refresh Token: Refresh Token Not Found")
		} else if err != nil {
			return err
		}
		u, err := q.GetUserByID(ctx, sess.UserID)
		if notFound(err) {
			return badRequest(CodeRefreshTokenNotFound, "Invalid Refresh Token: Refresh Token Not Found")
		} else if err != nil {
			return err
		}
		if banned(u, time.Now()) {
			return badRequest(CodeUserBanned, "User is banned")
		}

		issued := ""
		if rt.Revoked == nil || !*rt.Revoked {
			child := newRefreshToken()
			if err := q.RotateRefreshToken(ctx, db.RotateRefreshTokenParams{
				UsedID: rt.ID, Child: &child, UserID: rt.UserID, Parent: &token, SessionID: rt.SessionID,
			}); err != nil {
				return err
			}
			issued = child
		} else {
			active, err := q.GetActiveRefreshToken(ctx, rt.SessionID)
			if err != nil && !notFound(err) {
				return err
			}
			withinInterval := rt.UpdatedAt.Valid && rt.DbNow.Time.Sub(rt.UpdatedAt.Time) < s.cfg.RefreshTokenReuseInterval
			if err == nil && (str(active.Parent) == token || withinInterval) {
				issued = str(active.Token)
			} else {
				// Real reuse: revoke the family by ending the session. The
				// revocation commits; the error is returned after the commit.
				if _, err := q.DeleteSession(ctx, sess.ID); err != nil {
					return err
				}
				if err := s.audit(ctx, q, u.ID, str(u.Email), actionTokenRevoked, map[string]any{"reason": "refresh_token_reuse"}); err != nil {
					return err
				}
				reused = true
				return nil
			}
		}
		ua := metaFrom(ctx).UserAgent
		if err := q.TouchSession(ctx, db.TouchSessionParams{ID: sess.ID, UserAgent: &ua}); err != nil {
			return err
		}
		if err := s.audit(ctx, q, u.ID, str(u.Email), actionTokenRefreshed, nil); err != nil {
			return err
		}
		out, err = s.tokenResponse(ctx, q, u, sess.ID, issued)
		return err
	})
	if lockTimedOut(err) {
		return nil, false, err
	}
	return out, reused, transient(err)
}
