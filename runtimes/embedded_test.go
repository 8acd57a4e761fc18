package runtimes_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pgstack/pgstack/internal/identity"
	"github.com/pgstack/pgstack/runtimes"
)

// An identity whose role the database does not know runs as anon: the
// function cannot end up with any other role.
func TestEmbeddedUnknownRoleRunsAsAnon(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rt := &runtimes.EmbeddedRuntime{DB: e.Pools, Timeout: 2 * time.Second}
	h, err := rt.Prepare(t.Context(), runtimes.Function{Name: "who", Runtime: runtimes.Embedded,
		Source: `function handler() { return db.query("select current_user as role")[0].role }`})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/functions/v1/who", strings.NewReader(""))
	rec := httptest.NewRecorder()
	err = h.Serve(rec, req, runtimes.Call{Path: "/who", Console: &runtimes.Console{},
		Identity: identity.Identity{Role: "postgres", Claims: []byte(`{"role":"postgres"}`)}})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusOK || rec.Body.String() != `"anon"` {
		t.Fatalf("got %d %s, want \"anon\"", rec.Code, rec.Body.String())
	}
}
