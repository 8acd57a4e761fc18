package postgrest_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgstack/pgstack/internal/apitest"
	"github.com/pgstack/pgstack/internal/config"
	"github.com/pgstack/pgstack/internal/jwt"
	"github.com/pgstack/pgstack/postgrest"
)

// TestOwnerOnly: with an owner-only policy, neither user can read, change or
// delete the other's rows through a read, an embed, a write or an RPC.
func TestOwnerOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	as := func(sub string, kv ...string) map[string]string {
		m := map[string]string{"apikey": e.AnonKey, "Authorization": "Bearer " + e.UserToken(t, sub, time.Hour), "Content-Type": "application/json"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	anon := map[string]string{"apikey": e.AnonKey, "Content-Type": "application/json"}
	rep := "return=representation"
	e.Run(t,
		apitest.Scenario{Name: "alice reads her rows only", Method: "GET", URL: "/rest/v1/todos?select=title&order=id",
			Headers: as(alice), WantStatus: 200, Check: jsonEq(`[{"title":"alice 1"},{"title":"alice 2"}]`)},
		apitest.Scenario{Name: "bob reads his row only", Method: "GET", URL: "/rest/v1/todos?select=title",
			Headers: as(bob), WantStatus: 200, Check: jsonEq(`[{"title":"bob 1"}]`)},
		apitest.Scenario{Name: "filtering on bob's id finds nothing for alice", Method: "GET", URL: "/rest/v1/todos?id=eq.3",
			Headers: as(alice, "Prefer", "count=exact"), WantStatus: 200, WantHeaders: map[string]string{"Content-Range": "*/0"},
			Check: jsonEq(`[]`)},
		apitest.Scenario{Name: "embedding from notes does not leak todos", Method: "GET",
			URL: "/rest/v1/todo_notes?select=body,todos(title)", Headers: as(alice), WantStatus: 200,
			Check: jsonEq(`[{"body":"alice note","todos":{"title":"alice 1"}}]`)},
		apitest.Scenario{Name: "embedding notes from todos does not leak", Method: "GET",
			URL: "/rest/v1/todos?select=id,todo_notes(body)&order=id", Headers: as(bob), WantStatus: 200,
			Check: jsonEq(`[{"id":3,"todo_notes":[{"body":"bob note"}]}]`)},
		apitest.Scenario{Name: "alice cannot update bob's row", Method: "PATCH", URL: "/rest/v1/todos?id=eq.3",
			Headers: as(alice, "Prefer", rep), Body: `{"title":"pwned"}`, WantStatus: 200, Check: jsonEq(`[]`)},
		apitest.Scenario{Name: "alice cannot delete bob's row", Method: "DELETE", URL: "/rest/v1/todos?id=eq.3",
			Headers: as(alice, "Prefer", rep), WantStatus: 200, Check: jsonEq(`[]`)},
		apitest.Scenario{Name: "alice cannot insert as bob", Method: "POST", URL: "/rest/v1/todos",
			Headers: as(alice), Body: `{"title":"fake","user_id":"` + bob + `"}`, WantStatus: 403,
			WantBody: []string{`"code":"42501"`, `row-level security`}},
		apitest.Scenario{Name: "alice cannot upsert over bob's row", Method: "POST", URL: "/rest/v1/todos",
			Headers: as(alice, "Prefer", "resolution=merge-duplicates"), Body: `{"id":3,"title":"mine now"}`, WantStatus: 403},
		apitest.Scenario{Name: "alice cannot put over bob's row", Method: "PUT", URL: "/rest/v1/todos?id=eq.3",
			Headers: as(alice), Body: `{"id":3,"title":"mine now","user_id":"` + alice + `"}`, WantStatus: 403},
		apitest.Scenario{Name: "rpc runs under the caller", Method: "GET", URL: "/rest/v1/rpc/my_todos?select=title",
			Headers: as(bob), WantStatus: 200, Check: jsonEq(`[{"title":"bob 1"}]`)},
		apitest.Scenario{Name: "rpc sees the claims", Method: "GET", URL: "/rest/v1/rpc/whoami",
			Headers: as(bob), WantStatus: 200, Check: jsonEq(`{"uid":"` + bob + `","role":"authenticated"}`)},
		apitest.Scenario{Name: "bob's row is intact", Method: "GET", URL: "/rest/v1/todos?select=title",
			Headers: as(bob), WantStatus: 200, Check: jsonEq(`[{"title":"bob 1"}]`)},
		apitest.Scenario{Name: "alice inserts her own", Method: "POST", URL: "/rest/v1/todos?select=title,user_id",
			Headers: as(alice, "Prefer", rep), Body: `{"title":"alice 3"}`, WantStatus: 201,
			Check: jsonEq(`[{"title":"alice 3","user_id":"` + alice + `"}]`)},
		apitest.Scenario{Name: "anon sees nothing", Method: "GET", URL: "/rest/v1/todos", Headers: anon,
			WantStatus: 200, Check: jsonEq(`[]`)},
		apitest.Scenario{Name: "anon insert is 401", Method: "POST", URL: "/rest/v1/todos", Headers: anon,
			Body: `{"title":"x","user_id":"` + bob + `"}`, WantStatus: 401,
			WantHeaders: map[string]string{"WWW-Authenticate": "Bearer"}, WantBody: []string{`"code":"42501"`}},
	)
}

func TestTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	expired, _ := e.Keys.Sign(map[string]any{"role": "authenticated", "sub": alice, "exp": time.Now().Add(-time.Hour).Unix()})
	forged, _ := jwt.New("another-secret-another-secret-another-secret", nil).APIKey(jwt.RoleServiceRole)
	enc := base64.RawURLEncoding.EncodeToString
	none := enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc([]byte(`{"role":"service_role"}`)) + "."
	e.Run(t,
		apitest.Scenario{Name: "expired", Method: "GET", URL: "/rest/v1/films",
			Headers: map[string]string{"Authorization": "Bearer " + expired}, WantStatus: 401,
			WantHeaders: map[string]string{"WWW-Authenticate": `Bearer error="invalid_token", error_description="JWT expired"`},
			WantBody:    []string{`"code":"PGRST303"`, `"message":"JWT expired"`}},
		apitest.Scenario{Name: "wrong signature", Method: "GET", URL: "/rest/v1/films",
			Headers: map[string]string{"apikey": forged}, WantStatus: 401, WantBody: []string{`"code":"PGRST301"`}},
		apitest.Scenario{Name: "alg none", Method: "GET", URL: "/rest/v1/films",
			Headers: map[string]string{"Authorization": "Bearer " + none}, WantStatus: 401, WantBody: []string{`"code":"PGRST301"`}},
		apitest.Scenario{Name: "no token is anon", Method: "GET", URL: "/rest/v1/films?select=id&id=eq.1",
			WantStatus: 200, Check: jsonEq(`[{"id":1}]`)},
	)
}

