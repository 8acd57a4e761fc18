package server_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pgstack/pgstack/internal/apitest"
	"github.com/pgstack/pgstack/internal/config"
	"github.com/pgstack/pgstack/internal/jwt"
	"github.com/pgstack/pgstack/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

// unsignedToken is a token with alg "none", the classic forgery.
func unsignedToken(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc([]byte(claims)) + "."
}

func TestHealthAndSettings(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, func(c *config.Config) { c.EdgeRuntimeURL = "http://127.0.0.1:9000" })
	other := jwt.New("another-secret-another-secret-another-secret", nil)
	forged, _ := other.APIKey(jwt.RoleServiceRole)
	expired, _ := e.Keys.Sign(map[string]any{"role": "service_role", "exp": time.Now().Add(-time.Hour).Unix()})
	userToken, _ := e.Keys.Sign(map[string]any{"role": "authenticated", "sub": "5d0f1e9a-7a4b-4c53-9c1e-0d7b3f0c1a11",
		"exp": time.Now().Add(time.Hour).Unix()})
	badRole, _ := e.Keys.Sign(map[string]any{"role": "postgres", "exp": time.Now().Add(time.Hour).Unix()})

	e.Run(t,
		apitest.Scenario{
			Name: "health", Method: "GET", URL: "/health",
			WantStatus: 200, WantBody: []string{`{"status":"ok"}`},
		},
		apitest.Scenario{
			Name: "health ignores tokens", Method: "GET", URL: "/health", Headers: bearer("garbage"),
			WantStatus: 200,
		},
		apitest.Scenario{
			Name: "settings with the service key", Method: "GET", URL: "/api/settings", Headers: bearer(e.ServiceKey),
			WantStatus: 200,
			Check: func(t *testing.T, _ *http.Response, body []byte) {
				var s struct {
					DatabaseVersion string `json:"database_version"`
					Runtimes        []struct {
						Name      string `json:"name"`
						Available bool   `json:"available"`
					} `json:"runtimes"`
				}
				if err := json.Unmarshal(body, &s); err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(s.DatabaseVersion, "1") {
					t.Errorf("database_version = %q", s.DatabaseVersion)
				}
				avail := map[string]bool{}
				for _, r := range s.Runtimes {
					avail[r.Name] = r.Available
				}
				if len(avail) != 5 || !avail["embedded"] || !avail["http"] || !avail["deno"] {
					t.Errorf("runtimes = %+v, want all five with embedded, http and deno available", s.Runtimes)
				}
			},
		},
		apitest.Scenario{
			Name: "settings with the service key as apikey", Method: "GET", URL: "/api/settings",
			Headers: map[string]string{"apikey": e.ServiceKey}, WantStatus: 200,
		},
		apitest.Scenario{
			Name: "settings without a token", Method: "GET", URL: "/api/settings",
			WantStatus: 401, WantBody: []string{`"code":"unauthorized"`},
		},
		apitest.Scenario{
			Name: "settings with the anon key", Method: "GET", URL: "/api/settings",
			Headers:    map[string]string{"apikey": e.AnonKey, "Authorization": "Bearer " + e.AnonKey},
			WantStatus: 401, WantBody: []string{`"code":"unauthorized"`},
		},
		apitest.Scenario{
			Name: "settings with a user token", Method: "GET", URL: "/api/settings",
			Headers:    map[string]string{"apikey": e.AnonKey, "Authorization": "Bearer " + userToken},
			WantStatus: 403, WantBody: []string{`"code":"forbidden"`},
		},
		apitest.Scenario{
			Name: "token signed with another secret", Method: "GET", URL: "/api/settings", Headers: bearer(forged),
			WantStatus: 401, WantBody: []string{`"code":"invalid_token"`, "invalid signature"},
		},
		apitest.Scenario{
			Name: "apikey signed with another secret", Method: "GET", URL: "/api/settings",
			Headers:    map[string]string{"apikey": forged, "Authorization": "Bearer " + e.ServiceKey},
			WantStatus: 401, WantBody: []string{`"code":"invalid_token"`, "apikey"},
		},
		apitest.Scenario{
			Name: "alg none", Method: "GET", URL: "/api/settings", Headers: bearer(unsignedToken(`{"role":"service_role"}`)),
			WantStatus: 401, WantBody: []string{`"code":"invalid_token"`, "HS256"},
		},
		apitest.Scenario{
			Name: "expired token", Method: "GET", URL: "/api/settings", Headers: bearer(expired),
			WantStatus: 401, WantBody: []string{`"code":"invalid_token"`, "expired"},
		},
		apitest.Scenario{
			Name: "role the authenticator may not switch to", Method: "GET", URL: "/api/settings", Headers: bearer(badRole),
			WantStatus: 401, WantBody: []string{`"code":"invalid_token"`, "role"},
		},
		apitest.Scenario{
			Name: "not a bearer scheme", Method: "GET", URL: "/api/settings",
			Headers:    map[string]string{"Authorization": "Basic dXNlcjpwYXNz"},
			WantStatus: 401, WantBody: []string{`"code":"invalid_token"`},
		},
	)
}

