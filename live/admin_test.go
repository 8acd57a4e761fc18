package live_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/pgstack/pgstack/internal/apitest"
)

func TestAdminListsQueriesCohortsAndSubscribers(t *testing.T) {
	e := newLiveEnv(t)
	a := dial(t, e.url, e.UserToken(t, alice, time.Hour))
	a.subscribe("one", "active_todos", nil)
	a.subscribe("two", "active_todos", nil)
	b := dial(t, e.url, e.UserToken(t, bob, time.Hour))
	b.subscribe("mine", "active_todos", nil)

	service := map[string]string{"Authorization": "Bearer " + e.ServiceKey}
	e.Run(t,
		apitest.Scenario{
			Name: "queries", Method: http.MethodGet, URL: "/api/live/queries", Headers: service,
			WantStatus: http.StatusOK,
			Check: func(t *testing.T, _ *http.Response, body []byte) {
				var qs []map[string]any
				if err := json.Unmarshal(body, &qs); err != nil || len(qs) != 1 {
					t.Fatalf("body %s", body)
				}
				q := qs[0]
				if q["name"] != "active_todos" || q["cohorts"] != 2.0 || q["subscribers"] != 3.0 {
					t.Fatalf("query = %v, want active_todos with 2 cohorts and 3 subscribers", q)
				}
				if paths, _ := q["claim_paths"].([]any); len(paths) != 1 || paths[0] != "sub" {
					t.Fatalf("claim_paths = %v, want [sub]", q["claim_paths"])
				}
			},
		},
		apitest.Scenario{
			Name: "cohorts", Method: http.MethodGet, URL: "/api/live/queries/active_todos/cohorts", Headers: service,
			WantStatus: http.StatusOK,
			Check: func(t *testing.T, _ *http.Response, body []byte) {
				var cs []map[string]any
				if err := json.Unmarshal(body, &cs); err != nil || len(cs) != 2 {
					t.Fatalf("body %s", body)
				}
				subs := map[any]any{}
				for _, c := range cs {
					subs[c["claims"].(map[string]any)["sub"]] = c["subscribers"]
				}
				if subs[alice] != 2.0 || subs[bob] != 1.0 {
					t.Fatalf("subscribers by user = %v, want alice 2, bob 1", subs)
				}
			},
		},
		apitest.Scenario{Name: "unknown query", Method: http.MethodGet, URL: "/api/live/queries/nope/cohorts",
			Headers: service, WantStatus: http.StatusNotFound, WantBody: []string{`"not_found"`}},
		apitest.Scenario{Name: "anonymous", Method: http.MethodGet, URL: "/api/live/queries", WantStatus: http.StatusUnauthorized},
		apitest.Scenario{Name: "a user", Method: http.MethodGet, URL: "/api/live/queries",
			Headers: map[string]string{"Authorization": "Bearer " + e.UserToken(t, alice, time.Hour)}, WantStatus: http.StatusForbidden},
	)
}

func TestAdminWithoutExtension(t *testing.T) {
	e := apitest.New(t)
	e.DB.Exec(t, `drop extension pg_reactive cascade`)
	e.Run(t, apitest.Scenario{
		Name: "unavailable", Method: http.MethodGet, URL: "/api/live/queries",
		Headers: map[string]string{"Authorization": "Bearer " + e.ServiceKey}, WantStatus: http.StatusServiceUnavailable,
		WantBody: []string{"pg_reactive"},
	})
}

func TestLiveWithoutExtension(t *testing.T) {
	e := apitest.New(t)
	e.DB.Exec(t, `drop extension pg_reactive cascade`)
	c := dialRaw(t, wsURL(e.Serve(t)))
	if m := c.waitType("error"); m["code"] != "unavailable" || m["fatal"] != true {
		t.Fatalf("error = %v, want fatal unavailable", m)
	}
}

func TestPlainHTTPGetsAJSONError(t *testing.T) {
	e := apitest.New(t)
	e.Run(t, apitest.Scenario{Name: "no upgrade", Method: http.MethodGet, URL: "/live/v1",
		WantStatus: http.StatusUpgradeRequired, WantBody: []string{`"code":"bad_request"`, "pgr.v1"}})
}
