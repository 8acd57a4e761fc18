package jwt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
)

const secret = "test-secret-test-secret-test-secret-123"

func TestVerify(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	keys := New(secret, func() time.Time { return now })
	sign := func(claims map[string]any) string {
		s, err := keys.Sign(claims)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hs512, _ := gojwt.NewWithClaims(gojwt.SigningMethodHS512, gojwt.MapClaims{"role": "anon"}).SignedString([]byte(secret))
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	es256, _ := gojwt.NewWithClaims(gojwt.SigningMethodES256, gojwt.MapClaims{"role": "anon"}).SignedString(ecKey)
	other, _ := New("other-secret-other-secret-other-secret", nil).Sign(map[string]any{"role": "anon"})
	enc := base64.RawURLEncoding.EncodeToString
	none := enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc([]byte(`{"role":"service_role"}`)) + "."
	anonKey, _ := keys.APIKey(RoleAnon)

	cases := []struct {
		name     string
		token    string
		wantErr  error
		wantRole string
		wantSub  string
	}{
		{"anon key", anonKey, nil, RoleAnon, ""},
		{"user token", sign(map[string]any{"role": "authenticated", "sub": "u1", "exp": now.Add(time.Hour).Unix()}), nil, RoleAuthenticated, "u1"},
		{"no role claim is anon", sign(map[string]any{"sub": "u2"}), nil, RoleAnon, "u2"},
		{"expired", sign(map[string]any{"role": "anon", "exp": now.Add(-time.Minute).Unix()}), ErrExpired, "", ""},
		{"expired within leeway", sign(map[string]any{"role": "anon", "exp": now.Add(-10 * time.Second).Unix()}), nil, RoleAnon, ""},
		{"not yet valid", sign(map[string]any{"role": "anon", "nbf": now.Add(time.Hour).Unix()}), ErrNotValidYet, "", ""},
		{"issued in the future", sign(map[string]any{"role": "anon", "iat": now.Add(time.Hour).Unix()}), ErrNotValidYet, "", ""},
		{"other secret", other, ErrSignature, "", ""},
		{"alg none", none, ErrAlgorithm, "", ""},
		{"HS512", hs512, ErrAlgorithm, "", ""},
		{"ES256", es256, ErrAlgorithm, "", ""},
		{"unknown role", sign(map[string]any{"role": "postgres"}), ErrRole, "", ""},
		{"role not a string", sign(map[string]any{"role": 7}), ErrRole, "", ""},
		{"garbage", "not-a-jwt", ErrMalformed, "", ""},
		{"bad base64", "a.b.c", ErrMalformed, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := keys.Verify(c.token)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if err != nil {
				return
			}
			if got.Role != c.wantRole || got.Subject != c.wantSub {
				t.Errorf("role %q sub %q, want %q %q", got.Role, got.Subject, c.wantRole, c.wantSub)
			}
			if len(got.Claims) == 0 || got.Claims[0] != '{' {
				t.Errorf("claims = %s, want the JSON payload", got.Claims)
			}
		})
	}
}

func TestAPIKeysAreStable(t *testing.T) {
	a, _ := New(secret, nil).APIKey(RoleServiceRole)
	b, _ := New(secret, nil).APIKey(RoleServiceRole)
	if a != b {
		t.Error("the service-role key changes between calls; want one key per secret")
	}
	tok, err := New(secret, nil).Verify(a)
	if err != nil || tok.Role != RoleServiceRole {
		t.Errorf("Verify(service key) = %+v, %v", tok, err)
	}
}
