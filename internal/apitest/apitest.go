// Package apitest runs HTTP scenarios through the fully assembled router over
// a real PostgreSQL database, and validates every response of a spec'd
// endpoint against its OpenAPI spec.
package apitest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/pgstack/pgstack/gen/api/admin"
	"github.com/pgstack/pgstack/gen/api/auth"
	"github.com/pgstack/pgstack/gen/api/functions"
	"github.com/pgstack/pgstack/internal/config"
	"github.com/pgstack/pgstack/internal/database"
	"github.com/pgstack/pgstack/internal/jwt"
	"github.com/pgstack/pgstack/internal/pgtest"
	"github.com/pgstack/pgstack/internal/server"
)

// Specs lists the generated specs whose responses are validated.
var Specs = []func() (*openapi3.T, error){admin.GetSwagger, auth.GetSwagger, functions.GetSwagger}

// Env is an assembled server over a fresh test database.
type Env struct {
	Handler    http.Handler
	Config     *config.Config
	Keys       *jwt.Keys
	DB         pgtest.DB
	Pools      *database.DB
	AnonKey    string
	ServiceKey string
	routers    []routers.Router
}

// New assembles a server over a new database. configure may adjust the
// configuration before the server is built.
func New(t testing.TB, configure ...func(*config.Config)) *Env {
	t.Helper()
	cfg, err := config.Load(config.ModeServe, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	tdb := pgtest.NewDB(t)
	cfg.DatabaseURL = tdb.URL
	cfg.JWTSecret = pgtest.JWTSecret
	cfg.AuthenticatorPassword = pgtest.AuthenticatorPassword
	for _, f := range configure {
		f(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	pools := tdb.Open(t)
	keys, err := server.NewKeys(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Deps{
		Config: cfg, DB: pools, Keys: keys, Version: "test",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{Handler: srv.Handler(), Config: cfg, Keys: keys, DB: tdb, Pools: pools}
	e.AnonKey, _ = keys.APIKey(jwt.RoleAnon)
	e.ServiceKey, _ = keys.APIKey(jwt.RoleServiceRole)
	for _, load := range Specs {
		spec, err := load()
		if err != nil {
			t.Fatal(err)
		}
		r, err := legacy.NewRouter(spec)
		if err != nil {
			t.Fatal(err)
		}
		e.routers = append(e.routers, r)
	}
	return e
}

// Scenario is one request and what its response must be.
type Scenario struct {
	Name    string
	Method  string
	URL     string
	Headers map[string]string
	Body    string
	// Request, when set, replaces Method/URL/Body (for unusual requests).
	Request func() *http.Request

	WantStatus  int
	WantBody    []string          // substrings the body must contain
	WantNotBody []string          // substrings it must not contain
	WantHeaders map[string]string // exact header values ("" means absent)
	Check       func(t *testing.T, res *http.Response, body []byte)
}

// Run runs the scenarios as subtests.
func (e *Env) Run(t *testing.T, scenarios ...Scenario) {
	t.Helper()
	for _, s := range scenarios {
		t.Run(s.Name, func(t *testing.T) { e.run(t, s) })
	}
}

func (e *Env) run(t *testing.T, s Scenario) {
	var req *http.Request
	if s.Request != nil {
		req = s.Request()
	} else {
		req = httptest.NewRequest(s.Method, s.URL, strings.NewReader(s.Body))
		if s.Body == "" {
			req.Body = http.NoBody
			req.ContentLength = 0
		}
	}
	for k, v := range s.Headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, req)
	res := rec.Result()
	body := rec.Body.Bytes()

	if res.StatusCode != s.WantStatus {
		t.Errorf("status = %d, want %d; body: %s", res.StatusCode, s.WantStatus, body)
	}
	for _, sub := range s.WantBody {
		if !bytes.Contains(body, []byte(sub)) {
			t.Errorf("body does not contain %q: %s", sub, body)
		}
	}
	for _, sub := range s.WantNotBody {
		if bytes.Contains(body, []byte(sub)) {
			t.Errorf("body contains %q: %s", sub, body)
		}
	}
	for k, want := range s.WantHeaders {
		if got := res.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if res.StatusCode >= 400 && !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") && req.Method != http.MethodHead {
		t.Errorf("error response Content-Type = %q, want JSON", res.Header.Get("Content-Type"))
	}
	e.validate(t, req, res, body)
	if s.Check != nil {
		s.Check(t, res, body)
	}
}

// validate checks the response against the spec that declares its route, if any.
func (e *Env) validate(t *testing.T, req *http.Request, res *http.Response, body []byte) {
	t.Helper()
	for _, r := range e.routers {
		route, params, err := r.FindRoute(req)
		if err != nil {
			continue
		}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{
				Request: req, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
			},
			Status: res.StatusCode,
			Header: res.Header,
			Body:   io.NopCloser(bytes.NewReader(body)),
			Options: &openapi3filter.Options{
				IncludeResponseStatus: true,
				MultiError:            true,
			},
		}
		if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
			t.Errorf("response does not match the spec for %s %s: %v", req.Method, route.Path, err)
		}
		return
	}
}

// Serve starts a real HTTP server on loopback for clients outside the process
// (the JavaScript client tests) and returns its URL.
func (e *Env) Serve(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(e.Handler)
	t.Cleanup(srv.Close)
	return srv.URL
}

// UserToken signs an access token for the authenticated user sub, valid for
// ttl, as /auth/v1 would issue it.
func (e *Env) UserToken(t testing.TB, sub string, ttl time.Duration) string {
	t.Helper()
	tok, err := e.Keys.Sign(map[string]any{"sub": sub, "role": jwt.RoleAuthenticated, "aud": "authenticated",
		"exp": time.Now().Add(ttl).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// WaitFor polls cond until it holds, failing t after 10 s: for state that
// changes without an event a test could wait on (a file watcher's redeploy,
// a replica's catalog reload).
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
