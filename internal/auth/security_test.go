package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pgstack/pgstack/internal/apitest"
	"github.com/pgstack/pgstack/internal/config"
)

func TestES256SigningKey(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalECPrivateKey(key)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	e := newEnv(t, func(c *config.Config) { c.Auth.JWTSigningKey = pemKey })

	s := e.signUp(t, "es@example.com")
	access := field(s, "access_token")
	header := map[string]string{}
	b, _ := base64.RawURLEncoding.DecodeString(strings.Split(access, ".")[0])
	_ = json.Unmarshal(b, &header)
	if header["alg"] != "ES256" || header["kid"] == "" {
		t.Fatalf("access token header = %v, want ES256 with a kid", header)
	}
	e.Run(t,
		apitest.Scenario{Name: "user with an ES256 token", Method: "GET", URL: "/auth/v1/user", Headers: e.headers(access), WantStatus: 200},
		apitest.Scenario{Name: "jwks", Method: "GET", URL: "/auth/v1/.well-known/jwks.json", WantStatus: 200,
			WantBody:    []string{`"kid":"` + header["kid"] + `"`, `"alg":"ES256"`, `"kty":"EC"`, `"crv":"P-256"`, `"key_ops":["verify"]`},
			WantNotBody: []string{`"d"`}},
		// The HS256 API keys keep working next to the signing key.
		apitest.Scenario{Name: "service key", Method: "GET", URL: "/auth/v1/admin/users", Headers: e.headers(e.ServiceKey), WantStatus: 200},
	)
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *config.Config) {
		c.Auth.RateLimitHeader = "X-Real-IP"
		c.Auth.RateLimitTokenRefresh = 2
		c.Auth.RateLimitPerEmail = 4 // the sign-up counts too
	})
	e.signUp(t, "rate@example.com")
	attempt := func(name, ip, email string, want int, body ...string) apitest.Scenario {
		h := e.headers("")
		h["X-Real-IP"] = ip
		return apitest.Scenario{Name: name, Method: "POST", URL: "/auth/v1/token?grant_type=password", Headers: h,
			Body: `{"email":"` + email + `","password":"wrong password"}`, WantStatus: want, WantBody: body}
	}
	e.Run(t,
		attempt("first", "10.0.0.1", "a@example.com", 400),
		attempt("second", "10.0.0.1", "b@example.com", 400),
		attempt("third from the same IP", "10.0.0.1", "c@example.com", 429, `"code":"over_request_rate_limit"`),
		attempt("another IP", "10.0.0.2", "rate@example.com", 400),
		attempt("same address, third IP", "10.0.0.3", "rate@example.com", 400),
		attempt("same address, fourth IP", "10.0.0.4", "rate@example.com", 400),
		attempt("same address, too often", "10.0.0.5", "rate@example.com", 429, `"code":"over_request_rate_limit"`),
	)

	// Without a trusted header there is no per-IP limit (a client could pick
	// any address), as in GoTrue.
	open := newEnv(t, func(c *config.Config) { c.Auth.RateLimitTokenRefresh = 1 })
	for i := range 3 {
		open.Run(t, apitest.Scenario{Name: "no header " + string(rune('a'+i)), Method: "POST", URL: "/auth/v1/token?grant_type=password",
			Headers: open.headers(""), Body: `{"email":"x` + string(rune('a'+i)) + `@example.com","password":"wrong password"}`, WantStatus: 400})
	}

	// Mail to one address is spaced by SMTP_MAX_FREQUENCY.
	spaced := newEnv(t, func(c *config.Config) { c.Auth.SMTPMaxFrequency = time.Minute })
	spaced.signUp(t, "spaced@example.com")
	spaced.Run(t,
		apitest.Scenario{Name: "first recovery", Method: "POST", URL: "/auth/v1/recover", Headers: spaced.headers(""),
			Body: `{"email":"spaced@example.com"}`, WantStatus: 200},
		apitest.Scenario{Name: "second recovery", Method: "POST", URL: "/auth/v1/recover", Headers: spaced.headers(""),
			Body: `{"email":"spaced@example.com"}`, WantStatus: 429, WantBody: []string{`"code":"over_email_send_rate_limit"`}},
	)
}

// A sign-in with an unknown e-mail takes as long as one with a known e-mail
// and a wrong password: both pay for one bcrypt comparison at the configured
// cost, so timing does not tell which addresses have accounts. The test is
// not parallel, and alternates the two kinds of attempts, so both see the
// same machine load.
func TestSignInTimingDoesNotRevealAccounts(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.Auth.BcryptCost = 8 // far above the cost of the database work
		c.Auth.RateLimitPerEmail = 1000
	})
	e.signUp(t, "known@example.com")
	attempt := func(email string) time.Duration {
		req := httptest.NewRequest("POST", "/auth/v1/token?grant_type=password",
			strings.NewReader(`{"email":"`+email+`","password":"wrong password"}`))
		rec := httptest.NewRecorder()
		start := time.Now()
		e.Handler.ServeHTTP(rec, req)
		d := time.Since(start)
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		return d
	}
	var known, unknown []time.Duration
	for range 9 {
		known = append(known, attempt("known@example.com"))
		unknown = append(unknown, attempt("unknown@example.com"))
	}
	median := func(d []time.Duration) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	k, u := median(known), median(unknown)
	// Without the dummy comparison the unknown address answers in a small
	// fraction of the time; allow generous noise either way.
	if u < k/3 || k < u/3 {
		t.Errorf("median sign-in: known address %v, unknown %v; want comparable times", k, u)
	}
}
