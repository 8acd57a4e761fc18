package postgrest

import (
	"context"
	"errors"
	"net/http"
	"os"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgstack/pgstack/internal/database"
	"github.com/pgstack/pgstack/internal/identity"
	"github.com/pgstack/pgstack/internal/pgtest"
)

type fixture struct {
	cache *Cache
	db    *database.DB
}

// loadFixture gives the stage tests a schema cache of testdata/schema.sql
// and the database it was loaded from.
func loadFixture(t testing.TB) fixture {
	t.Helper()
	tdb := pgtest.NewDB(t)
	sql, err := os.ReadFile("testdata/schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	tdb.Exec(t, string(sql))
	db := tdb.Open(t)
	c, err := LoadCache(context.Background(), db.Owner, []string{"public"})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{cache: c, db: db}
}

// build runs parse -> plan -> SQL for a request.
func build(c *Cache, method, resource, query string, rpc bool, headers http.Header) (*Plan, Statement, error) {
	if headers == nil {
		headers = http.Header{}
	}
	media, err := ParseAccept(headers.Get("Accept"), false)
	if err != nil {
		return nil, Statement{}, err
	}
	prefs, err := ParsePrefer(headers)
	if err != nil {
		return nil, Statement{}, err
	}
	q, err := ParseQuery(query, rpc && method == http.MethodGet)
	if err != nil {
		return nil, Statement{}, err
	}
	req := &Request{Method: method, Resource: resource, RPC: rpc, Query: q, Prefs: prefs, Media: media,
		Body: []byte(headers.Get("X-Test-Body")), ContentType: headers.Get("Content-Type")}
	p, err := Planner{Cache: c, Aggregates: true}.Plan(req)
	if err != nil {
		return nil, Statement{}, err
	}
	return p, BuildSQL(p), nil
}

const tail = ` AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, coalesce(json_agg(_postgrest_t), '[]') AS body, nullif(current_setting('response.headers', true), '') AS response_headers, nullif(current_setting('response.status', true), '') AS response_status, NULL::int AS response_inserted, NULL::json AS location FROM (`

func TestBuildSQL(t *testing.T) {
	t.Parallel()
	f := loadFixture(t)
	tests := []struct {
		name     string
		method   string
		resource string
		rpc      bool
		query    string
		headers  http.Header
		wantSQL  string
		wantArgs []any
		wantErr  string
	}{
		{name: "columns, filter, order, limit", method: "GET", resource: "films",
			query:    "select=id,t:title&year=gte.2000&order=title.desc&limit=10&offset=20",
			wantSQL:  `WITH pgrst_source AS (SELECT "public"."films"."id", "public"."films"."title" AS "t" FROM "public"."films" WHERE "public"."films"."year" >= $1 ORDER BY "public"."films"."title" DESC LIMIT $2 OFFSET $3) SELECT NULL::bigint` + tail + `SELECT * FROM pgrst_source) _postgrest_t`,
			wantArgs: []any{"2000", "10", "20"}},
		{name: "values never reach the SQL text", method: "GET", resource: "films",
			query:    "select=id&title=eq.x';DROP TABLE films;--&id=in.(1,\"2\")",
			wantSQL:  `WITH pgrst_source AS (SELECT "public"."films"."id" FROM "public"."films" WHERE "public"."films"."title" = $1 AND "public"."films"."id" = ANY ($2)) SELECT NULL::bigint` + tail + `SELECT * FROM pgrst_source) _postgrest_t`,
			wantArgs: []any{"x';DROP TABLE films;--", `{"1","2"}`}},
		{name: "json path, cast and logic tree", method: "GET", resource: "films",
			query:    "select=b:meta->>budget::int&or=(meta->budget.gt.100,not.and(id.eq.1,rating.is.null))",
			wantSQL:  `WITH pgrst_source AS (SELECT CAST("public"."films"."meta"->>$1::text AS int) AS "b" FROM "public"."films" WHERE ("public"."films"."meta"->$2::text > $3 OR NOT ("public"."films"."id" = $4 AND "public"."films"."rating" IS NULL))) SELECT NULL::bigint` + tail + `SELECT * FROM pgrst_source) _postgrest_t`,
			wantArgs: []any{"budget", "budget", "100", "1"}},
		{name: "to-one and to-many embeds", method: "GET", resource: "films",
			query:    "select=title,directors(last_name),roles(character)&roles.order=character&roles.limit=2",
			wantSQL:  `WITH pgrst_source AS (SELECT "public"."films"."title", row_to_json("pgrst_l1".*) AS "directors", COALESCE("pgrst_l3"."pgrst_l3", '[]') AS "roles" FROM "public"."films" LEFT JOIN LATERAL (SELECT "pgrst_t2"."last_name" FROM "public"."directors" AS "pgrst_t2" WHERE "pgrst_t2"."id" = "public"."films"."director_id") AS "pgrst_l1" ON TRUE LEFT JOIN LATERAL (SELECT json_agg("pgrst_l3") AS "pgrst_l3" FROM (SELECT "pgrst_t4"."character" FROM "public"."roles" AS "pgrst_t4" WHERE "pgrst_t4"."film_id" = "public"."films"."id" ORDER BY "pgrst_t4"."character" LIMIT $1) AS "pgrst_l3") AS "pgrst_l3" ON TRUE) SELECT NULL::bigint` + tail + `SELECT * FROM pgrst_source) _postgrest_t`,
			wantArgs: []any{"2"}},
		{name: "many-to-many inner join with count", method: "GET", resource: "films",
			query:    "select=id,actors!inner(id)&actors.first_name=eq.Tom&limit=1",
			headers:  http.Header{"Prefer": {"count=exact"}},
			wantSQL:  `WITH pgrst_source AS (SELECT "public"."films"."id", COALESCE("pgrst_l1"."pgrst_l1", '[]') AS "actors" FROM "public"."films" INNER JOIN LATERAL (SELECT json_agg("pgrst_l1") AS "pgrst_l1" FROM (SELECT "pgrst_t2"."id" FROM "public"."actors" AS "pgrst_t2", "public"."roles" AS "pgrst_j3" WHERE "pgrst_j3"."actor_id" = "pgrst_t2"."id" AND "pgrst_j3"."film_id" = "public"."films"."id" AND "pgrst_t2"."first_name" = $1) AS "pgrst_l1") AS "pgrst_l1" ON "pgrst_l1" IS NOT NULL LIMIT $2), pgrst_source_count AS (SELECT FROM "public"."films" INNER JOIN LATERAL (SELECT json_agg("pgrst_l4") AS "pgrst_l4" FROM (SELECT "pgrst_t5"."id" FROM "public"."actors" AS "pgrst_t5", "public"."roles" AS "pgrst_j6" WHERE "pgrst_j6"."actor_id" = "pgrst_t5"."id" AND "pgrst_j6"."film_id" = "public"."films"."id" AND "pgrst_t5"."first_name" = $3) AS "pgrst_l4") AS "pgrst_l4" ON "pgrst_l4" IS NOT NULL) SELECT (SELECT pg_catalog.count(*) FROM pgrst_source_count)` + tail + `SELECT * FROM pgrst_source) _postgrest_t`,
			wantArgs: []any{"Tom", "1", "Tom"}},
		{name: "insert with representation", method: "POST", resource: "actors", query: "select=id",
			headers:  http.Header{"Prefer": {"return=representation"}, "X-Test-Body": {`{"first_name":"a","last_name":"b"}`}},
			wantSQL:  `WITH pgrst_source AS (INSERT INTO "public"."actors"("first_name", "last_name") SELECT pgrst_body."first_name", pgrst_body."last_name" FROM json_populate_recordset(NULL::"public"."actors", $1::json) AS pgrst_body RETURNING "public"."actors".*) SELECT NULL::bigint` + tail + `SELECT "actors"."id" FROM "pgrst_source" AS "actors") _postgrest_t`,
			wantArgs: []any{`[{"first_name":"a","last_name":"b"}]`}},
		{name: "update minimal", method: "PATCH", resource: "actors", query: "id=eq.3",
			headers:  http.Header{"X-Test-Body": {`{"last_name":"c"}`}},
			wantSQL:  `WITH pgrst_source AS (UPDATE "public"."actors" SET "last_name" = pgrst_body."last_name" FROM json_populate_record(NULL::"public"."actors", $1::json) AS pgrst_body WHERE "public"."actors"."id" = $2 RETURNING 1) SELECT NULL::bigint AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, ''::text AS body, nullif(current_setting('response.headers', true), '') AS response_headers, nullif(current_setting('response.status', true), '') AS response_status, NULL::int AS response_inserted, NULL::json AS location FROM (SELECT * FROM pgrst_source) _postgrest_t`,
			wantArgs: []any{`{"last_name":"c"}`, "3"}},
		{name: "rpc via GET over a set", method: "GET", resource: "films_since", rpc: true, query: "min_year=2000&select=id&rating=gt.5",
			wantSQL:  `WITH pgrst_source AS (SELECT pgrst_call.* FROM "public"."films_since"("min_year" := $1::integer) AS pgrst_call) SELECT NULL::bigint` + tail + `SELECT "films_since"."id" FROM "pgrst_source" AS "films_since" WHERE "films_since"."rating" > $2) _postgrest_t`,
			wantArgs: []any{"2000", "5"}},
		{name: "unknown column", method: "GET", resource: "films", query: "select=nope", wantErr: "42703"},
		{name: "unknown embed", method: "GET", resource: "films", query: "select=nope(*)", wantErr: CodeNoRelationship},
		{name: "ambiguous embed", method: "GET", resource: "orders", query: "select=addresses(*)", wantErr: CodeAmbiguousRelation},
		{name: "unknown table", method: "GET", resource: "nope", wantErr: CodeNoTable},
		{name: "unknown function", method: "POST", resource: "nope", rpc: true, wantErr: CodeNoFunction},
		{name: "filter on a missing embed", method: "GET", resource: "films", query: "x.id=eq.1", wantErr: CodeNotEmbedded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, st, err := build(f.cache, tt.method, tt.resource, tt.query, tt.rpc, tt.headers)
			if tt.wantErr != "" {
				var e *Error
				if !errors.As(err, &e) || e.Code != tt.wantErr {
					t.Fatalf("err = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.SQL != tt.wantSQL {
				t.Errorf("SQL:\n got %s\nwant %s", st.SQL, tt.wantSQL)
			}
			if !reflect.DeepEqual(st.Args, tt.wantArgs) {
				t.Errorf("args = %#v, want %#v", st.Args, tt.wantArgs)
			}
			// The statement runs (and is rolled back).
			if _, err := run(f.db, tt.method != "GET", st); err != nil {
				t.Errorf("statement fails: %v", err)
			}
		})
	}
}

// run executes a statement as service_role and rolls back.
func run(db *database.DB, write bool, st Statement) (int64, error) {
	caller := database.Caller{Identity: identity.Identity{Role: "service_role", Claims: []byte(`{"role":"service_role"}`)}, ReadOnly: !write}
	var n int64
	err := db.Pipeline(context.Background(), caller, database.Decide, func() bool { return false },
		database.Statement{SQL: st.SQL, Args: st.Args, Scan: func(rows pgx.Rows) error {
			for rows.Next() {
				var total *int64
				var body []byte
				var a, b *string
				var c *int32
				var d []byte
				if err := rows.Scan(&total, &n, &body, &a, &b, &c, &d); err != nil {
					return err
				}
			}
			return rows.Err()
		}})
	return n, err
}

// FuzzPlan: any request against the fixture schema — read, write or RPC,
// any query string, Prefer header and body — is planned and run without a
// panic, and whatever fails is a 4xx (or PGRST201/203's 300), never a 5xx.
// Writes are rolled back.
func FuzzPlan(f *testing.F) {
	fx := loadFixture(f)
	targets := []struct {
		name string
		rpc  bool
	}{
		{"films", false}, {"directors", false}, {"actors", false}, {"roles", false}, {"technical_specs", false},
		{"orders", false}, {"addresses", false}, {"employees", false}, {"film_titles", false}, {"bookings", false},
		{"todos", false}, {"todo_notes", false},
		{"add_them", true}, {"films_since", true}, {"film_stats", true}, {"years", true}, {"echo", true},
		{"hello", true}, {"sum_all", true}, {"add_director", true}, {"touch", true},
	}
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPatch, http.MethodDelete, http.MethodPut}
	seeds := []struct {
		target       int
		method       int
		query, prefs string
		body         string
	}{
		{0, 0, "select=id,t:title,meta->>budget&year=gte.2000&order=title.desc&limit=10&offset=2", "count=exact", ""},
		{0, 0, "select=title,directors(last_name),roles(character,actors(*))&roles.order=character&roles.limit=1", "", ""},
		{0, 0, "select=id,actors!inner(id)&actors.first_name=eq.Tom&or=(id.eq.1,rating.is.null)", "count=planned", ""},
		{0, 0, "select=id,...directors(last_name),roles()&roles=not.is.null&tags=cs.{a}&fts=wfts.x", "", ""},
		{5, 0, "select=id,billing:addresses!billing_address_id(city)&order=billing(city).desc", "", ""},
		{9, 0, "during=ov.[1,2)&id=in.(1,2)&not.and=(id.gt.1,during.adj.[2,3))", "", ""},
		{1, 0, "select=full_name,top_films(title)&full_name=like.C*", "", ""},
		{6, 2, "select=id", "return=representation,resolution=merge-duplicates", `[{"id":1,"city":"x"}]`},
		{2, 2, `columns="first_name","last_name"`, "missing=default,return=headers-only", `{"first_name":"a","last_name":"b"}`},
		{6, 3, "id=eq.1&select=city", "return=representation", `{"city":"y"}`},
		{6, 4, "id=gt.100", "count=exact", ""},
		{6, 5, "id=eq.9", "return=representation", `{"id":9,"city":"z"}`},
		{12, 2, "", "", `{"a":1,"b":2}`},
		{13, 0, "min_year=2000&select=title,directors(*)&rating=gt.5&limit=1", "count=exact", ""},
		{16, 2, "", "", `{"x":[1,2]}`},
		{18, 0, "nums=1&nums=2", "", ""},
		{0, 0, "select=director_id,count(),rating.max(),directors(last_name)&order=director_id", "count=exact", ""},
		{1, 0, "select=last_name,films(year::numeric.avg()::int)", "", ""},
	}
	for _, s := range seeds {
		f.Add(uint8(s.target), uint8(s.method), s.query, s.prefs, s.body)
	}
	anon := identity.Anonymous()
	f.Fuzz(func(t *testing.T, which, method uint8, query, prefer, body string) {
		target := targets[int(which)%len(targets)]
		m := methods[int(method)%len(methods)]
		h := http.Header{"Prefer": {prefer}, "X-Test-Body": {body}, "Content-Type": {"application/json"}}
		p, st, err := build(fx.cache, m, target.name, query, target.rpc, h)
		if err == nil {
			caller := database.Caller{Identity: anon, ReadOnly: p.ReadOnly}
			stmts := []database.Statement{{SQL: st.SQL, Args: st.Args}}
			if st.CountSQL != "" {
				stmts = append(stmts, database.Statement{SQL: st.CountSQL, Args: st.CountArgs})
			}
			err = fx.db.Pipeline(context.Background(), caller, database.Decide, func() bool { return false }, stmts...)
		}
		if err == nil {
			return
		}
		e := asError(err, true)
		if e.Status >= 500 {
			t.Fatalf("%s %s?%s (Prefer: %s) %q = %d %s %s", m, target.name, query, prefer, body, e.Status, e.Code, e.Message)
		}
	})
}
