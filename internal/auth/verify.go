package auth

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pgstack/pgstack/gen/db"
	"github.com/pgstack/pgstack/internal/requestlog"
)

// Verification types of /verify.
const (
	VerifySignup      = "signup"
	VerifyInvite      = "invite"
	VerifyMagicLink   = "magiclink"
	VerifyRecovery    = "recovery"
	VerifyEmailChange = "email_change"
	VerifyEmail       = "email"
)

// Recover sends a password-recovery mail. It answers the same for unknown
// addresses.
func (s *Service) Recover(ctx context.Context, email, challenge, method, redirectTo string) error {
	if err := s.limitIP(metaFrom(ctx), limitOTP); err != nil {
		return err
	}
	email, err := normalizeEmail(email)
	if err != nil {
		return err
	}
	pkce, err := checkPKCE(challenge, method)
	if err != nil {
		return err
	}
	if err := s.limitEmail(email); err != nil {
		return err
	}
	return s.inTx(ctx, func(q *db.Queries) error {
		u, err := q.GetUserByEmail(ctx, db.GetUserByEmailParams{Email: email, Aud: Audience})
		if notFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		if err := s.checkMailFrequency(u.RecoverySentAt); err != nil {
			return err
		}
		if err := s.sendMail(ctx, q, &u, MailRecovery, email, pkce, redirectTo); err != nil {
			return err
		}
		return s.audit(ctx, q, u.ID, email, actionRecoveryRequested, nil)
	})
}

// OTPParams is POST /otp.
type OTPParams struct {
	Email, Phone        string
	Data                map[string]any
	CreateUser          bool
	CodeChallenge       string
	CodeChallengeMethod string
	RedirectTo          string
}

// OTP mails a magic link with a one-time code; an unknown address is signed
// up first (its confirmation mail is the magic link) unless create_user is
// false.
func (s *Service) OTP(ctx context.Context, p OTPParams) error {
	if err := s.limitIP(metaFrom(ctx), limitOTP); err != nil {
		return err
	}
	if p.Phone != "" && p.Email == "" {
		return badRequest(CodePhoneProviderDisabled, "Unsupported phone provider")
	}
	email, err := normalizeEmail(p.Email)
	if err != nil {
		return err
	}
	pkce, err := checkPKCE(p.CodeChallenge, p.CodeChallengeMethod)
	if err != nil {
		return err
	}
	if err := s.limitEmail(email); err != nil {
		return err
	}
	return s.inTx(ctx, func(q *db.Queries) error {
		u, err := q.GetUserByEmail(ctx, db.GetUserByEmailParams{Email: email, Aud: Audience})
		switch {
		case notFound(err):
			if !p.CreateUser {
				return unprocessable(CodeOTPDisabled, "Signups not allowed for otp")
			}
			if s.cfg.DisableSignup {
				return unprocessable(CodeSignupDisabled, "Signups not allowed for this instance")
			}
			// No password: the user signs in with links until they set one.
			if u, err = s.createUser(ctx, q, newUser{Email: email, UserMetadata: p.Data, Provider: "email"}); err != nil {
				return err
			}
			if err := s.audit(ctx, q, u.ID, email, actionSignup, map[string]any{"provider": "email"}); err != nil {
				return err
			}
			return s.sendMail(ctx, q, &u, MailSignup, email, pkce, p.RedirectTo)
		case err != nil:
			return err
		case !u.EmailConfirmedAt.Valid:
			if err := s.checkMailFrequency(u.ConfirmationSentAt); err != nil {
				return err
			}
			return s.sendMail(ctx, q, &u, MailSignup, email, pkce, p.RedirectTo)
		}
		if err := s.checkMailFrequency(u.RecoverySentAt); err != nil {
			return err
		}
		if err := s.sendMail(ctx, q, &u, MailMagicLink, email, pkce, p.RedirectTo); err != nil {
			return err
		}
		return s.audit(ctx, q, u.ID, email, actionMagicLinkRequested, nil)
	})
}

