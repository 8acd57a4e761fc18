// Package pgtest gives tests a real PostgreSQL: one cluster per test process,
// started with the same code as `pgstack start`, and a fresh database per
// test cloned from a template that the platform migrations were applied to.
//
// A test package using it calls Main from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
package pgtest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgstack/pgstack/internal/database"
	"github.com/pgstack/pgstack/internal/pgcluster"
)

const templateDB = "pgstack_template"

// JWTSecret is the secret test servers use.
const JWTSecret = "pgstack-test-secret-0123456789abcdef0123456789"

var (
	inMain  atomic.Bool
	once    sync.Once
	shared  *harness
	initErr error
	seq     atomic.Int64
)

type harness struct {
	dir     string
	cluster *pgcluster.Cluster
	admin   *pgxpool.Pool
}

// Main runs the tests and stops the cluster afterwards.
func Main(m *testing.M) int {
	inMain.Store(true)
	code := m.Run()
	if shared != nil {
		shared.admin.Close()
		if err := shared.cluster.Stop(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: stop cluster:", err)
		}
		os.RemoveAll(shared.dir)
	}
	return code
}

func start() (*harness, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "pgstack-test-")
	if err != nil {
		return nil, err
	}
	c, err := pgcluster.New(pgcluster.Options{
		Dir:     dir,
		NoSync:  true,
		Preload: []string{"pg_reactive"},
		Settings: map[string]string{
			"fsync":              "off",
			"synchronous_commit": "off",
			"full_page_writes":   "off",
			"max_connections":    "300",
		},
	})
	if err != nil {
		return nil, err
	}
	if err := c.Init(ctx, "postgres"); err != nil {
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	h := &harness{dir: dir, cluster: c}
	if h.admin, err = pgxpool.New(ctx, c.URL("postgres")); err != nil {
		return nil, err
	}
	if _, err := h.admin.Exec(ctx, "CREATE DATABASE "+templateDB); err != nil {
		return nil, err
	}
	if err := database.Migrate(ctx, c.URL(templateDB), slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		return nil, fmt.Errorf("migrate template: %w", err)
	}
	if err := database.SetAuthenticatorPassword(ctx, h.admin, AuthenticatorPassword); err != nil {
		return nil, err
	}
	return h, nil
}

// AuthenticatorPassword is the authenticator role's password in test clusters.
const AuthenticatorPassword = "pgstack-test-authenticator"

func get(t testing.TB) *harness {
	t.Helper()
	if !inMain.Load() {
		t.Fatal("pgtest: call pgtest.Main from this package's TestMain")
	}
	once.Do(func() { shared, initErr = start() })
	if initErr != nil {
		t.Fatalf("pgtest: start PostgreSQL: %v", initErr)
	}
	return shared
}

// DB is one test's database.
type DB struct {
	Name string
	// URL connects as the superuser over the unix socket, where logins are trusted.
	URL     string
	cluster *pgcluster.Cluster
}

// TCPURL connects as user with password over TCP, where the password is checked.
func (db DB) TCPURL(user, password string) string {
	return db.cluster.TCPURL(user, password, db.Name)
}

// ServerCPU is the CPU time the test cluster has used so far, all databases
// and processes included (see pgcluster.Cluster.CPUTime).
func (db DB) ServerCPU() time.Duration {
	return db.cluster.CPUTime()
}

// NewDB creates a migrated database for this test and drops it afterwards.
func NewDB(t testing.TB) DB {
	t.Helper()
	return newDB(t, templateDB)
}

// NewEmptyDB creates a database without the platform schema (for testing
// the migrations themselves) and drops it afterwards.
func NewEmptyDB(t testing.TB) DB {
	t.Helper()
	return newDB(t, "template0")
}

func newDB(t testing.TB, template string) DB {
	t.Helper()
	h := get(t)
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), seq.Add(1))
	ctx := context.Background()
	if _, err := h.admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s STRATEGY FILE_COPY",
		pgx.Identifier{name}.Sanitize(), pgx.Identifier{template}.Sanitize())); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := h.admin.Exec(ctx, fmt.Sprintf("DROP DATABASE %s WITH (FORCE)", pgx.Identifier{name}.Sanitize())); err != nil {
			t.Errorf("pgtest: drop database: %v", err)
		}
	})
	return DB{Name: name, URL: h.cluster.URL(name), cluster: h.cluster}
}

// Exec runs SQL as the superuser in db (fixtures: tables, policies, rows).
func (db DB) Exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), db.URL)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("pgtest: exec %q: %v", sql, err)
	}
}

// Open connects pgStack's pools to db, as the server would.
func (db DB) Open(t testing.TB) *database.DB {
	t.Helper()
	d, err := database.Open(context.Background(), database.Options{
		DatabaseURL:           db.URL,
		AuthenticatorPassword: AuthenticatorPassword,
		PoolSize:              4,
		StatementTimeout:      0,
	})
	if err != nil {
		t.Fatalf("pgtest: open database: %v", err)
	}
	t.Cleanup(d.Close)
	return d
}

// Two users for RLS fixtures.
const (
	Alice = "5d0f1e9a-7a4b-4c53-9c1e-0d7b3f0c1a11"
	Bob   = "8b2c4d6e-1f3a-4b5c-8d7e-9f0a1b2c3d44"
)

// OwnerOnlyTodos is an owner-only table as a Supabase app would have it:
// two rows of Alice's and one of Bob's.
const OwnerOnlyTodos = `
CREATE TABLE public.todos (id serial PRIMARY KEY, user_id uuid NOT NULL, title text NOT NULL);
ALTER TABLE public.todos ENABLE ROW LEVEL SECURITY;
CREATE POLICY owner_only ON public.todos FOR ALL TO authenticated
  USING ((SELECT auth.uid()) = user_id) WITH CHECK ((SELECT auth.uid()) = user_id);
INSERT INTO public.todos (user_id, title) VALUES
  ('` + Alice + `', 'alice 1'), ('` + Alice + `', 'alice 2'), ('` + Bob + `', 'bob 1');`
