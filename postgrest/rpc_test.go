package postgrest_test

import (
	"testing"

	"github.com/pgstack/pgstack/internal/apitest"
)

func TestRPC(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := func(kv ...string) map[string]string {
		m := map[string]string{"apikey": e.ServiceKey, "Content-Type": "application/json"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	e.Run(t,
		apitest.Scenario{Name: "scalar via POST", Method: "POST", URL: "/rest/v1/rpc/add_them", Headers: h(),
			Body: `{"a":1,"b":2}`, WantStatus: 200, Check: jsonEq(`3`)},
		apitest.Scenario{Name: "scalar via GET", Method: "GET", URL: "/rest/v1/rpc/add_them?a=40&b=2", Headers: h(),
			WantStatus: 200, Check: jsonEq(`42`)},
		apitest.Scenario{Name: "default argument", Method: "POST", URL: "/rest/v1/rpc/hello", Headers: h(),
			WantStatus: 200, Check: jsonEq(`"Hello guest!"`)},
		apitest.Scenario{Name: "default argument given", Method: "GET", URL: "/rest/v1/rpc/hello?name=Ada", Headers: h(),
			WantStatus: 200, Check: jsonEq(`"Hello Ada!"`)},
		apitest.Scenario{Name: "setof table with filters, order, limit, embed", Method: "GET",
			URL:     "/rest/v1/rpc/films_since?min_year=2014&select=title,directors(last_name)&rating=gt.7&order=year.desc&limit=2",
			Headers: h(), WantStatus: 200,
			Check: jsonEq(`[{"title":"Dune","directors":{"last_name":"Villeneuve"}},{"title":"Lady Bird","directors":{"last_name":"Gerwig"}}]`)},
		apitest.Scenario{Name: "setof table with count", Method: "POST", URL: "/rest/v1/rpc/films_since?select=id&limit=1&order=id",
			Headers: h("Prefer", "count=exact"), Body: `{"min_year":2020}`, WantStatus: 206,
			WantHeaders: map[string]string{"Content-Range": "0-0/3"}, Check: jsonEq(`[{"id":4}]`)},
		apitest.Scenario{Name: "returns table", Method: "GET", URL: "/rest/v1/rpc/film_stats", Headers: h(),
			WantStatus: 200, Check: jsonEq(`[{"n":6,"max_year":2030}]`)},
		apitest.Scenario{Name: "setof scalar", Method: "GET", URL: "/rest/v1/rpc/years?limit=2", Headers: h(),
			WantStatus: 200, Check: jsonEq(`[2010,2014]`)},
		apitest.Scenario{Name: "single composite is an object", Method: "POST", URL: "/rest/v1/rpc/add_director?select=first_name,last_name",
			Headers: h(), Body: `{"first":"Sofia","last":"Coppola"}`, WantStatus: 200,
			Check: jsonEq(`{"first_name":"Sofia","last_name":"Coppola"}`)},
		apitest.Scenario{Name: "single unnamed json parameter", Method: "POST", URL: "/rest/v1/rpc/echo", Headers: h(),
			Body: `{"any":["thing",1]}`, WantStatus: 200, Check: jsonEq(`{"any":["thing",1]}`)},
		apitest.Scenario{Name: "variadic via GET", Method: "GET", URL: "/rest/v1/rpc/sum_all?nums=1&nums=2&nums=3", Headers: h(),
			WantStatus: 200, Check: jsonEq(`6`)},
		apitest.Scenario{Name: "variadic via POST", Method: "POST", URL: "/rest/v1/rpc/sum_all", Headers: h(),
			Body: `{"nums":[4,5]}`, WantStatus: 200, Check: jsonEq(`9`)},
		apitest.Scenario{Name: "void is 204", Method: "POST", URL: "/rest/v1/rpc/touch", Headers: h(), WantStatus: 204},
		apitest.Scenario{Name: "volatile on GET is 405", Method: "GET", URL: "/rest/v1/rpc/touch", Headers: h(),
			WantStatus: 405, WantBody: []string{`"code":"25006"`, `read-only transaction`}},
		apitest.Scenario{Name: "options on a volatile function", Method: "OPTIONS", URL: "/rest/v1/rpc/touch", Headers: h(),
			WantStatus: 200, WantHeaders: map[string]string{"Allow": "OPTIONS,POST"}},
		apitest.Scenario{Name: "raise exception is 400", Method: "POST", URL: "/rest/v1/rpc/fail", Headers: h(),
			Body: `{"msg":"nope"}`, WantStatus: 400, WantBody: []string{`"code":"P0001"`, `"message":"nope"`}},
		apitest.Scenario{Name: "PTxyz sets the status", Method: "POST", URL: "/rest/v1/rpc/teapot", Headers: h(),
			WantStatus: 418, WantBody: []string{`"code":"PT418"`}},
		apitest.Scenario{Name: "response GUCs", Method: "GET", URL: "/rest/v1/rpc/with_header", Headers: h(),
			WantStatus: 202, WantHeaders: map[string]string{"Cache-Control": "public, max-age=60"}},
		apitest.Scenario{Name: "unknown function", Method: "POST", URL: "/rest/v1/rpc/add_them", Headers: h(),
			Body: `{"a":1,"c":2}`, WantStatus: 404,
			WantBody: []string{`"code":"PGRST202"`, `Could not find the function public.add_them(a, c) in the schema cache`,
				`Perhaps you meant to call the function public.add_them(a, b)`}},
		apitest.Scenario{Name: "wrong argument type", Method: "GET", URL: "/rest/v1/rpc/add_them?a=x&b=1", Headers: h(),
			WantStatus: 400, WantBody: []string{`"code":"22P02"`}},
		apitest.Scenario{Name: "DELETE on rpc", Method: "DELETE", URL: "/rest/v1/rpc/add_them", Headers: h(),
			WantStatus: 405, WantBody: []string{`"code":"PGRST101"`}},
		apitest.Scenario{Name: "singular on a set", Method: "GET", URL: "/rest/v1/rpc/films_since?min_year=2023",
			Headers: h("Accept", "application/vnd.pgrst.object+json"), WantStatus: 406, WantBody: []string{`2 rows`}},
		apitest.Scenario{Name: "a counted, limited call runs the function once", Method: "POST",
			URL: "/rest/v1/rpc/log_and_list?select=id&limit=1", Headers: h("Prefer", "count=exact"), WantStatus: 206,
			WantHeaders: map[string]string{"Content-Range": "0-0/2"}, Check: jsonEq(`[{"id":1}]`)},
		apitest.Scenario{Name: "the function ran once", Method: "GET", URL: "/rest/v1/calls",
			Headers: h("Prefer", "count=exact"), WantStatus: 200, WantHeaders: map[string]string{"Content-Range": "0-0/1"}},
		apitest.Scenario{Name: "strict max-affected on a scalar function", Method: "POST", URL: "/rest/v1/rpc/add_them",
			Headers: h("Prefer", "handling=strict,max-affected=1"), Body: `{"a":1,"b":2}`, WantStatus: 400,
			WantBody: []string{`"code":"PGRST128"`}},
	)
}
