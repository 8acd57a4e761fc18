package runtimes_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pgstack/pgstack/internal/apitest"
	"github.com/pgstack/pgstack/internal/server"
)

// TestReplicasFollowTheCatalog: a second server on the same database (a
// replica) serves a function deployed through the first, and picks up its
// redeploy and deletion, through the catalog's change notification alone.
func TestReplicasFollowTheCatalog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	replica, err := server.New(server.Deps{Config: e.Config, DB: e.Pools, Keys: e.Keys, Version: "test",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	onReplica := func() (int, string) {
		req := httptest.NewRequest(http.MethodPost, "/functions/v1/shared", strings.NewReader(`{}`))
		req.Header.Set("apikey", e.AnonKey)
		rec := httptest.NewRecorder()
		replica.Handler().ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	deploy(t, e, map[string]any{"name": "shared", "runtime": "embedded", "source": `function handler() { return 1 }`})
	apitest.WaitFor(t, "the replica to serve version 1", func() bool { s, b := onReplica(); return s == 200 && b == "1" })
	deploy(t, e, map[string]any{"name": "shared", "runtime": "embedded", "source": `function handler() { return 2 }`})
	apitest.WaitFor(t, "the replica to serve version 2", func() bool { s, b := onReplica(); return s == 200 && b == "2" })
	if status, _ := call(t, e, http.MethodDelete, "/api/functions/shared", e.ServiceKey, nil); status != http.StatusNoContent {
		t.Fatalf("delete: %d", status)
	}
	apitest.WaitFor(t, "the replica to forget the function", func() bool { s, _ := onReplica(); return s == 404 })
}
