package database_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgstack/pgstack/internal/database"
	"github.com/pgstack/pgstack/internal/identity"
	"github.com/pgstack/pgstack/internal/jwt"
	"github.com/pgstack/pgstack/internal/pgtest"
	"github.com/pgstack/pgstack/migrations"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const (
	alice = pgtest.Alice
	bob   = pgtest.Bob
	// todos is an owner-only table: two rows of alice's, one of bob's.
	todos = pgtest.OwnerOnlyTodos
)

func userIdentity(sub string) identity.Identity {
	return identity.Identity{
		Role:    jwt.RoleAuthenticated,
		Subject: sub,
		Claims:  []byte(`{"sub":"` + sub + `","role":"authenticated","email":"` + sub[:4] + `@example.com"}`),
	}
}

func titles(t *testing.T, db *database.DB, id identity.Identity) []string {
	t.Helper()
	var out []string
	err := db.AsCaller(context.Background(), database.Caller{Identity: id, ReadOnly: true}, func(tx pgx.Tx) error {
		rows, _ := tx.Query(context.Background(), "SELECT title FROM public.todos ORDER BY id")
		var err error
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatalf("AsCaller(%s): %v", id.Role, err)
	}
	return out
}

func TestAsCallerAppliesRLS(t *testing.T) {
	t.Parallel()
	tdb := pgtest.NewDB(t)
	tdb.Exec(t, todos)
	db := tdb.Open(t)

	if got := titles(t, db, identity.Anonymous()); len(got) != 0 {
		t.Errorf("anon sees %v, want no rows", got)
	}
	if got := titles(t, db, userIdentity(alice)); len(got) != 2 || got[0] != "alice 1" || got[1] != "alice 2" {
		t.Errorf("alice sees %v, want her two rows", got)
	}
	if got := titles(t, db, userIdentity(bob)); len(got) != 1 || got[0] != "bob 1" {
		t.Errorf("bob sees %v, want his row", got)
	}
	service := identity.Identity{Role: jwt.RoleServiceRole, Claims: []byte(`{"role":"service_role"}`)}
	if got := titles(t, db, service); len(got) != 3 {
		t.Errorf("service_role sees %v, want all three rows (BYPASSRLS)", got)
	}
}

func TestAsCallerSetsIdentityAndRequest(t *testing.T) {
	t.Parallel()
	tdb := pgtest.NewDB(t)
	db := tdb.Open(t)

	h := http.Header{}
	h.Set("Authorization", "Bearer secret-token")
	h.Set("apikey", "secret-key")
	h.Set("X-Client-Info", "supabase-js/2")
	c := database.Caller{Identity: userIdentity(alice), Method: "PATCH", Path: "/rest/v1/todos", Headers: h}

	var user, uid, role, email, sub, method, path, clientInfo, auth, apikey string
	err := db.AsCaller(context.Background(), c, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), `SELECT current_user, auth.uid()::text, auth.role(), auth.email(),
			auth.jwt()->>'sub', current_setting('request.method'), current_setting('request.path'),
			current_setting('request.headers')::json->>'x-client-info',
			coalesce(current_setting('request.headers')::json->>'authorization', '<none>'),
			coalesce(current_setting('request.headers')::json->>'apikey', '<none>')`).
			Scan(&user, &uid, &role, &email, &sub, &method, &path, &clientInfo, &auth, &apikey)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ name, got, want string }{
		{"current_user", user, "authenticated"},
		{"auth.uid()", uid, alice},
		{"auth.role()", role, "authenticated"},
		{"auth.email()", email, "5d0f@example.com"},
		{"auth.jwt()->>'sub'", sub, alice},
		{"request.method", method, "PATCH"},
		{"request.path", path, "/rest/v1/todos"},
		{"request.headers x-client-info", clientInfo, "supabase-js/2"},
		{"request.headers authorization", auth, "<none>"},
		{"request.headers apikey", apikey, "<none>"},
	}
	for _, w := range want {
		if w.got != w.want {
			t.Errorf("%s = %q, want %q", w.name, w.got, w.want)
		}
	}

	// The settings are local to the transaction: the next one on the same
	// pooled connection starts clean.
	err = db.AsCaller(context.Background(), database.Caller{Identity: identity.Anonymous()}, func(tx pgx.Tx) error {
		var uid *string
		if err := tx.QueryRow(context.Background(), "SELECT auth.uid()::text, current_user").Scan(&uid, &user); err != nil {
			return err
		}
		if uid != nil || user != "anon" {
			t.Errorf("next transaction: auth.uid() = %v, current_user = %s; want NULL, anon", uid, user)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAsCallerRollsBackOnErrorAndHonoursReadOnly(t *testing.T) {
	t.Parallel()
	tdb := pgtest.NewDB(t)
	tdb.Exec(t, todos)
	db := tdb.Open(t)
	ctx := context.Background()
	sentinel := errors.New("handler failed")

	err := db.AsCaller(ctx, database.Caller{Identity: userIdentity(alice)}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO public.todos (user_id, title) VALUES ($1, 'new')", alice); err != nil {
			return err
		}
		return sentinel
	})
	if !errors.Is(err, sentinel) {
		t.Fatalf("err = %v, want the handler's error", err)
	}
	if got := titles(t, db, userIdentity(alice)); len(got) != 2 {
		t.Errorf("after rollback alice sees %v, want her two original rows", got)
	}

	err = db.AsCaller(ctx, database.Caller{Identity: userIdentity(alice), ReadOnly: true}, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO public.todos (user_id, title) VALUES ($1, 'new')", alice)
		return err
	})
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "25006" {
		t.Errorf("write in read-only caller transaction: err = %v, want SQLSTATE 25006", err)
	}
}