// Resend sends the sign-up confirmation (type signup) or the confirmation
// of a pending e-mail change (type email_change) again. Unknown addresses,
// confirmed users and users without a pending change get the same empty
// answer, and no mail.
func (s *Service) Resend(ctx context.Context, typ, email, phone, redirectTo string) error {
	if err := s.limitIP(metaFrom(ctx), limitOTP); err != nil {
		return err
	}
	switch typ {
	case VerifySignup, VerifyEmailChange:
	case "sms", "phone_change":
		return badRequest(CodePhoneProviderDisabled, "Unsupported phone provider")
	default:
		return badRequest(CodeValidationFailed, "Missing one of these types: signup, email_change, sms, phone_change")
	}
	if phone != "" && email == "" {
		return badRequest(CodePhoneProviderDisabled, "Unsupported phone provider")
	}
	email, err := normalizeEmail(email)
	if err != nil {
		return err
	}
	if err := s.limitEmail(email); err != nil {
		return err
	}
	return s.inTx(ctx, func(q *db.Queries) error {
		u, err := q.GetUserByEmail(ctx, db.GetUserByEmailParams{Email: email, Aud: Audience})
		if notFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		if typ == VerifySignup {
			if u.EmailConfirmedAt.Valid {
				return nil
			}
			if err := s.checkMailFrequency(u.ConfirmationSentAt); err != nil {
				return err
			}
			return s.sendMail(ctx, q, &u, MailSignup, email, pkceParams{}, redirectTo)
		}
		newEmail := str(u.EmailChange)
		if newEmail == "" {
			return nil
		}
		if err := s.checkMailFrequency(u.EmailChangeSentAt); err != nil {
			return err
		}
		return s.sendMail(ctx, q, &u, MailEmailChange, newEmail, pkceParams{}, redirectTo)
	})
}

// VerifyParams is POST /verify: a code with its e-mail address, or the
// token_hash of a link.
type VerifyParams struct {
	Type, Email, Token, TokenHash string
}

// VerifyResult is a session, or, when the first of the two confirmations of
// a secure e-mail change was accepted, a message and no session.
type VerifyResult struct {
	Session *Session
	Message string
}

// Verify checks a one-time token and signs the user in.
func (s *Service) Verify(ctx context.Context, p VerifyParams) (VerifyResult, error) {
	if err := s.limitIP(metaFrom(ctx), limitVerify); err != nil {
		return VerifyResult{}, err
	}
	if p.Email != "" {
		if err := s.limitEmail(p.Email); err != nil {
			return VerifyResult{}, err
		}
	}
	var out VerifyResult
	err := s.inTx(ctx, func(q *db.Queries) error {
		v, err := s.consumeToken(ctx, q, p, "Token has expired or is invalid")
		if err != nil {
			return err
		}
		if v.partial {
			out.Message = singleConfirmationAccepted
			return nil
		}
		out.Session, err = s.newSession(ctx, q, v.user, v.method)
		return err
	})
	return out, err
}

// singleConfirmationAccepted answers the first confirmation of a secure
// e-mail change (GoTrue's text).
const singleConfirmationAccepted = "Confirmation link accepted. Please proceed to confirm link sent to the other email"

