package postgrest_test

import (
	"net/http"
	"testing"

	"github.com/pgstack/pgstack/internal/apitest"
)

func TestWrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := func(kv ...string) map[string]string {
		m := map[string]string{"apikey": e.ServiceKey, "Content-Type": "application/json"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	rep := "return=representation"
	e.Run(t,
		apitest.Scenario{Name: "insert minimal", Method: "POST", URL: "/rest/v1/actors", Headers: h(),
			Body: `{"first_name":"Cillian","last_name":"Murphy"}`, WantStatus: 201,
			WantHeaders: map[string]string{"Content-Range": "*/*", "Content-Type": "", "Preference-Applied": ""},
			Check: func(t *testing.T, res *http.Response, body []byte) {
				if len(body) != 0 {
					t.Errorf("minimal insert body = %q", body)
				}
			}},
		apitest.Scenario{Name: "insert representation with select and embed", Method: "POST",
			URL:     "/rest/v1/films?select=title,director:directors(last_name)",
			Headers: h("Prefer", rep), Body: `{"title":"Tenet","year":2020,"director_id":1}`, WantStatus: 201,
			WantHeaders: map[string]string{"Preference-Applied": rep},
			Check:       jsonEq(`[{"title":"Tenet","director":{"last_name":"Nolan"}}]`)},
		apitest.Scenario{Name: "bulk insert with columns and missing=default", Method: "POST",
			URL:     `/rest/v1/films?columns="title","year","tags"&select=title,tags`,
			Headers: h("Prefer", rep+",missing=default"),
			Body:    `[{"title":"A","year":2001},{"title":"B","year":2002,"tags":["x"]}]`, WantStatus: 201,
			WantHeaders: map[string]string{"Preference-Applied": "missing=default, " + rep},
			Check:       jsonEq(`[{"title":"A","tags":[]},{"title":"B","tags":["x"]}]`)},
		apitest.Scenario{Name: "bulk insert with different keys", Method: "POST", URL: "/rest/v1/actors", Headers: h(),
			Body: `[{"first_name":"A","last_name":"B"},{"first_name":"C"}]`, WantStatus: 400,
			WantBody: []string{`"code":"PGRST102"`, `All object keys must match`}},
		apitest.Scenario{Name: "insert of an unknown column", Method: "POST", URL: "/rest/v1/actors", Headers: h(),
			Body: `{"first_name":"A","last_name":"B","age":3}`, WantStatus: 400,
			WantBody: []string{`"code":"PGRST204"`, `Could not find the 'age' column of 'actors' in the schema cache`}},
		apitest.Scenario{Name: "invalid json", Method: "POST", URL: "/rest/v1/actors", Headers: h(),
			Body: `{"first_name":`, WantStatus: 400, WantBody: []string{`"code":"PGRST102"`, `Empty or invalid json`}},
		apitest.Scenario{Name: "unsupported content type", Method: "POST", URL: "/rest/v1/actors",
			Headers: h("Content-Type", "application/xml"), Body: `<a/>`, WantStatus: 400,
			WantBody: []string{`Content-Type not acceptable: application/xml`}},
		apitest.Scenario{Name: "not null violation is 400", Method: "POST", URL: "/rest/v1/actors", Headers: h(),
			Body: `{"first_name":"A"}`, WantStatus: 400, WantBody: []string{`"code":"23502"`}},
		apitest.Scenario{Name: "unique violation is 409", Method: "POST", URL: "/rest/v1/addresses", Headers: h(),
			Body: `{"id":1,"city":"Rome"}`, WantStatus: 409,
			WantBody: []string{`"code":"23505"`, `"details":"Key (id)=(1) already exists."`}},
		apitest.Scenario{Name: "foreign key violation is 409", Method: "POST", URL: "/rest/v1/films", Headers: h(),
			Body: `{"title":"X","year":1,"director_id":99}`, WantStatus: 409, WantBody: []string{`"code":"23503"`}},
		apitest.Scenario{Name: "upsert merge-duplicates updates: 200", Method: "POST", URL: "/rest/v1/addresses",
			Headers: h("Prefer", "resolution=merge-duplicates,"+rep), Body: `{"id":1,"city":"Lyon"}`, WantStatus: 200,
			WantHeaders: map[string]string{"Preference-Applied": "resolution=merge-duplicates, " + rep},
			Check:       jsonEq(`[{"id":1,"city":"Lyon"}]`)},
		apitest.Scenario{Name: "upsert merge-duplicates inserts: 201", Method: "POST", URL: "/rest/v1/addresses",
			Headers: h("Prefer", "resolution=merge-duplicates,"+rep), Body: `[{"id":2,"city":"Hamburg"},{"id":3,"city":"Oslo"}]`,
			WantStatus: 201, Check: jsonEq(`[{"id":2,"city":"Hamburg"},{"id":3,"city":"Oslo"}]`)},
		apitest.Scenario{Name: "upsert ignore-duplicates", Method: "POST", URL: "/rest/v1/addresses?on_conflict=id",
			Headers: h("Prefer", "resolution=ignore-duplicates,"+rep), Body: `[{"id":1,"city":"Nope"},{"id":4,"city":"Rome"}]`,
			WantStatus: 201, Check: jsonEq(`[{"id":4,"city":"Rome"}]`)},
		apitest.Scenario{Name: "headers-only gives Location", Method: "POST", URL: "/rest/v1/addresses",
			Headers: h("Prefer", "return=headers-only"), Body: `{"id":5,"city":"Madrid"}`, WantStatus: 201,
			WantHeaders: map[string]string{"Location": "/addresses?id=eq.5", "Content-Length": "0"}},
		apitest.Scenario{Name: "count on insert", Method: "POST", URL: "/rest/v1/addresses",
			Headers: h("Prefer", "count=exact"), Body: `[{"id":6,"city":"a"},{"id":7,"city":"b"}]`, WantStatus: 201,
			WantHeaders: map[string]string{"Content-Range": "*/2"}},
		apitest.Scenario{Name: "form-urlencoded insert", Method: "POST", URL: "/rest/v1/addresses",
			Headers: h("Content-Type", "application/x-www-form-urlencoded", "Prefer", rep), Body: `id=8&city=Porto`,
			WantStatus: 201, Check: jsonEq(`[{"id":8,"city":"Porto"}]`)},
		apitest.Scenario{Name: "csv insert", Method: "POST", URL: "/rest/v1/addresses",
			Headers: h("Content-Type", "text/csv", "Prefer", rep), Body: "id,city\n9,Vigo\n10,Bilbao",
			WantStatus: 201, Check: jsonEq(`[{"id":9,"city":"Vigo"},{"id":10,"city":"Bilbao"}]`)},
		apitest.Scenario{Name: "update minimal", Method: "PATCH", URL: "/rest/v1/addresses?id=in.(9,10)",
			Headers: h(), Body: `{"city":"Spain"}`, WantStatus: 204,
			WantHeaders: map[string]string{"Content-Range": "0-1/*"}},
		apitest.Scenario{Name: "update representation", Method: "PATCH", URL: "/rest/v1/addresses?id=eq.9&select=city",
			Headers: h("Prefer", rep), Body: `{"city":"Galicia"}`, WantStatus: 200, Check: jsonEq(`[{"city":"Galicia"}]`)},
		apitest.Scenario{Name: "update nothing matched", Method: "PATCH", URL: "/rest/v1/addresses?id=eq.999",
			Headers: h(), Body: `{"city":"x"}`, WantStatus: 204, WantHeaders: map[string]string{"Content-Range": "*/*"}},
		apitest.Scenario{Name: "update of an unknown column", Method: "PATCH", URL: "/rest/v1/addresses?id=eq.9",
			Headers: h(), Body: `{"town":"x"}`, WantStatus: 400, WantBody: []string{`"code":"PGRST204"`}},
		apitest.Scenario{Name: "max-affected strict rolls back", Method: "PATCH", URL: "/rest/v1/addresses?id=gt.5",
			Headers: h("Prefer", "handling=strict,max-affected=1"), Body: `{"city":"zz"}`, WantStatus: 400,
			WantBody: []string{`"code":"PGRST124"`, `The query affects 5 rows`}},
		apitest.Scenario{Name: "the rolled back update left rows alone", Method: "GET", URL: "/rest/v1/addresses?city=eq.zz",
			Headers: h(), WantStatus: 200, Check: jsonEq(`[]`)},
		apitest.Scenario{Name: "singular write of many rows rolls back", Method: "PATCH", URL: "/rest/v1/addresses?id=gt.5",
			Headers: h("Prefer", rep, "Accept", "application/vnd.pgrst.object+json"), Body: `{"city":"yy"}`, WantStatus: 406,
			WantBody: []string{`"code":"PGRST116"`, `The result contains 5 rows`}},
		apitest.Scenario{Name: "singular write", Method: "PATCH", URL: "/rest/v1/addresses?id=eq.6",
			Headers: h("Prefer", rep, "Accept", "application/vnd.pgrst.object+json"), Body: `{"city":"one"}`, WantStatus: 200,
			Check: jsonEq(`{"id":6,"city":"one"}`)},
		apitest.Scenario{Name: "tx=rollback", Method: "POST", URL: "/rest/v1/addresses",
			Headers: h("Prefer", "tx=rollback,"+rep), Body: `{"id":50,"city":"Ghost"}`, WantStatus: 201,
			WantHeaders: map[string]string{"Preference-Applied": rep + ", tx=rollback"}, Check: jsonEq(`[{"id":50,"city":"Ghost"}]`)},
		apitest.Scenario{Name: "the rolled back insert is gone", Method: "GET", URL: "/rest/v1/addresses?id=eq.50",
			Headers: h(), WantStatus: 200, Check: jsonEq(`[]`)},
		apitest.Scenario{Name: "delete representation", Method: "DELETE", URL: "/rest/v1/addresses?id=eq.7",
			Headers: h("Prefer", rep), WantStatus: 200, Check: jsonEq(`[{"id":7,"city":"b"}]`)},
		apitest.Scenario{Name: "delete minimal", Method: "DELETE", URL: "/rest/v1/addresses?id=eq.8",
			Headers: h(), WantStatus: 204, WantHeaders: map[string]string{"Content-Range": "*/*"}},
		apitest.Scenario{Name: "delete with count", Method: "DELETE", URL: "/rest/v1/addresses?id=in.(9,10)",
			Headers: h("Prefer", "count=exact"), WantStatus: 204, WantHeaders: map[string]string{"Content-Range": "*/2"}},
		apitest.Scenario{Name: "put inserts", Method: "PUT", URL: "/rest/v1/addresses?id=eq.20",
			Headers: h("Prefer", rep), Body: `{"id":20,"city":"Turin"}`, WantStatus: 201, Check: jsonEq(`[{"id":20,"city":"Turin"}]`)},
		apitest.Scenario{Name: "put updates", Method: "PUT", URL: "/rest/v1/addresses?id=eq.20",
			Headers: h("Prefer", rep), Body: `{"id":20,"city":"Milan"}`, WantStatus: 200, Check: jsonEq(`[{"id":20,"city":"Milan"}]`)},
		apitest.Scenario{Name: "put minimal", Method: "PUT", URL: "/rest/v1/addresses?id=eq.20",
			Headers: h(), Body: `{"id":20,"city":"Genoa"}`, WantStatus: 204},
		apitest.Scenario{Name: "put with a mismatched key", Method: "PUT", URL: "/rest/v1/addresses?id=eq.21",
			Headers: h(), Body: `{"id":22,"city":"x"}`, WantStatus: 400, WantBody: []string{`"code":"PGRST115"`}},
		apitest.Scenario{Name: "put without the key filter", Method: "PUT", URL: "/rest/v1/addresses?city=eq.x",
			Headers: h(), Body: `{"id":22,"city":"x"}`, WantStatus: 405, WantBody: []string{`"code":"PGRST105"`}},
		apitest.Scenario{Name: "put with limit", Method: "PUT", URL: "/rest/v1/addresses?id=eq.22&limit=1",
			Headers: h(), Body: `{"id":22,"city":"x"}`, WantStatus: 400, WantBody: []string{`"code":"PGRST114"`}},
		apitest.Scenario{Name: "unsupported method", Method: "TRACE", URL: "/rest/v1/addresses", Headers: h(),
			WantStatus: 405, WantBody: []string{`"code":"PGRST117"`}},
		apitest.Scenario{Name: "options lists methods", Method: "OPTIONS", URL: "/rest/v1/addresses", Headers: h(),
			WantStatus: 200, WantHeaders: map[string]string{"Allow": "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE"}},
		apitest.Scenario{Name: "write through a view", Method: "POST", URL: "/rest/v1/film_titles?select=title",
			Headers: h("Prefer", rep), Body: `{"title":"Memento","year":2000,"director_id":1}`, WantStatus: 201,
			Check: jsonEq(`[{"title":"Memento"}]`)},
	)
}