// TestLimits: the caps on one request answer 4xx in PostgREST's format.
func TestLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *config.Config) { c.MaxBodySize = 1024 })
	svc := map[string]string{"apikey": e.ServiceKey, "Content-Type": "application/json"}
	manyFilters := strings.Repeat("id=gt.0&", 101)
	manyItems := "select=" + strings.Repeat("id,", 300) + "id"
	e.Run(t,
		apitest.Scenario{Name: "too many filters", Method: "GET", URL: "/rest/v1/films?" + manyFilters, Headers: svc,
			WantStatus: 400, WantBody: []string{`"code":"PGRST100"`, `too many filters`}},
		apitest.Scenario{Name: "too many select items", Method: "GET", URL: "/rest/v1/films?" + manyItems, Headers: svc,
			WantStatus: 400, WantBody: []string{`too many select items`}},
		apitest.Scenario{Name: "body too large", Method: "POST", URL: "/rest/v1/actors", Headers: svc,
			Body: `{"first_name":"` + strings.Repeat("x", 2000) + `","last_name":"y"}`, WantStatus: 413},
	)
}

func TestOpenAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.Run(t,
		apitest.Scenario{Name: "root describes the schema", Method: "GET", URL: "/rest/v1/",
			Headers: map[string]string{"apikey": e.AnonKey}, WantStatus: 200,
			WantHeaders: map[string]string{"Content-Type": "application/openapi+json; charset=utf-8"},
			WantBody:    []string{`"swagger":"2.0"`, `"/films"`, `"/rpc/add_them"`, `<fk table='directors' column='id'/>`},
			Check: func(t *testing.T, res *http.Response, body []byte) {
				if len(body) < 1000 {
					t.Errorf("description is too short: %s", body)
				}
			}},
	)
}

