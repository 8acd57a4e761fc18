package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/mail"
	"regexp"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// maxPasswordBytes is bcrypt's limit: longer passwords would be truncated.
const maxPasswordBytes = 72

func (s *Service) checkPassword(pw string) error {
	if len(pw) > maxPasswordBytes {
		return badRequest(CodeValidationFailed, "Password cannot be longer than %d characters", maxPasswordBytes)
	}
	if len([]rune(pw)) < s.cfg.PasswordMinLength {
		e := unprocessable(CodeWeakPassword, "Password should be at least %d characters.", s.cfg.PasswordMinLength)
		e.Reasons = []string{"length"}
		return e
	}
	return nil
}

// hashSlot waits for one of the bcrypt slots. There is one per CPU: a burst
// of sign-ins queues here instead of time-slicing every core between
// hundreds of hashes, so refreshes and other requests still get CPU.
func (s *Service) hashSlot(ctx context.Context) (release func(), err error) {
	select {
	case s.hashSlots <- struct{}{}:
		return func() { <-s.hashSlots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Service) hashPassword(ctx context.Context, pw string) (string, error) {
	release, err := s.hashSlot(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), s.cfg.BcryptCost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// comparePassword checks pw against hash; with no hash it compares against a
// dummy of the same cost, so both paths take the same time.
func (s *Service) comparePassword(ctx context.Context, hash *string, pw string) (bool, error) {
	release, err := s.hashSlot(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	if hash == nil || *hash == "" || !strings.HasPrefix(*hash, "$2") {
		_ = bcrypt.CompareHashAndPassword(s.dummyHash, []byte(pw))
		return false, nil
	}
	return bcrypt.CompareHashAndPassword([]byte(*hash), []byte(pw)) == nil, nil
}

// normalizeEmail validates an e-mail address and lower-cases it.
func normalizeEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", badRequest(CodeValidationFailed, "An email address is required")
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || len(email) > 255 || !strings.Contains(email[strings.LastIndex(email, "@")+1:], ".") {
		return "", badRequest(CodeEmailAddressInvalid, "Unable to validate email address: invalid format")
	}
	return strings.ToLower(email), nil
}

var codeChallengeRE = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// pkceParams are a flow's code challenge, both set or both empty.
type pkceParams struct {
	Challenge, Method string
}

func (p pkceParams) enabled() bool { return p.Challenge != "" }

func checkPKCE(challenge, method string) (pkceParams, error) {
	if challenge == "" && method == "" {
		return pkceParams{}, nil
	}
	if challenge == "" || method == "" {
		return pkceParams{}, badRequest(CodeValidationFailed, "PKCE flow requires code_challenge_method and code_challenge")
	}
	method = strings.ToLower(method)
	if method != "s256" && method != "plain" {
		return pkceParams{}, badRequest(CodeValidationFailed, "code challenge method not supported")
	}
	if !codeChallengeRE.MatchString(challenge) {
		return pkceParams{}, badRequest(CodeValidationFailed, "code challenge has to be between 43 and 128 characters of [A-Za-z0-9._~-]")
	}
	return pkceParams{Challenge: challenge, Method: method}, nil
}

// verifyPKCE checks a code verifier against the stored challenge in
// constant time.
func verifyPKCE(method, challenge, verifier string) error {
	if !codeChallengeRE.MatchString(verifier) {
		return badRequest(CodeValidationFailed, "code verifier has to be between 43 and 128 characters of [A-Za-z0-9._~-]")
	}
	want := verifier
	if method == "s256" {
		sum := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) != 1 {
		return newError(http.StatusBadRequest, CodeBadCodeVerifier, "code challenge does not match previously saved code verifier")
	}
	return nil
}
