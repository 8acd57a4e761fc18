package postgrest_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/pgstack/pgstack/internal/apitest"
	"github.com/pgstack/pgstack/internal/config"
)

// jsonEq checks that the body is JSON equal to want.
func jsonEq(want string) func(t *testing.T, res *http.Response, body []byte) {
	return func(t *testing.T, res *http.Response, body []byte) {
		t.Helper()
		var got any
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("body is not JSON: %v: %s", err, body)
		}
		if !jsonSame(string(body), want) {
			t.Errorf("body = %s\nwant   %s", body, want)
		}
	}
}

// jsonSame says whether two JSON texts hold the same value.
func jsonSame(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func TestRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	svc := map[string]string{"apikey": e.ServiceKey}
	with := func(h map[string]string) map[string]string {
		out := map[string]string{"apikey": e.ServiceKey}
		for k, v := range h {
			out[k] = v
		}
		return out
	}
	e.Run(t,
		apitest.Scenario{Name: "columns, alias and cast", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films?select=id,name:title,year::text&id=lte.2&order=id",
			WantStatus: 200, WantHeaders: map[string]string{"Content-Range": "0-1/*", "Content-Type": "application/json; charset=utf-8"},
			Check: jsonEq(`[{"id":1,"name":"Inception","year":"2010"},{"id":2,"name":"Interstellar","year":"2014"}]`)},
		apitest.Scenario{Name: "content location echoes the sorted query", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films?select=id&order=id&id=eq.1",
			WantStatus: 200, WantHeaders: map[string]string{"Content-Location": "/films?id=eq.1&order=id&select=id"}},
		apitest.Scenario{Name: "json paths", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films?select=id,meta->budget,studio:meta->studio->>name&meta->studio->>name=eq.Warner",
			WantStatus: 200, Check: jsonEq(`[{"id":1,"budget":160,"studio":"Warner"}]`)},
		apitest.Scenario{Name: "json path compared as jsonb", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films?select=id&meta->budget=gt.160&order=id",
			WantStatus: 200, Check: jsonEq(`[{"id":2},{"id":5}]`)},
		apitest.Scenario{Name: "array index path", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films?select=id,first:tags->0&id=eq.1",
			WantStatus: 200, Check: jsonEq(`[{"id":1,"first":"heist"}]`)},
		apitest.Scenario{Name: "many-to-one, one-to-many, many-to-many", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films?select=title,director:directors(last_name),roles(character),actors(first_name)&id=eq.3&roles.order=character&actors.order=first_name",
			WantStatus: 200, Check: jsonEq(`[{"title":"Lady Bird","director":{"last_name":"Gerwig"},
				"roles":[{"character":"Christine"},{"character":"Kyle"}],
				"actors":[{"first_name":"Saoirse"},{"first_name":"Timothee"}]}]`)},
		apitest.Scenario{Name: "one-to-one both ways", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films?select=id,technical_specs(runtime_minutes)&id=in.(1,3)&order=id",
			WantStatus: 200, Check: jsonEq(`[{"id":1,"technical_specs":{"runtime_minutes":148}},{"id":3,"technical_specs":null}]`)},
		apitest.Scenario{Name: "one-to-one from the referencing side", Method: "GET", Headers: svc,
			URL:        "/rest/v1/technical_specs?select=runtime_minutes,films(title)&film_id=eq.2",
			WantStatus: 200, Check: jsonEq(`[{"runtime_minutes":169,"films":{"title":"Interstellar"}}]`)},
		apitest.Scenario{Name: "nested embeds with filters, order, limit", Method: "GET", Headers: svc,
			URL: "/rest/v1/directors?select=last_name,films(title,roles(character))&id=eq.1" +
				"&films.order=year.desc&films.limit=1&films.roles.character=eq.Tom",
			WantStatus: 200, Check: jsonEq(`[{"last_name":"Nolan","films":[{"title":"Interstellar","roles":[{"character":"Tom"}]}]}]`)},
		apitest.Scenario{Name: "inner join filters parents", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films?select=title,actors!inner(first_name)&actors.first_name=eq.Timothee&order=id",
			WantStatus: 200, Check: jsonEq(`[{"title":"Interstellar","actors":[{"first_name":"Timothee"}]},
				{"title":"Lady Bird","actors":[{"first_name":"Timothee"}]},{"title":"Dune","actors":[{"first_name":"Timothee"}]}]`)},
		apitest.Scenario{Name: "embed is null (anti-join)", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films?select=title,roles()&roles=is.null",
			WantStatus: 200, Check: jsonEq(`[{"title":"Untitled"}]`)},
		apitest.Scenario{Name: "only a hidden embed selected", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films?select=roles()&roles=is.null",
			WantStatus: 200, Check: jsonEq(`[{}]`)},
		apitest.Scenario{Name: "embed not is null inside or", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films?select=id,specs:technical_specs()&or=(specs.not.is.null,id.eq.5)&order=id",
			WantStatus: 200, Check: jsonEq(`[{"id":1},{"id":2},{"id":5}]`)},
		apitest.Scenario{Name: "spread to-one", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films?select=title,...directors(director:last_name)&id=eq.5",
			WantStatus: 200, Check: jsonEq(`[{"title":"Dune","director":"Villeneuve"}]`)},
		apitest.Scenario{Name: "spread to-many", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films?select=title,...roles(character)&id=eq.2&roles.order=character",
			WantStatus: 200, Check: jsonEq(`[{"title":"Interstellar","character":["Cooper","Tom"]}]`)},
		apitest.Scenario{Name: "hint by constraint", Method: "GET", Headers: svc,
			URL:        "/rest/v1/orders?select=id,billing:addresses!orders_billing_address_id_fkey(city),shipping:addresses!shipping_address_id(city)",
			WantStatus: 200, Check: jsonEq(`[{"id":1,"billing":{"city":"Paris"},"shipping":{"city":"Berlin"}}]`)},
		apitest.Scenario{Name: "ambiguous embed is 300", Method: "GET", Headers: svc,
			URL:        "/rest/v1/orders?select=id,addresses(city)",
			WantStatus: 300, WantBody: []string{`"code":"PGRST201"`, `"cardinality":"many-to-one"`, `addresses!orders_billing_address_id_fkey`}},
		apitest.Scenario{Name: "self reference by column name", Method: "GET", Headers: svc,
			URL:        "/rest/v1/employees?select=name,manager_id(name)&id=eq.2",
			WantStatus: 200, Check: jsonEq(`[{"name":"Grace","manager_id":{"name":"Ada"}}]`)},
		apitest.Scenario{Name: "view embeds through base-table keys", Method: "GET", Headers: svc,
			URL:        "/rest/v1/film_titles?select=title,directors(last_name)&id=eq.4",
			WantStatus: 200, Check: jsonEq(`[{"title":"Barbie","directors":{"last_name":"Gerwig"}}]`)},
		apitest.Scenario{Name: "computed field and computed relationship", Method: "GET", Headers: svc,
			URL:        "/rest/v1/directors?select=full_name,top_films(title)&full_name=like.Chris*&order=full_name",
			WantStatus: 200, Check: jsonEq(`[{"full_name":"Christopher Nolan","top_films":[{"title":"Inception"},{"title":"Interstellar"}]}]`)},
		apitest.Scenario{Name: "computed to-one relationship", Method: "GET", Headers: svc,
			URL:        "/rest/v1/employees?select=name,boss(name)&id=in.(1,2)&order=id",
			WantStatus: 200, Check: jsonEq(`[{"name":"Ada","boss":null},{"name":"Grace","boss":{"name":"Ada"}}]`)},
		apitest.Scenario{Name: "computed fields are not in *", Method: "GET", Headers: svc,
			URL:        "/rest/v1/directors?id=eq.2",
			WantStatus: 200, Check: jsonEq(`[{"id":2,"first_name":"Greta","last_name":"Gerwig"}]`)},
		apitest.Scenario{Name: "computed fields cannot be written", Method: "PATCH",
			Headers: map[string]string{"apikey": e.ServiceKey, "Content-Type": "application/json"},
			URL:     "/rest/v1/directors?id=eq.2", Body: `{"full_name":"x"}`,
			WantStatus: 400, WantBody: []string{`"code":"PGRST204"`}},
		apitest.Scenario{Name: "view with renamed key columns", Method: "GET", Headers: svc,
			URL:        "/rest/v1/directors_renamed?select=surname,films(title)&director_key=eq.3",
			WantStatus: 200, Check: jsonEq(`[{"surname":"Villeneuve","films":[{"title":"Dune"}]}]`)},
		apitest.Scenario{Name: "view over a view, embedding another view", Method: "GET", Headers: svc,
			URL:        "/rest/v1/recent_films?select=title,directors_renamed(surname),directors(first_name)&id=in.(3,6)&order=id",
			WantStatus: 200, Check: jsonEq(`[{"title":"Lady Bird","directors_renamed":{"surname":"Gerwig"},"directors":{"first_name":"Greta"}},
				{"title":"Untitled","directors_renamed":null,"directors":null}]`)},
		apitest.Scenario{Name: "unknown relationship", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films?select=title,studios(*)",
			WantStatus: 400, WantBody: []string{`"code":"PGRST200"`, `Could not find a relationship between 'films' and 'studios' in the schema cache`}},
		apitest.Scenario{Name: "filter on an embed not selected", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films?select=title&roles.character=eq.x",
			WantStatus: 400, WantBody: []string{`"code":"PGRST108"`}},
		apitest.Scenario{Name: "bad operator on an embed", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films?select=title,roles()&roles=eq.1",
			WantStatus: 400, WantBody: []string{`"code":"PGRST120"`}},
		apitest.Scenario{Name: "order by to-one embed", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films?select=id,directors(last_name)&director_id=not.is.null&order=directors(last_name).desc,id.asc",
			WantStatus: 200, Check: jsonEq(`[{"id":5,"directors":{"last_name":"Villeneuve"}},{"id":1,"directors":{"last_name":"Nolan"}},
				{"id":2,"directors":{"last_name":"Nolan"}},{"id":3,"directors":{"last_name":"Gerwig"}},{"id":4,"directors":{"last_name":"Gerwig"}}]`)},
		apitest.Scenario{Name: "order by to-many embed is 400", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films?select=id,roles(character)&order=roles(character)",
			WantStatus: 400, WantBody: []string{`"code":"PGRST118"`}},
		apitest.Scenario{Name: "order nulls first", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films?select=id&order=rating.desc.nullsfirst&limit=2",
			WantStatus: 200, Check: jsonEq(`[{"id":6},{"id":1}]`)},
		apitest.Scenario{Name: "unknown column is 42703", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films?select=nope",
			WantStatus: 400, WantBody: []string{`"code":"42703"`, `column films.nope does not exist`}},
		apitest.Scenario{Name: "unknown table is 404", Method: "GET", Headers: svc,
			URL:        "/rest/v1/filmz",
			WantStatus: 404, WantBody: []string{`"code":"PGRST205"`, `Perhaps you meant the table 'public.films'`}},
		apitest.Scenario{Name: "deeper path is 404", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films/1",
			WantStatus: 404, WantBody: []string{`"code":"PGRST125"`}},
		apitest.Scenario{Name: "parse error is PGRST100", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films?id=noop.1",
			WantStatus: 400, WantBody: []string{`"code":"PGRST100"`, `"hint":null`, `failed to parse filter (noop.1)`}},
		apitest.Scenario{Name: "aggregates are disabled", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films?select=year.max()",
			WantStatus: 400, WantBody: []string{`"code":"PGRST123"`}},
		apitest.Scenario{Name: "bad value type is 22P02", Method: "GET", Headers: svc,
			URL:        "/rest/v1/films?id=eq.abc",
			WantStatus: 400, WantBody: []string{`"code":"22P02"`}},
		apitest.Scenario{Name: "wrong schema is 406", Method: "GET", Headers: with(map[string]string{"Accept-Profile": "auth"}),
			URL:        "/rest/v1/users",
			WantStatus: 406, WantBody: []string{`"code":"PGRST106"`, `The schema must be one of the following: public`}},
		apitest.Scenario{Name: "profile echoed", Method: "GET", Headers: with(map[string]string{"Accept-Profile": "public"}),
			URL:        "/rest/v1/films?select=id&id=eq.1",
			WantStatus: 200, WantHeaders: map[string]string{"Content-Profile": "public"}},
		apitest.Scenario{Name: "unknown media type is 406", Method: "GET", Headers: with(map[string]string{"Accept": "image/png"}),
			URL:        "/rest/v1/films",
			WantStatus: 406, WantBody: []string{`"code":"PGRST107"`}},
		apitest.Scenario{Name: "csv", Method: "GET", Headers: with(map[string]string{"Accept": "text/csv"}),
			URL:        "/rest/v1/films?select=id,title&id=lte.2&order=id",
			WantStatus: 200, WantHeaders: map[string]string{"Content-Type": "text/csv; charset=utf-8"},
			Check: func(t *testing.T, res *http.Response, body []byte) {
				if string(body) != "id,title\n1,Inception\n2,Interstellar" {
					t.Errorf("csv = %q", body)
				}
			}},
		apitest.Scenario{Name: "singular", Method: "GET", Headers: with(map[string]string{"Accept": "application/vnd.pgrst.object+json"}),
			URL:        "/rest/v1/films?select=id,title&id=eq.1",
			WantStatus: 200, WantHeaders: map[string]string{"Content-Type": "application/vnd.pgrst.object+json; charset=utf-8"},
			Check: jsonEq(`{"id":1,"title":"Inception"}`)},
		apitest.Scenario{Name: "singular with many rows is 406", Method: "GET", Headers: with(map[string]string{"Accept": "application/vnd.pgrst.object+json"}),
			URL:        "/rest/v1/films?select=id",
			WantStatus: 406, WantBody: []string{`"code":"PGRST116"`, `The result contains 6 rows`}},
		apitest.Scenario{Name: "singular with no rows is 406", Method: "GET", Headers: with(map[string]string{"Accept": "application/vnd.pgrst.object+json"}),
			URL:        "/rest/v1/films?id=eq.999",
			WantStatus: 406, WantBody: []string{`0 rows`}},
		apitest.Scenario{Name: "nulls stripped", Method: "GET", Headers: with(map[string]string{"Accept": "application/vnd.pgrst.array+json;nulls=stripped"}),
			URL:        "/rest/v1/films?select=id,rating&id=eq.6",
			WantStatus: 200, Check: jsonEq(`[{"id":6}]`)},
	)
}

func TestFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	svc := map[string]string{"apikey": e.ServiceKey}
	bookings := func(url, want string) apitest.Scenario {
		return apitest.Scenario{Name: url, Method: "GET", URL: "/rest/v1/bookings?select=id&order=id&" + url, Headers: svc,
			WantStatus: 200, Check: jsonEq(want)}
	}
	ids := func(url, want string) apitest.Scenario {
		return apitest.Scenario{Name: url, Method: "GET", URL: "/rest/v1/films?select=id&order=id&" + url, Headers: svc,
			WantStatus: 200, Check: jsonEq(want)}
	}
	e.Run(t,
		ids("id=eq.1", `[{"id":1}]`),
		ids("id=neq.1&id=lt.4", `[{"id":2},{"id":3}]`),
		ids("year=gt.2017&year=lte.2023", `[{"id":4},{"id":5}]`),
		ids("year=gte.2023", `[{"id":4},{"id":6}]`),
		ids("title=like.*ste*", `[{"id":2}]`),
		ids("title=ilike.*IN*", `[{"id":1},{"id":2}]`),
		ids("title=match.^D", `[{"id":5}]`),
		ids("title=imatch.^d", `[{"id":5}]`),
		ids("id=in.(1,3,5)", `[{"id":1},{"id":3},{"id":5}]`),
		ids("title=in.(\"Lady%20Bird\",Dune)", `[{"id":3},{"id":5}]`),
		ids("id=in.()", `[]`),
		ids("id=not.in.(1,2,3,4,5)", `[{"id":6}]`),
		ids("rating=is.null", `[{"id":6}]`),
		ids("rating=not.is.null&year=lt.2014", `[{"id":1}]`),
		ids("director_id=isdistinct.1", `[{"id":3},{"id":4},{"id":5},{"id":6}]`),
		ids("fts=fts.dune", `[{"id":5}]`),
		ids("fts=plfts(english).lady+bird", `[{"id":3}]`),
		ids("title=phfts(english).lady+bird", `[{"id":3}]`),
		ids("title=wfts.interstellar+or+inception", `[{"id":1},{"id":2}]`),
		ids("tags=cs.{space}", `[{"id":2},{"id":5}]`),
		ids("tags=cd.{space,epic,heist}", `[{"id":2},{"id":5},{"id":6}]`),
		ids("tags=ov.{dream,comedy}", `[{"id":1},{"id":4}]`),
		ids("meta=cs.{\"budget\":165}", `[{"id":2},{"id":5}]`),
		ids("title=like(any).{Dun*,Bar*}", `[{"id":4},{"id":5}]`),
		ids("title=like(all).{*a*,*e*}", `[{"id":2},{"id":4}]`),
		ids("id=eq(any).{1,2}", `[{"id":1},{"id":2}]`),
		ids("or=(id.eq.1,id.eq.6)", `[{"id":1},{"id":6}]`),
		ids("or=(year.lt.2012,and(year.gt.2020,rating.gt.7))", `[{"id":1},{"id":5}]`),
		ids("not.or=(id.lt.3,id.gt.4)", `[{"id":3},{"id":4}]`),
		ids("and=(id.gt.1,or(title.eq.Dune,not.and(year.gte.2011,year.lte.2030)))", `[{"id":5}]`),
		ids("or=(title.eq.\"Lady%20Bird\",id.in.(4,5))", `[{"id":3},{"id":4},{"id":5}]`),
		ids("tags=is.null", `[]`),
		apitest.Scenario{Name: "filters on embeds inside or", Method: "GET", Headers: svc,
			URL:        "/rest/v1/directors?select=id,films(id)&films.or=(year.lt.2012,year.gt.2022)&films.order=id&order=id",
			WantStatus: 200, Check: jsonEq(`[{"id":1,"films":[{"id":1}]},{"id":2,"films":[{"id":4}]},{"id":3,"films":[]}]`)},
		bookings("during=ov.[2,4)", `[{"id":1},{"id":2}]`),
		bookings("during=sl.[7,8)", `[{"id":1},{"id":2}]`),
		bookings("during=sr.[3,5)", `[{"id":3}]`),
		bookings("during=nxr.[1,6)", `[{"id":1},{"id":2}]`),
		bookings("during=nxl.[5,9)", `[{"id":3}]`),
		bookings("during=adj.[6,8)", `[{"id":2},{"id":3}]`),
		bookings("during=cs.[4,5)", `[{"id":2}]`),
		apitest.Scenario{Name: "bad is value", Method: "GET", Headers: svc, URL: "/rest/v1/films?id=is.maybe",
			WantStatus: 400, WantBody: []string{`"code":"PGRST100"`}},
		apitest.Scenario{Name: "unbalanced logic tree", Method: "GET", Headers: svc, URL: "/rest/v1/films?or=(id.eq.1",
			WantStatus: 400, WantBody: []string{`"code":"PGRST100"`}},
	)
}

func TestRangesAndCounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := func(kv ...string) map[string]string {
		m := map[string]string{"apikey": e.ServiceKey}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	e.Run(t,
		apitest.Scenario{Name: "limit without count is 200", Method: "GET", URL: "/rest/v1/films?select=id&limit=2&order=id", Headers: h(),
			WantStatus: 200, WantHeaders: map[string]string{"Content-Range": "0-1/*"}},
		apitest.Scenario{Name: "exact count with limit is 206", Method: "GET", URL: "/rest/v1/films?select=id&limit=2&offset=1&order=id",
			Headers: h("Prefer", "count=exact"), WantStatus: 206,
			WantHeaders: map[string]string{"Content-Range": "1-2/6", "Preference-Applied": "count=exact"},
			Check:       jsonEq(`[{"id":2},{"id":3}]`)},
		apitest.Scenario{Name: "exact count without limit is 200", Method: "GET", URL: "/rest/v1/films?select=id&year=gt.2015",
			Headers: h("Prefer", "count=exact"), WantStatus: 200, WantHeaders: map[string]string{"Content-Range": "0-3/4"}},
		apitest.Scenario{Name: "count with inner embed filter", Method: "GET",
			URL:     "/rest/v1/films?select=id,actors!inner(id)&actors.first_name=eq.Timothee&limit=1&order=id",
			Headers: h("Prefer", "count=exact"), WantStatus: 206, WantHeaders: map[string]string{"Content-Range": "0-0/3"}},
		apitest.Scenario{Name: "planned count", Method: "GET", URL: "/rest/v1/films?select=id&limit=1",
			Headers: h("Prefer", "count=planned"), WantStatus: 206,
			Check: func(t *testing.T, res *http.Response, body []byte) {
				if cr := res.Header.Get("Content-Range"); cr == "0-0/*" || cr == "" {
					t.Errorf("Content-Range = %q, want a planned total", cr)
				}
			}},
		apitest.Scenario{Name: "estimated count", Method: "GET", URL: "/rest/v1/films?select=id&limit=1",
			Headers: h("Prefer", "count=estimated"), WantStatus: 206, WantHeaders: map[string]string{"Content-Range": "0-0/6"}},
		apitest.Scenario{Name: "offset past the end is 416", Method: "GET", URL: "/rest/v1/films?offset=10",
			Headers: h("Prefer", "count=exact"), WantStatus: 416,
			WantHeaders: map[string]string{"Content-Range": "*/6"},
			WantBody:    []string{`"code":"PGRST103"`, `An offset of 10 was requested, but there are only 6 rows.`}},
		apitest.Scenario{Name: "offset equal to total is 206 and empty", Method: "GET", URL: "/rest/v1/films?offset=6",
			Headers: h("Prefer", "count=exact"), WantStatus: 206, WantHeaders: map[string]string{"Content-Range": "*/6"},
			Check: jsonEq(`[]`)},
		apitest.Scenario{Name: "limit=0", Method: "GET", URL: "/rest/v1/films?limit=0",
			Headers: h("Prefer", "count=exact"), WantStatus: 206, WantHeaders: map[string]string{"Content-Range": "*/6"},
			Check: jsonEq(`[]`)},
		apitest.Scenario{Name: "negative limit is 416", Method: "GET", URL: "/rest/v1/films?limit=-1", Headers: h(),
			WantStatus: 416, WantBody: []string{`Limit should be greater than or equal to zero.`}},
		apitest.Scenario{Name: "range header", Method: "GET", URL: "/rest/v1/films?select=id&order=id",
			Headers: h("Range", "1-2", "Range-Unit", "items"), WantStatus: 200,
			WantHeaders: map[string]string{"Content-Range": "1-2/*"}, Check: jsonEq(`[{"id":2},{"id":3}]`)},
		apitest.Scenario{Name: "range header intersected with limit", Method: "GET", URL: "/rest/v1/films?select=id&order=id&offset=1&limit=1",
			Headers: h("Range", "0-4"), WantStatus: 200, Check: jsonEq(`[{"id":2}]`)},
		apitest.Scenario{Name: "inverted range is 416", Method: "GET", URL: "/rest/v1/films",
			Headers: h("Range", "5-2"), WantStatus: 416, WantBody: []string{`The lower boundary must be lower than or equal to the upper boundary in the Range header.`}},
		apitest.Scenario{Name: "head with count", Method: "HEAD", URL: "/rest/v1/films?select=id&limit=2",
			Headers: h("Prefer", "count=exact"), WantStatus: 206,
			WantHeaders: map[string]string{"Content-Range": "0-1/6", "Content-Type": "application/json; charset=utf-8"},
			Check: func(t *testing.T, res *http.Response, body []byte) {
				if len(body) != 0 {
					t.Errorf("HEAD body = %q", body)
				}
			}},
		apitest.Scenario{Name: "strict handling rejects unknown preferences", Method: "GET", URL: "/rest/v1/films",
			Headers: h("Prefer", "handling=strict, foo=bar"), WantStatus: 400,
			WantBody: []string{`"code":"PGRST122"`, `Invalid preferences: foo=bar`}},
		apitest.Scenario{Name: "lenient handling ignores them", Method: "GET", URL: "/rest/v1/films?limit=1",
			Headers: h("Prefer", "foo=bar"), WantStatus: 200},
	)
}

