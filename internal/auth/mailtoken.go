package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgstack/pgstack/gen/db"
)

// mailEmailChangeCurrent is the e-mail change confirmation sent to the
// current address when both addresses must confirm.
const mailEmailChangeCurrent = "email_change_current"

// pkcePrefix marks a stored one-time token whose flow ends in a PKCE code.
const pkcePrefix = "pkce_"

// newOTP returns a 6-digit one-time code and the hash stored for it:
// hex(sha224(email + code)), GoTrue's token hash, which is also the token in
// e-mail links.
func newOTP(email string) (otp, hash string) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	otp = fmt.Sprintf("%06d", n.Int64())
	return otp, tokenHash(email, otp)
}

func tokenHash(email, otp string) string {
	sum := sha256.Sum224([]byte(strings.ToLower(email) + otp))
	return hex.EncodeToString(sum[:])
}

// tokenTypeOf is the one_time_tokens type and amr method of a mail kind.
func tokenTypeOf(kind string) (tokenType, method string) {
	switch kind {
	case MailRecovery:
		return "recovery_token", amrRecovery
	case MailMagicLink:
		return "recovery_token", amrMagicLink
	case MailEmailChange:
		return "email_change_token_new", amrEmailChange
	case mailEmailChangeCurrent:
		return "email_change_token_current", amrEmailChange
	case MailInvite:
		return "confirmation_token", amrInvite
	default:
		return "confirmation_token", amrOTP
	}
}

// mailToken is a one-time token issued for a user, with its link.
type mailToken struct {
	OTP, Hash, Stored, Link, RedirectTo string
}

// issueMailToken stores a new one-time token of kind for u (addressed to
// email) on the user row and in auth.one_time_tokens, and with PKCE a flow
// state whose code the link will yield. It updates u in place.
func (s *Service) issueMailToken(ctx context.Context, q *db.Queries, u *db.AuthUser, kind, email string, pkce pkceParams, redirectTo string) (mailToken, error) {
	otp, hash := newOTP(email)
	stored := hash
	tokenType, method := tokenTypeOf(kind)
	if pkce.enabled() {
		stored = pkcePrefix + hash
		if err := q.InsertFlowState(ctx, db.InsertFlowStateParams{
			ID: uuid.New(), UserID: &u.ID, AuthCode: uuid.NewString(),
			CodeChallengeMethod: pkce.Method, CodeChallenge: pkce.Challenge, AuthenticationMethod: method,
		}); err != nil {
			return mailToken{}, err
		}
	}
	now := ts(time.Now())
	switch tokenType {
	case "confirmation_token":
		u.ConfirmationToken, u.ConfirmationSentAt = &stored, now
	case "recovery_token":
		u.RecoveryToken, u.RecoverySentAt = &stored, now
	case "email_change_token_new":
		u.EmailChangeTokenNew, u.EmailChangeSentAt = &stored, now
	case "email_change_token_current":
		u.EmailChangeTokenCurrent, u.EmailChangeSentAt = &stored, now
	}
	updated, err := q.UpdateUser(ctx, updateParams(*u))
	if err != nil {
		return mailToken{}, err
	}
	*u = updated
	if err := q.UpsertOneTimeToken(ctx, db.UpsertOneTimeTokenParams{
		ID: uuid.New(), UserID: u.ID, TokenType: tokenType, TokenHash: stored, RelatesTo: strings.ToLower(email),
	}); err != nil {
		return mailToken{}, err
	}
	redirect := s.redirectURL(redirectTo)
	linkType := kind
	if kind == mailEmailChangeCurrent {
		linkType = MailEmailChange
	}
	link := s.cfg.ExternalURL + "/auth/v1/verify?" + url.Values{
		"token": {stored}, "type": {linkType}, "redirect_to": {redirect},
	}.Encode()
	return mailToken{OTP: otp, Hash: hash, Stored: stored, Link: link, RedirectTo: redirect}, nil
}

// checkMailFrequency refuses a second mail of a kind within SMTP_MAX_FREQUENCY.
func (s *Service) checkMailFrequency(sentAt pgtype.Timestamptz) error {
	if !sentAt.Valid || s.cfg.SMTPMaxFrequency <= 0 {
		return nil
	}
	wait := time.Until(sentAt.Time.Add(s.cfg.SMTPMaxFrequency))
	if wait > 0 {
		return newError(http.StatusTooManyRequests, CodeOverEmailSendRateLimit,
			"For security purposes, you can only request this after %d seconds.", int(wait.Seconds())+1)
	}
	return nil
}

// sendMail issues a token of kind for u and mails its link to email.
func (s *Service) sendMail(ctx context.Context, q *db.Queries, u *db.AuthUser, kind, email string, pkce pkceParams, redirectTo string) error {
	if err := s.allowMail(); err != nil {
		return err
	}
	t, err := s.issueMailToken(ctx, q, u, kind, email, pkce, redirectTo)
	if err != nil {
		return err
	}
	template := kind
	if kind == mailEmailChangeCurrent {
		template = MailEmailChange
	}
	m, err := renderMail(template, email, mailData{Link: t.Link, OTP: t.OTP, Email: str(u.Email), NewEmail: str(u.EmailChange), SiteURL: s.siteURL})
	if err != nil {
		return err
	}
	if err := s.mailer.Send(ctx, m); err != nil {
		return newError(http.StatusInternalServerError, CodeUnexpectedFailure, "Error sending %s email", mailNoun(kind)).withCause(err)
	}
	return nil
}

func mailNoun(kind string) string {
	switch kind {
	case MailSignup:
		return "confirmation"
	case MailEmailChange:
		return "email change"
	case MailMagicLink:
		return "magic link"
	case MailInvite:
		return "invite"
	}
	return "recovery"
}

// redirectURL returns redirectTo when SITE_URL or URI_ALLOW_LIST admits it,
// and SITE_URL otherwise.
func (s *Service) redirectURL(redirectTo string) string {
	if redirectTo == "" {
		return s.siteURL
	}
	u, err := url.Parse(redirectTo)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return s.siteURL
	}
	if site, err := url.Parse(s.siteURL); err == nil && site.Scheme == u.Scheme && site.Host == u.Host {
		return redirectTo
	}
	for _, allowed := range s.cfg.URIAllowList {
		if prefix, ok := strings.CutSuffix(allowed, "*"); ok {
			if strings.HasPrefix(redirectTo, prefix) {
				return redirectTo
			}
		} else if redirectTo == allowed {
			return redirectTo
		}
	}
	return s.siteURL
}
