package runtimes_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pgstack/pgstack/internal/apitest"
	"github.com/pgstack/pgstack/runtimes"
)

// A PL/Python function runs in the database as the caller: RLS applies to
// what it reads, and it sees the caller's claims.
const pythonTodos = `
rows = plpy.execute("select title from public.todos order by id")
who = plpy.execute("select current_user as role, auth.uid()::text as sub")[0]
return {
    "role": who["role"],
    "sub": who["sub"],
    "name": body.get("name") if isinstance(body, dict) else None,
    "titles": [r["title"] for r in rows],
}`

// needPLPython fails with the install step when PL/Python is missing.
func needPLPython(t *testing.T, e *apitest.Env) {
	t.Helper()
	var ok bool
	if err := e.Pools.Owner.QueryRow(t.Context(),
		"SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'plpython3u')").Scan(&ok); err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Fatal("PL/Python is not installed: apt-get install postgresql-plpython3-<major> (.ci/run does)")
	}
}

func TestPLPythonFunction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	needPLPython(t, e)
	deploy(t, e, map[string]any{"name": "py-todos", "runtime": "plpython", "source": pythonTodos})
	deploy(t, e, map[string]any{"name": "py-tabs", "runtime": "plpython", "source": "if body:\n\treturn {\"tabs\": True}\nreturn None"})
	deploy(t, e, map[string]any{"name": "py-raise", "runtime": "plpython", "source": `raise Exception("no luck")`})
	deploy(t, e, map[string]any{"name": "py-sleep", "runtime": "plpython", "source": `plpy.execute("select pg_sleep(30)")
return 1`})
	aliceTok := e.UserToken(t, alice, time.Hour)

	e.Run(t,
		apitest.Scenario{
			Name: "a user sees only their rows", Method: "POST", URL: "/functions/v1/py-todos",
			Headers: bearer(aliceTok), Body: `{"name":"Ada"}`, WantStatus: 200,
			WantHeaders: map[string]string{"Content-Type": "application/json"},
			Check: func(t *testing.T, _ *http.Response, body []byte) {
				m := jsonBody(t, body)
				titles := m["titles"].([]any)
				if m["role"] != "authenticated" || m["sub"] != alice || m["name"] != "Ada" || len(titles) != 2 || titles[0] != "alice 1" {
					t.Errorf("function saw: %s", body)
				}
			},
		},
		apitest.Scenario{
			Name: "anon sees no rows and a spoofed role header changes nothing", Method: "GET", URL: "/functions/v1/py-todos",
			Headers:    map[string]string{"apikey": e.AnonKey, "X-Pgstack-Role": "service_role"},
			WantStatus: 200, WantBody: []string{`"role": "anon"`, `"titles": []`},
		},
		apitest.Scenario{
			Name: "tab-indented source works", Method: "POST", URL: "/functions/v1/py-tabs",
			Headers: map[string]string{"apikey": e.AnonKey}, Body: `{"a":1}`, WantStatus: 200, WantBody: []string{`"tabs": true`},
		},
		apitest.Scenario{
			Name: "the service role bypasses RLS", Method: "POST", URL: "/functions/v1/py-todos",
			Headers: map[string]string{"apikey": e.ServiceKey}, WantStatus: 200, WantBody: []string{`"bob 1"`},
		},
		apitest.Scenario{
			Name: "verify_jwt: no token is 401", Method: "POST", URL: "/functions/v1/py-todos",
			WantStatus: 401, WantHeaders: map[string]string{"X-Relay-Error": "true"},
		},
		apitest.Scenario{
			Name: "a Python exception is a 500 with its message", Method: "POST", URL: "/functions/v1/py-raise",
			Headers: map[string]string{"apikey": e.AnonKey}, WantStatus: 500,
			WantBody: []string{`"code":"function_error"`, "no luck"}, WantHeaders: map[string]string{"X-Relay-Error": ""},
		},
		apitest.Scenario{
			Name: "statement_timeout stops a slow function with a 504", Method: "POST", URL: "/functions/v1/py-sleep",
			Headers: map[string]string{"apikey": e.AnonKey}, WantStatus: 504, WantBody: []string{"function_timeout"},
		},
		apitest.Scenario{
			Name: "a Python syntax error is a 400 at deploy", Method: "POST", URL: "/api/functions",
			Headers:    map[string]string{"apikey": e.ServiceKey, "Content-Type": "application/json"},
			Body:       `{"name":"py-bad","runtime":"plpython","source":"return (("}`,
			WantStatus: 400, WantBody: []string{"invalid_function"},
		},
		apitest.Scenario{
			Name: "plv8 is not on this server: 400 naming the extension", Method: "POST", URL: "/api/functions",
			Headers:    map[string]string{"apikey": e.ServiceKey, "Content-Type": "application/json"},
			Body:       `{"name":"js-db","runtime":"plv8","source":"return {ok: true};"}`,
			WantStatus: 400, WantBody: []string{"extension plv8"},
		},
		apitest.Scenario{
			Name: "delete drops the database function", Method: "DELETE", URL: "/api/functions/py-raise",
			Headers: map[string]string{"apikey": e.ServiceKey}, WantStatus: 204,
		},
	)
	var n int
	if err := e.Pools.Owner.QueryRow(t.Context(), `SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = 'pgstack' AND p.proname IN ('fn_py-raise', 'fn_py-todos')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("pgstack.fn_py-* functions = %d, want 1 (fn_py-todos only)", n)
	}
}

func TestPLPythonFromSQL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	status, body := call(t, e, "POST", "/api/sql", e.ServiceKey, map[string]any{"query": `
INSERT INTO pgstack.edge_functions (name, runtime, verify_jwt, source)
VALUES ('py-seed', 'plpython', false, 'return {"seeded": True}')`})
	if status != 200 {
		t.Fatalf("sql: %d %s", status, body)
	}
	apitest.WaitFor(t, "py-seed to be served", func() bool {
		status, body := call(t, e, "POST", "/functions/v1/py-seed", "", nil)
		return status == 200 && strings.Contains(string(body), `"seeded": true`)
	})
}

func TestCreateFunctionSQL(t *testing.T) {
	for _, tc := range []struct {
		name, runtime, fn, source string
		want                      []string
		wantErr                   bool
	}{
		{
			name: "plv8 uses the source as the body", runtime: runtimes.PLV8, fn: "hello",
			source: "return {hello: body.name};",
			want: []string{
				`CREATE OR REPLACE FUNCTION "pgstack"."fn_hello"(body jsonb) RETURNS jsonb LANGUAGE plv8 SECURITY INVOKER AS $fn$return {hello: body.name};$fn$`,
				`REVOKE ALL ON FUNCTION "pgstack"."fn_hello"(jsonb) FROM PUBLIC`,
				`GRANT EXECUTE ON FUNCTION "pgstack"."fn_hello"(jsonb) TO anon, authenticated, service_role`,
			},
		},
		{
			name: "names are quoted, never interpolated", runtime: runtimes.PLV8, fn: `a-b`,
			source: "return 1;",
			want:   []string{`CREATE OR REPLACE FUNCTION "pgstack"."fn_a-b"(body jsonb) RETURNS jsonb LANGUAGE plv8 SECURITY INVOKER AS $fn$return 1;$fn$`},
		},
		{
			name: "plpython wraps the body and serialises JSON", runtime: runtimes.PLPython, fn: "py",
			source: "return body",
			want: []string{"CREATE OR REPLACE FUNCTION \"pgstack\".\"fn_py\"(body jsonb) RETURNS jsonb LANGUAGE plpython3u SECURITY INVOKER AS $fn$import json\n" +
				"def __pgstack_handler(body):\n    return body\n" +
				"return json.dumps(__pgstack_handler(None if body is None else json.loads(body)), default=str)\n$fn$"},
		},
		{name: "other runtimes have no DDL", runtime: runtimes.Embedded, fn: "x", source: "1", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := runtimes.CreateFunctionSQL(tc.runtime, tc.fn, tc.source)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			for i, w := range tc.want {
				if got[i] != w {
					t.Errorf("statement %d:\n got %s\nwant %s", i, got[i], w)
				}
			}
		})
	}
	t.Run("a body containing the dollar tag gets another tag", func(t *testing.T) {
		got, err := runtimes.CreateFunctionSQL(runtimes.PLV8, "q", "return '$fn$';")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(got[0], "$fn$") != 1 || !strings.Contains(got[0], "AS $fn_") {
			t.Errorf("statement: %s", got[0])
		}
	})
}