// TestMaxRows: REST_MAX_ROWS caps every read node, embeds and RPC results
// included, and counts still report the whole set.
func TestMaxRows(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *config.Config) { c.RESTMaxRows = 2 })
	h := map[string]string{"apikey": e.ServiceKey, "Prefer": "count=exact"}
	e.Run(t,
		apitest.Scenario{Name: "root and embeds capped", Method: "GET", Headers: h,
			URL:        "/rest/v1/directors?select=id,films(id)&order=id&films.order=id",
			WantStatus: 206, WantHeaders: map[string]string{"Content-Range": "0-1/3"},
			Check: jsonEq(`[{"id":1,"films":[{"id":1},{"id":2}]},{"id":2,"films":[{"id":3},{"id":4}]}]`)},
		apitest.Scenario{Name: "a smaller limit wins", Method: "GET", Headers: h, URL: "/rest/v1/films?select=id&order=id&limit=1",
			WantStatus: 206, WantHeaders: map[string]string{"Content-Range": "0-0/6"}},
		apitest.Scenario{Name: "rpc results capped", Method: "GET", Headers: h, URL: "/rest/v1/rpc/films_since?min_year=2000&select=id",
			WantStatus: 206, WantHeaders: map[string]string{"Content-Range": "0-1/6"}},
	)
}