// VerifyLink is GET /verify, the target of e-mail links. It returns where to
// redirect: redirect_to with the session in the fragment, with ?code= when
// the flow is PKCE, or with the error in the fragment.
func (s *Service) VerifyLink(ctx context.Context, token, typ, redirectTo string) string {
	redirect := s.redirectURL(redirectTo)
	var location string
	err := s.limitIP(metaFrom(ctx), limitVerify)
	if err == nil {
		err = s.inTx(ctx, func(q *db.Queries) error {
			v, err := s.consumeToken(ctx, q, VerifyParams{Type: typ, TokenHash: token}, "Email link is invalid or has expired")
			if err != nil {
				return err
			}
			if v.partial {
				location = withFragment(redirect, url.Values{"message": {singleConfirmationAccepted}, "sb": {""}})
				return nil
			}
			if v.code != "" {
				location = withQuery(redirect, url.Values{"code": {v.code}})
				return nil
			}
			sess, err := s.newSession(ctx, q, v.user, v.method)
			if err != nil {
				return err
			}
			location = withFragment(redirect, url.Values{
				"access_token": {sess.AccessToken}, "token_type": {"bearer"},
				"expires_in": {strconv.Itoa(sess.ExpiresIn)}, "expires_at": {strconv.FormatInt(sess.ExpiresAt, 10)},
				"refresh_token": {sess.RefreshToken}, "type": {typ}, "sb": {""},
			})
			return nil
		})
	}
	if err != nil {
		e, ok := err.(*Error)
		if !ok {
			requestlog.Logger(ctx).ErrorContext(ctx, "verify link failed", "error", err)
			e = newError(http.StatusInternalServerError, CodeUnexpectedFailure, "Unexpected failure")
		}
		kind := "access_denied"
		switch {
		case e.Status >= 500:
			kind = "server_error"
		case e.Status == http.StatusBadRequest:
			kind = "invalid_request"
		}
		return withFragment(redirect, url.Values{
			"error": {kind}, "error_code": {e.Code}, "error_description": {e.Message}, "sb": {""},
		})
	}
	return location
}

