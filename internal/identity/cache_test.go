package identity_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/pgstack/pgstack/internal/identity"
	"github.com/pgstack/pgstack/internal/jwt"
)

func TestCache(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	keys := jwt.New("cache-test-secret-cache-test-secret-0123", clock)
	c := identity.NewCache(keys, 2, clock)
	anon, _ := keys.APIKey(jwt.RoleAnon)
	user, _ := keys.Sign(map[string]any{"role": "authenticated", "sub": "u1", "exp": now.Add(time.Minute).Unix()})
	req := func(apikey, auth string) *http.Request {
		r, _ := http.NewRequest("GET", "/", nil)
		if apikey != "" {
			r.Header.Set("apikey", apikey)
		}
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		return r
	}

	for i := range 2 {
		id, err := c.Resolve(req(anon, "Bearer "+user))
		if err != nil || id.Role != jwt.RoleAuthenticated || id.Subject != "u1" {
			t.Fatalf("resolve %d: %+v, %v", i, id, err)
		}
	}
	// Past exp (and the leeway) the cached identity is not used: the token
	// is verified again and rejected.
	now = now.Add(time.Minute + jwt.Leeway + time.Second)
	if _, err := c.Resolve(req(anon, "Bearer "+user)); !errors.Is(err, jwt.ErrExpired) {
		t.Fatalf("expired token from the cache: err = %v, want ErrExpired", err)
	}
	// Failures are not cached and never served from the cache.
	bad := user[:len(user)-2] + "xx"
	for range 2 {
		if _, err := c.Resolve(req(anon, "Bearer "+bad)); err == nil {
			t.Fatal("tampered token accepted")
		}
	}
	// No credentials is anon without touching the cache.
	if id, err := c.Resolve(req("", "")); err != nil || id.Role != jwt.RoleAnon {
		t.Fatalf("no credentials: %+v, %v", id, err)
	}
	// A full cache starts over and keeps working.
	for i := range 5 {
		tok, _ := keys.Sign(map[string]any{"role": "authenticated", "sub": "many", "n": i, "exp": now.Add(time.Hour).Unix()})
		if id, err := c.Resolve(req("", "Bearer "+tok)); err != nil || id.Subject != "many" {
			t.Fatalf("resolve many %d: %+v, %v", i, id, err)
		}
	}
}
