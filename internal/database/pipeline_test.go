package database_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgstack/pgstack/internal/database"
	"github.com/pgstack/pgstack/internal/identity"
	"github.com/pgstack/pgstack/internal/pgtest"
)

func TestPipeline(t *testing.T) {
	t.Parallel()
	tdb := pgtest.NewDB(t)
	tdb.Exec(t, todos)
	db := tdb.Open(t)
	ctx := context.Background()
	asAlice := database.Caller{Identity: userIdentity(alice), Method: "GET", Path: "/rest/v1/todos",
		Settings: []database.Setting{{Name: "search_path", Value: "public"}}}

	count := func(c database.Caller) (n int) {
		t.Helper()
		c.ReadOnly = true
		err := db.Pipeline(ctx, c, database.Commit, nil, database.Statement{
			SQL: "SELECT count(*) FROM todos", Scan: func(r pgx.Rows) error { r.Next(); return r.Scan(&n) }})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(asAlice); n != 2 {
		t.Errorf("alice counts %d todos through RLS, want 2", n)
	}
	if n := count(database.Caller{Identity: identity.Anonymous()}); n != 0 {
		t.Errorf("anon counts %d todos, want 0", n)
	}

	// The caller's role, claims and settings are in effect.
	var role, sub, path string
	err := db.Pipeline(ctx, asAlice, database.Commit, nil, database.Statement{
		SQL:  "SELECT current_user, current_setting('request.jwt.claims')::json->>'sub', current_setting('search_path')",
		Scan: func(r pgx.Rows) error { r.Next(); return r.Scan(&role, &sub, &path) }})
	if err != nil || role != "authenticated" || sub != alice || path != "public" {
		t.Errorf("role %q, sub %q, search_path %q, err %v", role, sub, path, err)
	}

	// A failing statement rolls back the statements before it: one
	// transaction, committed only at the end.
	err = db.Pipeline(ctx, asAlice, database.Commit, nil,
		database.Statement{SQL: "INSERT INTO todos (user_id, title) VALUES ($1, 'lost')", Args: []any{alice}},
		database.Statement{SQL: "SELECT 1/0"})
	if err == nil {
		t.Fatal("division by zero did not fail")
	}
	if n := count(asAlice); n != 2 {
		t.Errorf("after a failed pipeline alice has %d todos, want 2 (rolled back)", n)
	}

	// Read-only callers cannot write, even without an explicit BEGIN.
	ro := asAlice
	ro.ReadOnly = true
	err = db.Pipeline(ctx, ro, database.Commit, nil,
		database.Statement{SQL: "INSERT INTO todos (user_id, title) VALUES ($1, 'x')", Args: []any{alice}})
	if pgErr, ok := database.PgError(err); !ok || pgErr.Code != "25006" {
		t.Errorf("write in a read-only pipeline: %v, want 25006", err)
	}

	// Decide can roll back after seeing the results.
	var seen int
	err = db.Pipeline(ctx, asAlice, database.Decide, func() bool { return seen == 0 },
		database.Statement{SQL: "INSERT INTO todos (user_id, title) VALUES ($1, 'undone') RETURNING 1", Args: []any{alice},
			Scan: func(r pgx.Rows) error { r.Next(); return r.Scan(&seen) }})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(asAlice); n != 2 {
		t.Errorf("after a declined commit alice has %d todos, want 2", n)
	}

	// Roles outside the allowlist never reach the database.
	bad := database.Caller{Identity: identity.Identity{Role: "postgres"}}
	if err := db.Pipeline(ctx, bad, database.Commit, nil); err == nil {
		t.Error("pipeline as postgres was allowed")
	}
}

func TestGrantSchemaUsage(t *testing.T) {
	t.Parallel()
	tdb := pgtest.NewDB(t)
	tdb.Exec(t, `CREATE SCHEMA api`)
	db := tdb.Open(t)
	ctx := context.Background()
	// A schema that does not exist is skipped, not an error.
	if err := db.GrantSchemaUsage(ctx, []string{"public", "api", "storage"}); err != nil {
		t.Fatal(err)
	}
	var ok bool
	if err := db.Owner.QueryRow(ctx, "SELECT has_schema_privilege('authenticator', 'api', 'USAGE')").Scan(&ok); err != nil || !ok {
		t.Errorf("authenticator has no usage on api (%v)", err)
	}
	// Idempotent.
	if err := db.GrantSchemaUsage(ctx, []string{"api"}); err != nil {
		t.Fatal(err)
	}
}
