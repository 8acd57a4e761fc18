package runtimes_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pgstack/pgstack/internal/apitest"
	"github.com/pgstack/pgstack/internal/config"
	"github.com/pgstack/pgstack/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const (
	alice = pgtest.Alice
	bob   = pgtest.Bob
	// todos is an owner-only table: two rows of alice's, one of bob's.
	todos = pgtest.OwnerOnlyTodos
)

// newEnv assembles a server with a short function timeout over a database
// holding todos.
func newEnv(t testing.TB, configure ...func(*config.Config)) *apitest.Env {
	t.Helper()
	e := apitest.New(t, append([]func(*config.Config){func(c *config.Config) {
		c.FunctionTimeout = 2 * time.Second
		c.EnableSQLEndpoint = true
	}}, configure...)...)
	e.DB.Exec(t, todos)
	return e
}

// deploy deploys through the admin API and fails the test unless it is 200.
func deploy(t testing.TB, e *apitest.Env, fn map[string]any) {
	t.Helper()
	status, body := call(t, e, http.MethodPost, "/api/functions", e.ServiceKey, fn)
	if status != http.StatusOK {
		t.Fatalf("deploy %v: %d %s", fn["name"], status, body)
	}
}

// call sends one JSON request through the router.
func call(t testing.TB, e *apitest.Env, method, url, key string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader = http.NoBody
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, url, r)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("apikey", key)
	}
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

func bearer(tok string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
}

func jsonBody(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %s", body)
	}
	return m
}

const embeddedTodos = `
async function handler(request) {
  console.log("called by", request.role);
  const rows = await db.query("select title from public.todos order by id");
  return {
    role: request.role,
    sub: request.sub,
    method: request.method,
    path: request.path,
    query: request.query,
    name: request.body && request.body.name,
    pgstackHeader: request.headers["x-pgstack-role"] || null,
    titles: rows.map(r => r.title),
  };
}`