// TestEstimatedCount: with REST_MAX_ROWS, count=estimated counts exactly up
// to max-rows and takes the planner's estimate beyond it, as PostgREST.
func TestEstimatedCount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *config.Config) { c.RESTMaxRows = 2 })
	// The statistics say 6 films; 4 more arrive after them, in the same page,
	// so the estimate stays 6 while the table holds 10.
	exec(t, e.DB.URL, `ANALYZE public.films;
		INSERT INTO public.films (title, year) SELECT 'Sequel ' || i, 2040 + i FROM generate_series(1, 4) i`)
	est := map[string]string{"apikey": e.ServiceKey, "Prefer": "count=estimated"}
	e.Run(t,
		apitest.Scenario{Name: "beyond max-rows: the estimate", Method: "GET", Headers: est, URL: "/rest/v1/films?select=id",
			WantStatus: 206, WantHeaders: map[string]string{"Content-Range": "0-1/6", "Preference-Applied": "count=estimated"}},
		apitest.Scenario{Name: "within max-rows: exact", Method: "GET", Headers: est, URL: "/rest/v1/films?select=id&year=lt.2015",
			WantStatus: 200, WantHeaders: map[string]string{"Content-Range": "0-1/2"}},
		apitest.Scenario{Name: "exact counts everything", Method: "GET", URL: "/rest/v1/films?select=id",
			Headers:    map[string]string{"apikey": e.ServiceKey, "Prefer": "count=exact"},
			WantStatus: 206, WantHeaders: map[string]string{"Content-Range": "0-1/10"}},
	)
}

