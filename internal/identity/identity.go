// Package identity resolves who a request is from: the verified JWT in
// `Authorization: Bearer` or `apikey` (as supabase-js sends them), or anon.
package identity

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/pgstack/pgstack/internal/httperr"
	"github.com/pgstack/pgstack/internal/jwt"
)

// Identity is the caller of a request: the PostgreSQL role its statements
// run as and the claims RLS policies read.
type Identity struct {
	Role    string
	Subject string
	Claims  json.RawMessage
	// Token is the verified bearer token, or "" for an anonymous request.
	Token string
}

var anonClaims = json.RawMessage(`{"role":"anon"}`)

// Anonymous is the identity of a request without a token.
func Anonymous() Identity { return Identity{Role: jwt.RoleAnon, Claims: anonClaims} }

// IsServiceRole reports whether the caller holds the service role.
func (id Identity) IsServiceRole() bool { return id.Role == jwt.RoleServiceRole }

type ctxKey struct{}

// With returns ctx carrying id.
func With(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// From returns the identity in ctx, or Anonymous if none was resolved.
func From(ctx context.Context) Identity {
	if id, ok := ctx.Value(ctxKey{}).(Identity); ok {
		return id
	}
	return Anonymous()
}

// Resolve verifies the request's tokens. `Authorization: Bearer` decides the
// identity; `apikey`, when present, must be valid too and decides it when
// there is no bearer token. With neither the caller is anon.
func Resolve(keys *jwt.Keys, r *http.Request) (Identity, error) {
	id := Anonymous()
	if key := strings.TrimSpace(r.Header.Get("apikey")); key != "" {
		t, err := keys.Verify(key)
		if err != nil {
			return Identity{}, tokenError("apikey", err)
		}
		id = Identity{Role: t.Role, Subject: t.Subject, Claims: t.Claims, Token: key}
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
		token = strings.TrimSpace(token)
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			return Identity{}, httperr.Unauthorized(httperr.CodeInvalidToken, "Authorization header must be: Bearer <token>")
		}
		t, err := keys.Verify(token)
		if err != nil {
			return Identity{}, tokenError("bearer token", err)
		}
		id = Identity{Role: t.Role, Subject: t.Subject, Claims: t.Claims, Token: token}
	}
	return id, nil
}

func tokenError(which string, err error) *httperr.Error {
	msg := "invalid " + which
	switch {
	case errors.Is(err, jwt.ErrExpired):
		msg = which + " is expired"
	case errors.Is(err, jwt.ErrAlgorithm):
		msg = which + " must be signed with HS256 or the configured signing key"
	case errors.Is(err, jwt.ErrSignature):
		msg = which + " has an invalid signature"
	case errors.Is(err, jwt.ErrRole):
		msg = which + " has a role that is not anon, authenticated or service_role"
	case errors.Is(err, jwt.ErrNotValidYet):
		msg = which + " is not valid yet"
	case errors.Is(err, jwt.ErrMalformed):
		msg = which + " is not a well-formed JWT"
	}
	return httperr.Unauthorized(httperr.CodeInvalidToken, "%s", msg).WithCause(err)
}

// Middleware resolves the identity of every request and stores it in the
// context; a bad token is answered by writeErr (each API renders errors in its
// own wire format).
func Middleware(keys *jwt.Keys, writeErr func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, err := Resolve(keys, r)
			if err != nil {
				writeErr(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(With(r.Context(), id)))
		})
	}
}
