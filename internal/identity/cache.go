package identity

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pgstack/pgstack/internal/jwt"
)

// Cache remembers resolved identities by the request's credentials, so a
// client sending the same tokens on every request (as supabase-js does) pays
// for HMAC verification and claims decoding once (PostgREST keeps a JWT cache
// for the same reason). An entry lives until the earliest exp of its tokens
// (plus the verification leeway); failures are never cached. When full, the
// cache starts over.
type Cache struct {
	keys *jwt.Keys
	max  int
	now  func() time.Time

	mu      sync.Mutex
	entries map[cacheKey]cacheEntry
}

type cacheKey struct{ apikey, authorization string }

type cacheEntry struct {
	id      Identity
	expires time.Time // zero: no exp claim
}

// NewCache returns a cache of at most max identities. now may be nil.
func NewCache(keys *jwt.Keys, max int, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{keys: keys, max: max, now: now, entries: map[cacheKey]cacheEntry{}}
}

// Resolve is Resolve with the cache in front.
func (c *Cache) Resolve(r *http.Request) (Identity, error) {
	k := cacheKey{r.Header.Get("apikey"), r.Header.Get("Authorization")}
	if k.apikey == "" && k.authorization == "" {
		return Anonymous(), nil
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[k]
	c.mu.Unlock()
	if ok && (e.expires.IsZero() || now.Before(e.expires)) {
		return e.id, nil
	}
	id, err := Resolve(c.keys, r)
	if err != nil {
		return Identity{}, err
	}
	e = cacheEntry{id: id}
	for _, tok := range []string{strings.TrimSpace(k.apikey), bearer(k.authorization)} {
		if tok == "" {
			continue
		}
		exp, has, err := expiry(tok)
		if err != nil {
			return id, nil // verified but unreadable here: do not cache
		}
		if has && (e.expires.IsZero() || exp.Before(e.expires)) {
			e.expires = exp
		}
	}
	if !e.expires.IsZero() {
		e.expires = e.expires.Add(jwt.Leeway)
	}
	c.mu.Lock()
	if len(c.entries) >= c.max {
		clear(c.entries)
	}
	c.entries[k] = e
	c.mu.Unlock()
	return id, nil
}

// Middleware is Middleware with the cache in front.
func (c *Cache) Middleware(writeErr func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, err := c.Resolve(r)
			if err != nil {
				writeErr(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(With(r.Context(), id)))
		})
	}
}

// bearer extracts the token of an Authorization header the way Resolve does.
func bearer(h string) string {
	_, token, _ := strings.Cut(strings.TrimSpace(h), " ")
	return strings.TrimSpace(token)
}

// expiry reads the exp claim of a token that was already verified: has is
// false when it has none.
func expiry(token string) (exp time.Time, has bool, err error) {
	payload, err := jwtPayload(token)
	if err != nil {
		return time.Time{}, false, err
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return time.Time{}, false, err
	}
	if claims.Exp == nil {
		return time.Time{}, false, nil
	}
	f, err := claims.Exp.Float64()
	if err != nil {
		return time.Time{}, false, err
	}
	return time.Unix(int64(f), 0), true, nil
}

func jwtPayload(token string) ([]byte, error) {
	first := -1
	for i := 0; i < len(token); i++ {
		if token[i] == '.' {
			if first < 0 {
				first = i
				continue
			}
			return base64.RawURLEncoding.DecodeString(token[first+1 : i])
		}
	}
	return nil, errMalformed
}

var errMalformed = errors.New("malformed token")