// TestAggregates: with REST_AGGREGATES, aggregate functions group by the
// other selected columns, at the root and inside embeds.
func TestAggregates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *config.Config) { c.RESTAggregates = true })
	h := map[string]string{"apikey": e.ServiceKey}
	e.Run(t,
		apitest.Scenario{Name: "count()", Method: "GET", Headers: h, URL: "/rest/v1/films?select=count()&year=lt.2020",
			WantStatus: 200, Check: jsonEq(`[{"count":3}]`)},
		apitest.Scenario{Name: "grouped with aliases and casts", Method: "GET", Headers: h,
			URL:        "/rest/v1/films?select=director_id,n:count(),best:rating.max(),total:year.sum()::text&director_id=not.is.null&order=director_id",
			WantStatus: 200, Check: jsonEq(`[{"director_id":1,"n":2,"best":8.8,"total":"4024"},
				{"director_id":2,"n":2,"best":7.4,"total":"4040"},{"director_id":3,"n":1,"best":8.0,"total":"2021"}]`)},
		apitest.Scenario{Name: "input cast", Method: "GET", Headers: h,
			URL:        "/rest/v1/films?select=avg:year::numeric.avg()::int&id=in.(1,2)",
			WantStatus: 200, Check: jsonEq(`[{"avg":2012}]`)},
		apitest.Scenario{Name: "inside an embed", Method: "GET", Headers: h,
			URL:        "/rest/v1/directors?select=last_name,films(count())&order=id",
			WantStatus: 200, Check: jsonEq(`[{"last_name":"Nolan","films":[{"count":2}]},{"last_name":"Gerwig","films":[{"count":2}]},
				{"last_name":"Villeneuve","films":[{"count":1}]}]`)},
		apitest.Scenario{Name: "grouped by an embed", Method: "GET", Headers: h,
			URL:        "/rest/v1/films?select=count(),directors(last_name)&director_id=eq.1",
			WantStatus: 200, Check: jsonEq(`[{"count":2,"directors":{"last_name":"Nolan"}}]`)},
	)
	off := newEnv(t)
	off.Run(t, apitest.Scenario{Name: "off by default", Method: "GET", Headers: map[string]string{"apikey": off.ServiceKey},
		URL: "/rest/v1/films?select=count()", WantStatus: 400, WantBody: []string{`"code":"PGRST123"`}})
}
