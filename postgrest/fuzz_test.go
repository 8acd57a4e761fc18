package postgrest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pgstack/pgstack/internal/config"
)

// FuzzHTTP sends arbitrary requests through the assembled router — any
// method, path, query string, Prefer, Accept, Range, profile and body — and
// fails on any 5xx. The service key lets writes reach the database.
func FuzzHTTP(f *testing.F) {
	e := newEnv(f, func(c *config.Config) { c.RESTAggregates, c.RESTMaxRows = true, 100 })
	seeds := [][6]string{
		{"GET", "films?select=id,directors(*)&limit=1", "count=exact", "application/json", "0-1", ""},
		{"HEAD", "films?order=id.desc", "count=planned", "*/*", "", ""},
		{"POST", "addresses?select=id", "return=representation,resolution=merge-duplicates", "application/vnd.pgrst.object+json", "", `{"id":100,"city":"x"}`},
		{"PATCH", "addresses?id=eq.100", "return=headers-only,handling=strict,max-affected=0", "text/csv", "", `{"city":"y"}`},
		{"DELETE", "addresses?id=gt.99", "tx=rollback,count=exact", "application/vnd.pgrst.array+json;nulls=stripped", "", ""},
		{"PUT", "addresses?id=eq.101", "return=representation", "", "", `{"id":101,"city":"z"}`},
		{"POST", "rpc/add_them", "", "application/json", "", `{"a":1,"b":2}`},
		{"GET", "rpc/films_since?min_year=2000&select=title&limit=2", "count=exact", "", "", ""},
		{"GET", "", "", "application/openapi+json", "", ""},
		{"OPTIONS", "films", "", "", "", ""},
		{"GET", "films?select=director_id,count(),rating.avg()::int,directors(*)", "count=exact", "text/csv", "", ""},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5])
	}
	f.Fuzz(func(t *testing.T, method, target, prefer, accept, rng, body string) {
		if strings.ContainsAny(method, " \t\r\n/?#") || method == "" || strings.ContainsAny(target, " \t\r\n#") {
			return // not an HTTP request line
		}
		req, err := http.NewRequest(method, "http://pgstack/rest/v1/"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("apikey", e.ServiceKey)
		req.Header.Set("Content-Type", "application/json")
		for k, v := range map[string]string{"Prefer": prefer, "Accept": accept, "Range": rng} {
			if v != "" && !strings.ContainsAny(v, "\r\n") {
				req.Header.Set(k, v)
			}
		}
		rec := httptest.NewRecorder()
		e.Handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s /rest/v1/%s (Prefer %q, Accept %q, Range %q) body %q = %d %s", method, target, prefer, accept, rng, body, rec.Code, rec.Body)
		}
	})
}