// TestOwnerOnlyUnderConcurrency: concurrent requests of two users share
// pipelines to PostgreSQL, and each still sees only its own rows, through
// reads, embeds and RPC.
func TestOwnerOnlyUnderConcurrency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tokens := map[string]string{alice: e.UserToken(t, alice, time.Hour), bob: e.UserToken(t, bob, time.Hour)}
	want := map[string][]string{
		alice: {`[{"title":"alice 1"},{"title":"alice 2"}]`, `[{"body":"alice note","todos":{"title":"alice 1"}}]`, `{"uid":"` + alice + `","role":"authenticated"}`},
		bob:   {`[{"title":"bob 1"}]`, `[{"body":"bob note","todos":{"title":"bob 1"}}]`, `{"uid":"` + bob + `","role":"authenticated"}`},
	}
	urls := []string{"/rest/v1/todos?select=title&order=id", "/rest/v1/todo_notes?select=body,todos(title)",
		"/rest/v1/rpc/whoami"}
	var wg sync.WaitGroup
	errs := make(chan string, 300)
	for i := range 300 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := alice
			if i%2 == 1 {
				user = bob
			}
			k := i % len(urls)
			res, body := do(t, e, "GET", urls[k], "", map[string]string{"apikey": e.AnonKey, "Authorization": "Bearer " + tokens[user]})
			if res.StatusCode != 200 || !jsonSame(body, want[user][k]) {
				errs <- fmt.Sprintf("%s as %s: %d %s, want %s", urls[k], user, res.StatusCode, body, want[user][k])
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	if st := e.Pools.PipelineStats(); st.Batches >= st.Transactions {
		t.Errorf("%+v: the requests never shared a pipeline", st)
	}

	// RPC runs user code of any duration: it is never coalesced.
	before := e.Pools.PipelineStats()
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res, body := do(t, e, "GET", "/rest/v1/rpc/whoami", "", map[string]string{"apikey": e.AnonKey, "Authorization": "Bearer " + tokens[bob]}); res.StatusCode != 200 {
				t.Errorf("rpc: %d %s", res.StatusCode, body)
			}
		}()
	}
	wg.Wait()
	if after := e.Pools.PipelineStats(); after != before {
		t.Errorf("RPC calls went through the pipeline: %+v, then %+v", before, after)
	}
}

// TestSchemaReload: DDL reloads the cache through the event trigger, and
// NOTIFY pgrst does too.
func TestSchemaReload(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	svc := map[string]string{"apikey": e.ServiceKey}
	if res, _ := do(t, e, "GET", "/rest/v1/late", "", svc); res.StatusCode != http.StatusNotFound {
		t.Fatalf("late exists before it was created: %d", res.StatusCode)
	}
	e.DB.Exec(t, `CREATE TABLE public.late (id int PRIMARY KEY); INSERT INTO public.late VALUES (7)`)
	apitest.WaitFor(t, "the schema cache to reload", func() bool {
		res, body := do(t, e, "GET", "/rest/v1/late", "", svc)
		return res.StatusCode == 200 && body == `[{"id":7}]`
	})
	// A column's type changes under the statements prepared for it: the
	// same request works again once the cache reloaded.
	for range 3 { // on every connection of the test's small pool
		if res, body := do(t, e, "GET", "/rest/v1/late?id=eq.7", "", svc); res.StatusCode != 200 || body != `[{"id":7}]` {
			t.Fatalf("late?id=eq.7: %d %s", res.StatusCode, body)
		}
	}
	e.DB.Exec(t, `ALTER TABLE public.late ALTER COLUMN id TYPE text`)
	apitest.WaitFor(t, "the schema cache to reload", func() bool {
		res, body := do(t, e, "GET", "/rest/v1/late?id=eq.7", "", svc)
		return res.StatusCode == 200 && body == `[{"id":"7"}]`
	})
	for range 10 {
		if res, body := do(t, e, "GET", "/rest/v1/late?id=eq.7", "", svc); res.StatusCode != 200 || body != `[{"id":"7"}]` {
			t.Fatalf("late?id=eq.7 after the type change: %d %s", res.StatusCode, body)
		}
	}

	// Reloads never block requests: reads keep answering while a burst of
	// notifications reloads the cache.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 30 {
			e.DB.Exec(t, `NOTIFY pgrst, 'reload schema'`)
		}
	}()
	for i := range 100 {
		if res, body := do(t, e, "GET", "/rest/v1/films?select=id&id=eq.1", "", svc); res.StatusCode != 200 || body != `[{"id":1}]` {
			t.Fatalf("read %d during reloads: %d %s", i, res.StatusCode, body)
		}
	}
	wg.Wait()

	// A lost listener connection comes back and catches up.
	conn, err := pgx.Connect(context.Background(), e.DB.URL)
	if err != nil {
		t.Fatal(err)
	}
	var killed int
	err = conn.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, postgrest.ListenerApplicationName).Scan(&killed)
	conn.Close(context.Background())
	if err != nil || killed != 1 {
		t.Fatalf("terminated %d listener connections (%v), want 1", killed, err)
	}
	e.DB.Exec(t, `CREATE TABLE public.later (id int PRIMARY KEY)`)
	apitest.WaitFor(t, "the schema cache to reload", func() bool {
		res, _ := do(t, e, "GET", "/rest/v1/later", "", svc)
		return res.StatusCode == 200
	})

	// Drops reload too.
	e.DB.Exec(t, `DROP TABLE public.later`)
	apitest.WaitFor(t, "the schema cache to reload", func() bool {
		res, _ := do(t, e, "GET", "/rest/v1/later", "", svc)
		return res.StatusCode == http.StatusNotFound
	})

	// Without the event trigger, NOTIFY alone reloads.
	e.DB.Exec(t, `ALTER EVENT TRIGGER pgstack_rest_ddl_watch DISABLE; ALTER EVENT TRIGGER pgstack_rest_drop_watch DISABLE;
		ALTER TABLE public.late ADD COLUMN label text`)
	e.DB.Exec(t, `NOTIFY pgrst, 'reload schema'`)
	apitest.WaitFor(t, "the schema cache to reload", func() bool {
		res, _ := do(t, e, "GET", "/rest/v1/late?select=label", "", svc)
		return res.StatusCode == 200
	})
}

