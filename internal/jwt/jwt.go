// Package jwt signs and verifies the tokens pgStack accepts: the HS256 anon and
// service-role API keys and the access tokens issued by /auth/v1 (HS256, or
// ES256/RS256 with an optional signing key).
package jwt

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
)

// The roles a verified token may carry. They are the PostgreSQL roles the
// request pool may switch to.
const (
	RoleAnon          = "anon"
	RoleAuthenticated = "authenticated"
	RoleServiceRole   = "service_role"
)

// Issuer is the iss claim of the keys pgStack mints.
const Issuer = "pgstack"

// Leeway tolerates clock skew between pgStack and whoever minted a token, as
// PostgREST does.
const Leeway = 30 * time.Second

// API keys are long-lived and deterministic for a secret, so `pgstack keys`
// prints the same keys every time: issued 2025-01-01, valid for ten years.
var (
	keyIssuedAt  = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	keyExpiresAt = keyIssuedAt.AddDate(10, 0, 0)
)

// Errors returned by Verify; errors.Is works on them.
var (
	ErrMalformed   = errors.New("token is malformed")
	ErrSignature   = errors.New("token signature is invalid")
	ErrAlgorithm   = errors.New("token algorithm is not allowed")
	ErrExpired     = errors.New("token is expired")
	ErrNotValidYet = errors.New("token is not valid yet")
	ErrRole        = errors.New("token role is not allowed")
)

// Token is a verified token.
type Token struct {
	// Role is the role claim, or anon when the token has none (PostgREST's rule).
	Role string
	// Subject is the sub claim, empty when absent.
	Subject string
	// Claims is the verified payload exactly as the client sent it.
	Claims json.RawMessage
}

// Keys signs and verifies tokens with one HS256 secret.
type Keys struct {
	secret  []byte
	parser  *gojwt.Parser
	now     func() time.Time
	signing *SigningKey
}

// New returns Keys for secret. now may be nil (time.Now).
func New(secret string, now func() time.Time) *Keys {
	if now == nil {
		now = time.Now
	}
	return &Keys{
		secret: []byte(secret),
		now:    now,
		parser: gojwt.NewParser(
			gojwt.WithValidMethods([]string{gojwt.SigningMethodHS256.Alg(),
				gojwt.SigningMethodES256.Alg(), gojwt.SigningMethodRS256.Alg()}),
			gojwt.WithLeeway(Leeway),
			gojwt.WithIssuedAt(),
			gojwt.WithTimeFunc(now),
		),
	}
}

// Sign returns an HS256 token for claims.
func (k *Keys) Sign(claims map[string]any) (string, error) {
	t := gojwt.NewWithClaims(gojwt.SigningMethodHS256, gojwt.MapClaims(claims))
	s, err := t.SignedString(k.secret)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// APIKey returns the long-lived API key for role (anon or service_role).
func (k *Keys) APIKey(role string) (string, error) {
	return k.Sign(map[string]any{
		"iss":  Issuer,
		"role": role,
		"iat":  keyIssuedAt.Unix(),
		"exp":  keyExpiresAt.Unix(),
	})
}

// Verify checks the signature (HS256 with the secret, or the algorithm of the
// signing key when the header names its kid), exp/nbf/iat and the role claim.
func (k *Keys) Verify(token string) (Token, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Token{}, ErrMalformed
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if raw, err := base64.RawURLEncoding.DecodeString(parts[0]); err != nil || json.Unmarshal(raw, &header) != nil {
		return Token{}, ErrMalformed
	}
	// The key is chosen by the header, and the algorithm must be that key's:
	// an HS256 token can never be checked against a public key or vice versa.
	var key any
	switch {
	case header.Alg == gojwt.SigningMethodHS256.Alg():
		key = k.secret
	case k.signing != nil && header.Alg == k.signing.Alg() && header.Kid == k.signing.kid:
		key = k.signing.priv.Public()
	default:
		return Token{}, ErrAlgorithm
	}

	var claims gojwt.MapClaims
	_, err := k.parser.ParseWithClaims(token, &claims, func(t *gojwt.Token) (any, error) {
		if t.Method.Alg() != header.Alg {
			return nil, ErrAlgorithm
		}
		return key, nil
	})
	switch {
	case err == nil:
	case errors.Is(err, gojwt.ErrTokenExpired):
		return Token{}, ErrExpired
	case errors.Is(err, gojwt.ErrTokenNotValidYet), errors.Is(err, gojwt.ErrTokenUsedBeforeIssued):
		return Token{}, ErrNotValidYet
	case errors.Is(err, gojwt.ErrTokenSignatureInvalid):
		return Token{}, ErrSignature
	default:
		return Token{}, ErrMalformed
	}

	role := RoleAnon
	if v, ok := claims["role"]; ok {
		s, _ := v.(string)
		if !ValidRole(s) {
			return Token{}, ErrRole
		}
		role = s
	}
	sub, _ := claims["sub"].(string)

	// The payload was verified above; keep the client's bytes as the claims.
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return Token{}, ErrMalformed
	}
	return Token{Role: role, Subject: sub, Claims: payload}, nil
}

// ValidRole reports whether role is one a token may carry.
func ValidRole(role string) bool {
	switch role {
	case RoleAnon, RoleAuthenticated, RoleServiceRole:
		return true
	}
	return false
}