func TestEmbeddedFunction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	deploy(t, e, map[string]any{"name": "todos", "runtime": "embedded", "source": embeddedTodos})
	deploy(t, e, map[string]any{"name": "loop", "runtime": "embedded", "source": `function handler(r) { if (r.body && r.body.spin) { for (;;) {} } return "ok"; }`})
	deploy(t, e, map[string]any{"name": "throws", "runtime": "embedded", "source": `function handler() { throw new Error("boom: " + 6*7); }`})
	deploy(t, e, map[string]any{"name": "open", "runtime": "embedded", "verify_jwt": false, "source": `function handler(r) { return {role: r.role}; }`})
	deploy(t, e, map[string]any{"name": "writes", "runtime": "embedded", "source": `
function handler(r) {
  return db.query("insert into public.todos (user_id, title) values ($1, $2) returning user_id, title", r.body.user_id, r.body.title);
}`})
	deploy(t, e, map[string]any{"name": "typed", "runtime": "embedded", "source": `
interface Req { body: { name?: string } | null; role: string }
export default async function (request: Req): Promise<object> {
  const name = request.body?.name ?? "world";
  const rows: Array<{ n: number }> = await db.query("select $1::int + 1 as n", 41);
  return { hello: name, n: rows[0].n, ...{ role: request.role } };
}`})
	deploy(t, e, map[string]any{"name": "escalate", "runtime": "embedded", "source": `
function handler(r) { return db.query(r.body.sql); }`})
	aliceTok := e.UserToken(t, alice, time.Hour)

	for _, sql := range []string{"set role service_role", "SET LOCAL ROLE postgres", "reset role",
		"select set_config('role', 'service_role', true)", "SET SESSION AUTHORIZATION postgres",
		"select set_config('request.jwt.claims', '{}', true)"} {
		status, body := call(t, e, "POST", "/functions/v1/escalate", e.AnonKey, map[string]any{"sql": sql})
		if status != 500 || !strings.Contains(string(body), "cannot change its role") {
			t.Errorf("%q: %d %s", sql, status, body)
		}
	}

	e.Run(t,
		apitest.Scenario{
			Name: "a user sees only their rows through db.query", Method: "POST", URL: "/functions/v1/todos?x=1",
			Headers: bearer(aliceTok), Body: `{"name":"Ada"}`, WantStatus: 200,
			WantHeaders: map[string]string{"Content-Type": "application/json", "X-Relay-Error": ""},
			Check: func(t *testing.T, _ *http.Response, body []byte) {
				m := jsonBody(t, body)
				if m["role"] != "authenticated" || m["sub"] != alice || m["name"] != "Ada" || m["method"] != "POST" || m["path"] != "/todos" {
					t.Errorf("request seen by the function: %s", body)
				}
				if got := m["titles"].([]any); len(got) != 2 || got[0] != "alice 1" || got[1] != "alice 2" {
					t.Errorf("titles = %v, want alice's two rows", got)
				}
				if m["query"].(map[string]any)["x"] != "1" {
					t.Errorf("query = %v", m["query"])
				}
			},
		},
		apitest.Scenario{
			Name: "TypeScript with an exported handler, ?. and ?? runs", Method: "POST", URL: "/functions/v1/typed",
			Headers: map[string]string{"apikey": e.AnonKey}, Body: `{"name":"Ada"}`, WantStatus: 200,
			WantBody: []string{`"hello":"Ada"`, `"n":42`, `"role":"anon"`},
		},
		apitest.Scenario{
			Name: "anon sees no rows (RLS)", Method: "GET", URL: "/functions/v1/todos",
			Headers: map[string]string{"apikey": e.AnonKey}, WantStatus: 200,
			WantBody: []string{`"role":"anon"`, `"titles":[]`, `"sub":null`},
		},
		apitest.Scenario{
			Name: "a client-sent X-Pgstack-Role has no effect", Method: "POST", URL: "/functions/v1/todos",
			Headers:    map[string]string{"apikey": e.AnonKey, "X-Pgstack-Role": "service_role", "X-Pgstack-Sub": alice},
			WantStatus: 200, WantBody: []string{`"role":"anon"`, `"titles":[]`, `"pgstackHeader":null`},
		},
		apitest.Scenario{
			Name: "verify_jwt: no token is 401 from the proxy", Method: "POST", URL: "/functions/v1/todos",
			WantStatus: 401, WantBody: []string{`"code":"unauthorized"`},
			WantHeaders: map[string]string{"X-Relay-Error": "true"},
		},
		apitest.Scenario{
			Name: "a bad token is 401", Method: "POST", URL: "/functions/v1/open",
			Headers: bearer("not.a.jwt"), WantStatus: 401, WantHeaders: map[string]string{"X-Relay-Error": "true"},
		},
		apitest.Scenario{
			Name: "verify_jwt false: anonymous callers run as anon", Method: "GET", URL: "/functions/v1/open",
			WantStatus: 200, WantBody: []string{`{"role":"anon"}`},
		},
		apitest.Scenario{
			Name: "an unknown function is 404 from the proxy", Method: "POST", URL: "/functions/v1/nope",
			Headers: map[string]string{"apikey": e.AnonKey}, WantStatus: 404,
			WantHeaders: map[string]string{"X-Relay-Error": "true"},
		},
		apitest.Scenario{
			Name: "a thrown error is a 500 with its message, not a relay error", Method: "POST", URL: "/functions/v1/throws",
			Headers: map[string]string{"apikey": e.AnonKey}, WantStatus: 500,
			WantBody: []string{`"code":"function_error"`, `"message":"boom: 42"`}, WantHeaders: map[string]string{"X-Relay-Error": ""},
		},
		apitest.Scenario{
			Name: "a 2 MB body is 413 from the proxy", Method: "POST", URL: "/functions/v1/todos",
			Headers: map[string]string{"apikey": e.AnonKey}, Body: strings.Repeat("x", 2<<20), WantStatus: 413,
			WantHeaders: map[string]string{"X-Relay-Error": "true"},
		},
		apitest.Scenario{
			Name: "a user writes only their own rows (RLS WITH CHECK)", Method: "POST", URL: "/functions/v1/writes",
			Headers: bearer(aliceTok), Body: `{"user_id":"` + bob + `","title":"forged"}`, WantStatus: 500,
			WantBody: []string{"row-level security"},
		},
		apitest.Scenario{
			Name: "a user's write commits", Method: "POST", URL: "/functions/v1/writes",
			Headers: bearer(aliceTok), Body: `{"user_id":"` + alice + `","title":"alice 3"}`, WantStatus: 200,
			WantBody: []string{`"title":"alice 3"`, `"user_id":"` + alice + `"`},
		},
	)

	t.Run("an infinite loop is stopped at the timeout and the next call works", func(t *testing.T) {
		start := time.Now()
		status, body := call(t, e, "POST", "/functions/v1/loop", e.AnonKey, map[string]any{"spin": true})
		if status != http.StatusGatewayTimeout || !strings.Contains(string(body), "function_timeout") {
			t.Fatalf("loop: %d %s", status, body)
		}
		if d := time.Since(start); d > 4*time.Second {
			t.Errorf("loop stopped after %s, want about 2s", d)
		}
		status, body = call(t, e, "POST", "/functions/v1/loop", e.AnonKey, map[string]any{})
		if status != 200 || string(body) != `"ok"` {
			t.Fatalf("next call: %d %s", status, body)
		}
	})

	t.Run("invocations are logged with status, duration, error and console output", func(t *testing.T) {
		var logs []map[string]any
		apitest.WaitFor(t, "the logs of throws and todos", func() bool {
			_, b := call(t, e, "GET", "/api/functions/throws/logs", e.ServiceKey, nil)
			_ = json.Unmarshal(b, &logs)
			return len(logs) >= 1
		})
		if logs[0]["status"] != float64(500) || logs[0]["error"] != "boom: 42" {
			t.Errorf("throws log: %v", logs[0])
		}
		apitest.WaitFor(t, "the console output of todos", func() bool {
			_, b := call(t, e, "GET", "/api/functions/todos/logs?limit=50", e.ServiceKey, nil)
			_ = json.Unmarshal(b, &logs)
			for _, l := range logs {
				if c, _ := l["console"].(string); strings.Contains(c, "called by authenticated") && l["status"] == float64(200) {
					return true
				}
			}
			return false
		})
	})

	e.Run(t,
		apitest.Scenario{
			Name: "Deno.serve deployed as embedded is a clear 400", Method: "POST", URL: "/api/functions",
			Headers:    map[string]string{"apikey": e.ServiceKey, "Content-Type": "application/json"},
			Body:       `{"name":"denoish","runtime":"embedded","source":"Deno.serve(async (req) => new Response('hi'))"}`,
			WantStatus: 400, WantBody: []string{"Deno.serve", "runtime deno"},
		},
		apitest.Scenario{
			Name: "imports are a clear 400", Method: "POST", URL: "/api/functions",
			Headers:    map[string]string{"apikey": e.ServiceKey, "Content-Type": "application/json"},
			Body:       `{"name":"imports","runtime":"embedded","source":"import x from 'npm:lodash'\nexport function handler() { return x }"}`,
			WantStatus: 400, WantBody: []string{"cannot import modules"},
		},
		apitest.Scenario{
			Name: "a syntax error is a 400", Method: "POST", URL: "/api/functions",
			Headers:    map[string]string{"apikey": e.ServiceKey, "Content-Type": "application/json"},
			Body:       `{"name":"broken","runtime":"embedded","source":"function handler( {"}`,
			WantStatus: 400, WantBody: []string{"does not compile"},
		},
		apitest.Scenario{
			Name: "the anon key may not deploy", Method: "POST", URL: "/api/functions",
			Headers:    map[string]string{"apikey": e.AnonKey, "Content-Type": "application/json"},
			Body:       `{"name":"x","runtime":"embedded","source":"function handler(){}"}`,
			WantStatus: 401,
		},
		apitest.Scenario{
			Name: "list functions (service role)", Method: "GET", URL: "/functions/v1/",
			Headers: map[string]string{"apikey": e.ServiceKey}, WantStatus: 200,
			WantBody: []string{`"name":"todos"`, `"runtime":"embedded"`},
		},
		apitest.Scenario{
			Name: "list functions needs the service role", Method: "GET", URL: "/functions/v1/",
			Headers: map[string]string{"apikey": e.AnonKey}, WantStatus: 401,
		},
		apitest.Scenario{
			Name: "admin list has no sources", Method: "GET", URL: "/api/functions",
			Headers: map[string]string{"apikey": e.ServiceKey}, WantStatus: 200,
			WantBody: []string{`"name":"writes"`}, WantNotBody: []string{"db.query"},
		},
		apitest.Scenario{
			Name: "admin get has the source", Method: "GET", URL: "/api/functions/todos",
			Headers: map[string]string{"apikey": e.ServiceKey}, WantStatus: 200, WantBody: []string{"db.query"},
		},
		apitest.Scenario{
			Name: "delete", Method: "DELETE", URL: "/api/functions/open",
			Headers: map[string]string{"apikey": e.ServiceKey}, WantStatus: 204,
		},
		apitest.Scenario{
			Name: "a deleted function is gone", Method: "GET", URL: "/functions/v1/open",
			WantStatus: 404, WantHeaders: map[string]string{"X-Relay-Error": "true"},
		},
		apitest.Scenario{
			Name: "deleting an unknown function is 404", Method: "DELETE", URL: "/api/functions/open",
			Headers: map[string]string{"apikey": e.ServiceKey}, WantStatus: 404,
		},
	)
}

func TestPreflightNeedsNoAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	deploy(t, e, map[string]any{"name": "hello", "runtime": "embedded", "source": `function handler() { return 1 }`})
	e.Run(t, apitest.Scenario{
		Name: "OPTIONS preflight", Method: "OPTIONS", URL: "/functions/v1/hello",
		Headers: map[string]string{"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST",
			"Access-Control-Request-Headers": "authorization, x-client-info, apikey, content-type"},
		WantStatus: 200, WantHeaders: map[string]string{"Access-Control-Allow-Origin": "*"},
	})
}

// TestSQLEndpointRegistersFunctions: the catalog is a table, so a row written
// with POST /api/sql is served once the change notification arrives.
func TestSQLEndpointRegistersFunctions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	status, body := call(t, e, "POST", "/api/sql", e.ServiceKey, map[string]any{"query": `
INSERT INTO pgstack.edge_functions (name, runtime, verify_jwt, source)
VALUES ('from-sql', 'embedded', false, 'function handler() { return {via: "sql"} }');
SELECT name, verify_jwt FROM pgstack.edge_functions`})
	if status != 200 || !strings.Contains(string(body), `"name":"from-sql"`) || !strings.Contains(string(body), `"verify_jwt":false`) {
		t.Fatalf("sql: %d %s", status, body)
	}
	apitest.WaitFor(t, "the registry to serve from-sql", func() bool {
		status, body := call(t, e, "POST", "/functions/v1/from-sql", "", nil)
		return status == 200 && string(body) == `{"via":"sql"}`
	})
	// A row the embedded runtime cannot load is answered 503; the reason is
	// in the function's log, not in the answer.
	if status, body := call(t, e, "POST", "/api/sql", e.ServiceKey, map[string]any{"query": `
INSERT INTO pgstack.edge_functions (name, runtime, verify_jwt, source) VALUES ('broken', 'embedded', false, 'function nope() {}')`}); status != 200 {
		t.Fatalf("sql: %d %s", status, body)
	}
	apitest.WaitFor(t, "broken to be answered 503", func() bool {
		status, body := call(t, e, "POST", "/functions/v1/broken", "", nil)
		return status == 503 && strings.Contains(string(body), "could not be loaded") && !strings.Contains(string(body), "handler")
	})
	apitest.WaitFor(t, "the reason in broken's log", func() bool {
		_, b := call(t, e, "GET", "/api/functions/broken/logs", e.ServiceKey, nil)
		return strings.Contains(string(b), "must define a function named handler")
	})

	e.Run(t,
		apitest.Scenario{
			Name: "bad SQL is a 400", Method: "POST", URL: "/api/sql",
			Headers:    map[string]string{"apikey": e.ServiceKey, "Content-Type": "application/json"},
			Body:       `{"query":"select * from nowhere"}`,
			WantStatus: 400, WantBody: []string{`"code":"sql_error"`, "nowhere"},
		},
		apitest.Scenario{
			Name: "refresh reloads the registry", Method: "POST", URL: "/functions/v1/_refresh",
			Headers: map[string]string{"apikey": e.ServiceKey}, WantStatus: 200, WantBody: []string{`"functions":2`},
		},
	)

	off := newEnv(t, func(c *config.Config) { c.EnableSQLEndpoint = false })
	off.Run(t, apitest.Scenario{
		Name: "the SQL endpoint is off unless enabled", Method: "POST", URL: "/api/sql",
		Headers:    map[string]string{"apikey": off.ServiceKey, "Content-Type": "application/json"},
		Body:       `{"query":"select 1"}`,
		WantStatus: 404,
	})
	_ = context.Background
}