// TestProfiles: a second exposed schema is selected with Accept-Profile and
// Content-Profile and echoed in Content-Profile.
func TestProfiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *config.Config) {
		c.RESTSchemas = []string{"public", "api"}
		exec(t, c.DatabaseURL, `CREATE SCHEMA api;
			GRANT USAGE ON SCHEMA api TO anon, authenticated, service_role;
			CREATE TABLE api.notes (id int PRIMARY KEY, body text NOT NULL);
			INSERT INTO api.notes VALUES (1, 'from api');
			GRANT ALL ON api.notes TO anon, authenticated, service_role;
			CREATE FUNCTION api.shout(t text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT upper(t)';
			GRANT EXECUTE ON FUNCTION api.shout(text) TO anon;`)
	})
	h := func(kv ...string) map[string]string {
		m := map[string]string{"apikey": e.AnonKey}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	e.Run(t,
		apitest.Scenario{Name: "read from the second schema", Method: "GET", URL: "/rest/v1/notes",
			Headers: h("Accept-Profile", "api"), WantStatus: 200,
			WantHeaders: map[string]string{"Content-Profile": "api"}, Check: jsonEq(`[{"id":1,"body":"from api"}]`)},
		apitest.Scenario{Name: "default schema is the first", Method: "GET", URL: "/rest/v1/films?select=id&id=eq.1",
			Headers: h(), WantStatus: 200, WantHeaders: map[string]string{"Content-Profile": "public"}},
		apitest.Scenario{Name: "not in the default schema", Method: "GET", URL: "/rest/v1/notes",
			Headers: h(), WantStatus: 404, WantBody: []string{`"code":"PGRST205"`}},
		apitest.Scenario{Name: "write with Content-Profile", Method: "POST", URL: "/rest/v1/notes",
			Headers: h("Content-Profile", "api", "Content-Type", "application/json", "Prefer", "return=representation"),
			Body:    `{"id":2,"body":"two"}`, WantStatus: 201, Check: jsonEq(`[{"id":2,"body":"two"}]`)},
		apitest.Scenario{Name: "rpc in the second schema", Method: "POST", URL: "/rest/v1/rpc/shout",
			Headers: h("Content-Profile", "api", "Content-Type", "application/json"), Body: `{"t":"hi"}`,
			WantStatus: 200, Check: jsonEq(`"HI"`)},
		apitest.Scenario{Name: "unknown profile", Method: "GET", URL: "/rest/v1/notes",
			Headers: h("Accept-Profile", "nope"), WantStatus: 406,
			WantBody: []string{`The schema must be one of the following: public, api`}},
	)
}

// TestSchemaCreatedLater: an exposed schema that does not exist at start
// works once it is created.
func TestSchemaCreatedLater(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *config.Config) { c.RESTSchemas = []string{"public", "extra"} })
	h := map[string]string{"apikey": e.AnonKey, "Accept-Profile": "extra"}
	e.DB.Exec(t, `CREATE SCHEMA extra; GRANT USAGE ON SCHEMA extra TO anon;
		CREATE TABLE extra.things (id int PRIMARY KEY); INSERT INTO extra.things VALUES (1);
		GRANT SELECT ON extra.things TO anon;`)
	apitest.WaitFor(t, "the schema cache to reload", func() bool {
		res, body := do(t, e, "GET", "/rest/v1/things", "", h)
		return res.StatusCode == 200 && body == `[{"id":1}]`
	})
}