func TestAsCallerCannotEscalate(t *testing.T) {
	t.Parallel()
	tdb := pgtest.NewDB(t)
	db := tdb.Open(t)
	ctx := context.Background()

	cases := []struct {
		name, sql, code string
	}{
		{"switch to the superuser", "SET ROLE postgres", "42501"},
		{"read auth.users", "SELECT count(*) FROM auth.users", "42501"},
		{"read the function catalog", "SELECT count(*) FROM pgstack.edge_functions", "42501"},
		{"read auth.users after RESET ROLE", "RESET ROLE; SELECT count(*) FROM auth.users", "42501"},
	}
	for _, c := range cases {
		for _, role := range []identity.Identity{identity.Anonymous(), userIdentity(alice)} {
			err := db.AsCaller(ctx, database.Caller{Identity: role}, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, c.sql)
				return err
			})
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != c.code {
				t.Errorf("%s as %s: err = %v, want SQLSTATE %s", c.name, role.Role, err, c.code)
			}
		}
	}

	err := db.AsCaller(ctx, database.Caller{Identity: identity.Identity{Role: "postgres"}}, func(pgx.Tx) error { return nil })
	if err == nil {
		t.Error("AsCaller with role postgres succeeded, want an error")
	}
}

func TestAsCallerAppliesStatementTimeout(t *testing.T) {
	t.Parallel()
	tdb := pgtest.NewDB(t)
	db, err := database.Open(context.Background(), database.Options{
		DatabaseURL: tdb.URL, AuthenticatorPassword: pgtest.AuthenticatorPassword,
		PoolSize: 2, StatementTimeout: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.AsCaller(context.Background(), database.Caller{Identity: identity.Anonymous()}, func(tx pgx.Tx) error {
		_, err := tx.Exec(context.Background(), "SELECT pg_sleep(5)")
		return err
	})
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "57014" {
		t.Errorf("err = %v, want SQLSTATE 57014 (statement_timeout)", err)
	}
}

// The anon key sent as supabase-js sends it becomes role anon in the database.
func TestAPIKeyReachesTheDatabase(t *testing.T) {
	t.Parallel()
	tdb := pgtest.NewDB(t)
	db := tdb.Open(t)
	keys := jwt.New(pgtest.JWTSecret, nil)
	anonKey, _ := keys.APIKey(jwt.RoleAnon)
	serviceKey, _ := keys.APIKey(jwt.RoleServiceRole)
	userToken, _ := keys.Sign(map[string]any{"sub": alice, "role": "authenticated", "exp": time.Now().Add(time.Hour).Unix()})

	h := identity.Middleware(keys, func(w http.ResponseWriter, _ *http.Request, err error) {
		http.Error(w, err.Error(), http.StatusUnauthorized)
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := db.AsCaller(r.Context(), database.CallerFromRequest(r), func(tx pgx.Tx) error {
			var user string
			var uid *string
			if err := tx.QueryRow(r.Context(), "SELECT current_user, auth.uid()::text").Scan(&user, &uid); err != nil {
				return err
			}
			if uid != nil {
				user += " " + *uid
			}
			_, err := io.WriteString(w, user)
			return err
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))

	cases := []struct {
		name    string
		headers map[string]string
		want    string
	}{
		{"no credentials", nil, "anon"},
		{"anon key as apikey", map[string]string{"apikey": anonKey}, "anon"},
		{"anon key in both headers", map[string]string{"apikey": anonKey, "Authorization": "Bearer " + anonKey}, "anon"},
		{"user token with the anon apikey", map[string]string{"apikey": anonKey, "Authorization": "Bearer " + userToken}, "authenticated " + alice},
		{"service key", map[string]string{"apikey": serviceKey, "Authorization": "Bearer " + serviceKey}, "service_role"},
	}
	for _, c := range cases {
		req := httptest.NewRequest(http.MethodGet, "/rest/v1/todos", nil)
		for k, v := range c.headers {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.String() != c.want {
			t.Errorf("%s: %d %q, want 200 %q", c.name, rec.Code, rec.Body.String(), c.want)
		}
	}
}

func TestMigrateIsIdempotentUnderConcurrency(t *testing.T) {
	t.Parallel()
	tdb := pgtest.NewEmptyDB(t)
	log := slog.New(slog.DiscardHandler)
	ctx := context.Background()

	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = database.Migrate(ctx, tdb.URL, log)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent migrate %d: %v", i, err)
		}
	}
	if err := database.Migrate(ctx, tdb.URL, log); err != nil {
		t.Fatalf("migrate again: %v", err)
	}

	conn, err := pgx.Connect(ctx, tdb.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var applied, tables int
	err = conn.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM pgstack.schema_migrations WHERE version_id > 0 AND is_applied),
		(SELECT count(*) FROM information_schema.tables WHERE table_schema = 'auth' AND table_name IN
			('users','identities','sessions','refresh_tokens','audit_log_entries','flow_state','one_time_tokens'))`).
		Scan(&applied, &tables)
	if err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if applied != len(files) || tables != 7 {
		t.Errorf("applied migrations = %d, auth tables = %d; want %d and 7 (each migration once)", applied, tables, len(files))
	}
}

// Replicas sharing a secret open their pools at the same time: each sets the
// derived authenticator password, and none may fail because of the others.
// Not parallel: the role is cluster-wide, and the other tests log in with the
// harness's password over TCP, which this test restores at the end.
func TestOpenConcurrentlyDerivesOnePassword(t *testing.T) {
	tdb := pgtest.NewDB(t)
	ctx := context.Background()
	const secret = "replica-secret-replica-secret-replica-secret"
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := database.Open(ctx, database.Options{DatabaseURL: tdb.URL, Secret: secret, PoolSize: 1})
			if err == nil {
				err = db.Ping(ctx)
				db.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}

	// The stored SCRAM verifier accepts the derived password and nothing else.
	derived := database.DeriveAuthenticatorPassword(secret)
	for _, c := range []struct {
		password string
		ok       bool
	}{{derived, true}, {derived + "x", false}} {
		conn, err := pgx.Connect(ctx, tdb.TCPURL(database.AuthenticatorRole, c.password))
		if (err == nil) != c.ok {
			t.Errorf("TCP login as authenticator with password ok=%v: err = %v", c.ok, err)
		}
		if err == nil {
			conn.Close(ctx)
		}
	}

	owner := tdb.Open(t).Owner
	if err := database.SetAuthenticatorPassword(ctx, owner, pgtest.AuthenticatorPassword); err != nil {
		t.Fatal(err)
	}
}