func withQuery(base string, v url.Values) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	q := u.Query()
	for k, vs := range v {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func withFragment(base string, v url.Values) string {
	if i := strings.IndexByte(base, '#'); i >= 0 {
		base = base[:i]
	}
	return base + "#" + v.Encode()
}

// tokenTypesFor lists the one_time_tokens types a verification type checks.
func tokenTypesFor(typ string) ([]string, error) {
	switch typ {
	case VerifySignup, VerifyInvite:
		return []string{"confirmation_token"}, nil
	case VerifyMagicLink, VerifyRecovery:
		return []string{"recovery_token"}, nil
	case VerifyEmailChange:
		return []string{"email_change_token_new", "email_change_token_current"}, nil
	case VerifyEmail:
		return []string{"confirmation_token", "recovery_token"}, nil
	}
	return nil, badRequest(CodeValidationFailed, "Verify requires a verification type")
}

// consumeToken finds, checks and spends a one-time token and applies its
// effect (confirm the address, apply the e-mail change). It returns the
// user, the authentication method and, for a PKCE flow, the auth code.
func (s *Service) consumeToken(ctx context.Context, q *db.Queries, p VerifyParams, expiredMsg string) (verified, error) {
	types, err := tokenTypesFor(p.Type)
	if err != nil {
		return verified{}, err
	}
	expired := forbidden(CodeOTPExpired, "%s", expiredMsg)
	var hash string
	switch {
	case p.TokenHash != "" && p.Token == "":
		hash = p.TokenHash
	case p.Token != "" && p.TokenHash == "" && p.Email != "":
		email, err := normalizeEmail(p.Email)
		if err != nil {
			return verified{}, err
		}
		hash = tokenHash(email, strings.TrimSpace(p.Token))
	default:
		return verified{}, badRequest(CodeValidationFailed, "Verify requires either a token with an email, or a token_hash")
	}
	want := strings.TrimPrefix(hash, pkcePrefix)
	var found *db.FindOneTimeTokenRow
	for _, tt := range types {
		for _, candidate := range []string{want, pkcePrefix + want} {
			row, err := q.FindOneTimeToken(ctx, db.FindOneTimeTokenParams{TokenHash: candidate, TokenType: tt})
			if notFound(err) {
				continue
			} else if err != nil {
				return verified{}, err
			}
			// The lookup matched on the hash; compare again in constant time
			// so the check itself does not depend on where bytes differ.
			if subtle.ConstantTimeCompare([]byte(strings.TrimPrefix(row.TokenHash, pkcePrefix)), []byte(want)) == 1 {
				found = &row
			}
			break
		}
		if found != nil {
			break
		}
	}
	if found == nil {
		return verified{}, expired
	}
	if found.DbNow.Time.Sub(found.CreatedAt.Time) > s.cfg.MailerOTPExpiry {
		return verified{}, expired
	}
	if err := q.DeleteOneTimeToken(ctx, db.DeleteOneTimeTokenParams{UserID: found.UserID, TokenType: found.TokenType}); err != nil {
		return verified{}, err
	}
	u, err := q.GetUserByID(ctx, found.UserID)
	if err != nil {
		return verified{}, err
	}
	if banned(u, time.Now()) {
		return verified{}, forbidden(CodeUserBanned, "User is banned")
	}

	method := amrOTP
	switch found.TokenType {
	case "confirmation_token":
		if p.Type == VerifyInvite {
			method = amrInvite
		}
		u.ConfirmationToken = ptr("")
		if err := s.confirmEmail(ctx, q, &u); err != nil {
			return verified{}, err
		}
	case "recovery_token":
		method = amrRecovery
		if p.Type == VerifyMagicLink {
			method = amrMagicLink
		}
		u.RecoveryToken = ptr("")
		if err := s.confirmEmail(ctx, q, &u); err != nil {
			return verified{}, err
		}
	case "email_change_token_new", "email_change_token_current":
		method = amrEmailChange
		newEmail := str(u.EmailChange)
		if newEmail == "" || (found.TokenType == "email_change_token_new" && newEmail != found.RelatesTo) {
			return verified{}, expired
		}
		// With a secure change both addresses confirm: the first
		// confirmation is recorded, the second applies the change.
		other := "email_change_token_current"
		if found.TokenType == other {
			other = "email_change_token_new"
		}
		_, err := q.GetUserOneTimeToken(ctx, db.GetUserOneTimeTokenParams{UserID: u.ID, TokenType: other})
		if err == nil {
			if found.TokenType == "email_change_token_new" {
				u.EmailChangeTokenNew = ptr("")
			} else {
				u.EmailChangeTokenCurrent = ptr("")
			}
			u.EmailChangeConfirmStatus = ptr(int16(1))
			if _, err := q.UpdateUser(ctx, updateParams(u)); err != nil {
				return verified{}, err
			}
			return verified{user: u, partial: true}, nil
		} else if !notFound(err) {
			return verified{}, err
		}
		if u, err = s.applyEmail(ctx, q, u, newEmail); err != nil {
			return verified{}, err
		}
	}
	if err := s.audit(ctx, q, u.ID, str(u.Email), actionVerified, map[string]any{"type": p.Type}); err != nil {
		return verified{}, err
	}

	v := verified{user: u, method: method}
	if strings.HasPrefix(found.TokenHash, pkcePrefix) {
		f, err := q.GetLatestFlowState(ctx, db.GetLatestFlowStateParams{UserID: &u.ID, AuthenticationMethod: flowMethod(found.TokenType, p.Type)})
		if err == nil {
			if err := q.IssueFlowAuthCode(ctx, f.ID); err != nil {
				return verified{}, err
			}
			v.code = f.AuthCode
		} else if !notFound(err) {
			return verified{}, err
		}
	}
	return v, nil
}

// verified is a spent one-time token: the user, the authentication method,
// the PKCE auth code if the flow has one, and whether this was only the
// first confirmation of a secure e-mail change.
type verified struct {
	user    db.AuthUser
	method  string
	code    string
	partial bool
}

// flowMethod is the authentication method a PKCE flow was stored with.
func flowMethod(tokenType, typ string) string {
	switch tokenType {
	case "recovery_token":
		if typ == VerifyMagicLink {
			return amrMagicLink
		}
		return amrRecovery
	case "email_change_token_new":
		return amrEmailChange
	}
	if typ == VerifyInvite {
		return amrInvite
	}
	return amrOTP
}

// confirmEmail marks the user's address confirmed and writes the row back.
func (s *Service) confirmEmail(ctx context.Context, q *db.Queries, u *db.AuthUser) error {
	first := !u.EmailConfirmedAt.Valid
	if first {
		u.EmailConfirmedAt = ts(time.Now())
	}
	updated, err := q.UpdateUser(ctx, updateParams(*u))
	if err != nil {
		return err
	}
	*u = updated
	if first && str(u.Email) != "" {
		return q.SetIdentityData(ctx, db.SetIdentityDataParams{
			UserID: u.ID, Provider: "email", IdentityData: mustJSON(identityData(u.ID, str(u.Email), true)),
		})
	}
	return nil
}
