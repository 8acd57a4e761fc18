package postgrest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgstack/pgstack/internal/apitest"
	"github.com/pgstack/pgstack/internal/config"
	"github.com/pgstack/pgstack/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const (
	alice = "5d0f1e9a-7a4b-4c53-9c1e-0d7b3f0c1a11"
	bob   = "8b2c4d6e-1f3a-4b5c-8d7e-9f0a1b2c3d44"
)

// newEnv assembles the server over a database holding the fixture schema
// (testdata/schema.sql), created before the server loads its schema cache.
func newEnv(t testing.TB, configure ...func(*config.Config)) *apitest.Env {
	t.Helper()
	sql, err := os.ReadFile("testdata/schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	return apitest.New(t, append([]func(*config.Config){func(c *config.Config) {
		exec(t, c.DatabaseURL, string(sql))
	}}, configure...)...)
}

// exec runs SQL as the superuser on url.
func exec(t testing.TB, url, sql string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("fixture: %v", err)
	}
}

// do sends one request through the router.
func do(t testing.TB, e *apitest.Env, method, url, body string, headers map[string]string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader = http.NoBody
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, url, rd)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, req)
	return rec.Result(), rec.Body.String()
}
