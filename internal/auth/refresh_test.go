package auth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgstack/pgstack/internal/apitest"
	"github.com/pgstack/pgstack/internal/database"
	"github.com/pgstack/pgstack/internal/identity"
)

// Twenty clients refresh the same token at once (tabs, SSR and a phone
// waking up): all of them get a working session, and they agree on the one
// refresh token to use next.
func TestConcurrentRefreshOfOneToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.signUp(t, "many@example.com")
	original := field(s, "refresh_token")

	const n = 20
	type result struct {
		status int
		body   map[string]any
		raw    string
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req := httptest.NewRequest("POST", "/auth/v1/token?grant_type=refresh_token", strings.NewReader(`{"refresh_token":"`+original+`"}`))
			for k, v := range e.headers("") {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			e.Handler.ServeHTTP(rec, req)
			results[i] = result{status: rec.Code, raw: rec.Body.String()}
			_ = json.Unmarshal(rec.Body.Bytes(), &results[i].body)
		}()
	}
	close(start)
	wg.Wait()

	next := map[string]bool{}
	for i, r := range results {
		if r.status != http.StatusOK {
			t.Fatalf("refresh %d: status %d: %s", i, r.status, r.raw)
		}
		next[field(r.body, "refresh_token")] = true
		// Each access token works against a live session.
		e.Run(t, apitest.Scenario{Name: "user with a refreshed token", Method: "GET", URL: "/auth/v1/user",
			Headers: e.headers(field(r.body, "access_token")), WantStatus: 200})
	}
	if len(next) != 1 || next[original] {
		t.Fatalf("concurrent refreshes handed out %d refresh tokens (%v), want one new token", len(next), next)
	}
	var child string
	for k := range next {
		child = k
	}

	// Within the reuse interval the old token still answers, with the current one.
	again := e.refresh(t, original, 200)
	if field(again, "refresh_token") != child {
		t.Errorf("reuse within the interval gave %q, want the current token %q", field(again, "refresh_token"), child)
	}
	// The child rotates normally.
	grandchild := field(e.refresh(t, child, 200), "refresh_token")
	latest := e.refresh(t, grandchild, 200)

	// Past the reuse interval, the original token is a stolen one: the
	// refresh fails and the whole family is revoked. Age its revocation
	// instead of waiting.
	if _, err := e.Pools.Owner.Exec(context.Background(),
		`UPDATE auth.refresh_tokens SET updated_at = updated_at - interval '1 minute' WHERE token = $1`, original); err != nil {
		t.Fatal(err)
	}
	e.refresh(t, original, 400, `"code":"refresh_token_already_used"`)
	e.refresh(t, field(latest, "refresh_token"), 400, `"code":"refresh_token_not_found"`)
	e.Run(t, apitest.Scenario{Name: "session revoked", Method: "GET", URL: "/auth/v1/user",
		Headers: e.headers(field(latest, "access_token")), WantStatus: 403, WantBody: []string{`"code":"session_not_found"`}})
}

// A signed-in user's access token, run through the role/claims helper every
// client statement uses, makes auth.uid() return the user's id.
func TestAccessTokenDrivesAuthUID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.signUp(t, "rls@example.com")
	req := httptest.NewRequest("GET", "/rest/v1/anything", nil)
	req.Header.Set("Authorization", "Bearer "+field(s, "access_token"))
	id, err := identity.Resolve(e.Keys, req)
	if err != nil {
		t.Fatal(err)
	}
	var uid, role, email string
	var anonymous bool
	err = e.Pools.AsCaller(context.Background(), database.Caller{Identity: id, Method: "GET", Path: "/"}, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(),
			`SELECT auth.uid()::text, auth.role(), auth.email(), (auth.jwt()->>'is_anonymous')::boolean`).Scan(&uid, &role, &email, &anonymous)
	})
	if err != nil {
		t.Fatal(err)
	}
	if uid != field(s, "user", "id") || role != "authenticated" || email != "rls@example.com" || anonymous {
		t.Errorf("auth.uid() = %s, role %s, email %s, anonymous %v; want %s, authenticated, rls@example.com, false",
			uid, role, email, anonymous, field(s, "user", "id"))
	}
	var current string
	_ = e.Pools.AsCaller(context.Background(), database.Caller{Identity: id}, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), `SELECT current_user`).Scan(&current)
	})
	if current != "authenticated" {
		t.Errorf("statements run as %q, want authenticated", current)
	}
}