func TestPlatformBehaviour(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, func(c *config.Config) { c.MaxBodySize = 1024 })
	e.Run(t,
		apitest.Scenario{
			Name: "unknown route", Method: "GET", URL: "/nope",
			WantStatus: 404, WantBody: []string{`"code":"not_found"`},
		},
		apitest.Scenario{
			Name: "wrong method", Method: "DELETE", URL: "/health",
			WantStatus: 405, WantBody: []string{`"code":"method_not_allowed"`},
		},
		apitest.Scenario{
			Name: "declared body past MAX_BODY_SIZE", Method: "POST", URL: "/health", Body: strings.Repeat("x", 2048),
			WantStatus: 413, WantBody: []string{`"code":"request_too_large"`, "1024 bytes"},
		},
		apitest.Scenario{
			Name: "request id is generated", Method: "GET", URL: "/health", WantStatus: 200,
			Check: func(t *testing.T, res *http.Response, _ []byte) {
				if len(res.Header.Get("X-Request-Id")) != 36 {
					t.Errorf("X-Request-Id = %q, want a UUID", res.Header.Get("X-Request-Id"))
				}
			},
		},
		apitest.Scenario{
			Name: "well-formed request id is kept", Method: "GET", URL: "/health",
			Headers: map[string]string{"X-Request-Id": "trace-42"}, WantStatus: 200,
			WantHeaders: map[string]string{"X-Request-Id": "trace-42"},
		},
		apitest.Scenario{
			Name: "request id with control characters is replaced", Method: "GET", URL: "/health",
			Headers: map[string]string{"X-Request-Id": "a b\tc"}, WantStatus: 200,
			Check: func(t *testing.T, res *http.Response, _ []byte) {
				if res.Header.Get("X-Request-Id") == "a b\tc" {
					t.Error("a malformed request id was echoed")
				}
			},
		},
		apitest.Scenario{
			Name: "CORS preflight as supabase-js sends it", Method: "OPTIONS", URL: "/api/settings",
			Headers: map[string]string{
				"Origin":                         "http://localhost:5173",
				"Access-Control-Request-Method":  "POST",
				"Access-Control-Request-Headers": "apikey, authorization, content-type, x-client-info, prefer, range",
			},
			WantStatus: 200,
			WantHeaders: map[string]string{
				"Access-Control-Allow-Origin":  "*",
				"Access-Control-Allow-Methods": "POST",
				"Access-Control-Allow-Headers": "Apikey, Authorization, Content-Type, X-Client-Info, Prefer, Range",
			},
		},
		apitest.Scenario{
			Name: "CORS exposes what the clients read", Method: "GET", URL: "/health",
			Headers: map[string]string{"Origin": "http://localhost:5173"}, WantStatus: 200,
			Check: func(t *testing.T, res *http.Response, _ []byte) {
				exposed := res.Header.Get("Access-Control-Expose-Headers")
				for _, h := range []string{"Content-Range", "Location", "Preference-Applied", "X-Total-Count", "X-Supabase-Api-Version", "X-Relay-Error"} {
					if !strings.Contains(exposed, h) {
						t.Errorf("Access-Control-Expose-Headers %q lacks %s", exposed, h)
					}
				}
			},
		},
	)

	// Metrics count the requests above by route pattern.
	e.Run(t, apitest.Scenario{
		Name: "metrics", Method: "GET", URL: "/metrics", WantStatus: 200,
		WantBody: []string{`pgstack_http_requests_total{method="GET",route="/health",status="200"}`,
			`pgstack_db_pool_max_connections{pool="requests"}`, "pgstack_db_pipeline_transactions_total",
			`pgstack_db_pipeline_alone_total{reason="stalled"}`, "go_goroutines"},
	})
}

func TestHealthReportsDatabaseDown(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	e.Pools.Requests.Close()
	e.Run(t, apitest.Scenario{
		Name: "database gone", Method: "GET", URL: "/health",
		WantStatus: 503, WantBody: []string{`{"status":"unavailable"}`},
	})
}

// Errors raised before a request reaches its API keep that API's wire format.
func TestEarlyErrorsUseTheAPIFormat(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, func(c *config.Config) { c.MaxBodySize = 1024 })
	big := strings.Repeat("x", 2048)
	e.Run(t,
		apitest.Scenario{
			Name: "auth: GoTrue's format", Method: "POST", URL: "/auth/v1/signup", Body: big,
			Headers: map[string]string{"apikey": e.AnonKey}, WantStatus: 413,
			WantBody: []string{`"msg":`}, WantNotBody: []string{`"message":`},
		},
		apitest.Scenario{
			Name: "functions: a relay error", Method: "POST", URL: "/functions/v1/anything", Body: big,
			Headers: map[string]string{"apikey": e.AnonKey}, WantStatus: 413,
			WantHeaders: map[string]string{"X-Relay-Error": "true"},
		},
		apitest.Scenario{
			Name: "rest: PostgREST's format", Method: "POST", URL: "/rest/v1/todos", Body: big,
			Headers: map[string]string{"apikey": e.AnonKey}, WantStatus: 413,
			WantBody: []string{`"code":`, `"details":`, `"hint":`, `"message":`},
		},
		apitest.Scenario{
			Name: "platform: pgStack's format", Method: "POST", URL: "/api/settings", Body: big,
			WantStatus: 413, WantBody: []string{`"code":"request_too_large"`},
		},
	)
}
