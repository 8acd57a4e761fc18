package auth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/pgstack/pgstack/internal/apitest"
	"github.com/pgstack/pgstack/internal/config"
)

// benchEnv is a server with the production password cost.
func benchEnv(b *testing.B) *apitest.Env {
	return apitest.New(b, func(c *config.Config) {
		c.Auth.MailerAutoconfirm = true
		c.Auth.RateLimitPerEmail = 1 << 30 // one address signs in over and over
	})
}

func serve(b *testing.B, e *apitest.Env, method, url, token, body string) map[string]any {
	req := httptest.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("apikey", e.AnonKey)
	if token == "" {
		token = e.AnonKey
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s %s: %d %s", method, url, rec.Code, rec.Body)
	}
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return out
}

// report records subject and baseline throughput and how many times longer
// the subject takes than the baseline.
func report(b *testing.B, name string, base, subject time.Duration) {
	n := float64(b.N)
	b.ReportMetric(n/base.Seconds(), "baseline-ops/s")
	b.ReportMetric(n/subject.Seconds(), name+"/s")
	b.ReportMetric(float64(subject)/float64(base), "time-vs-baseline")
}

// BenchmarkSignIn measures password sign-ins at the production bcrypt cost
// against the bcrypt comparison alone (the floor of any password sign-in),
// interleaved so both see the same load.
func BenchmarkSignIn(b *testing.B) {
	e := benchEnv(b)
	cost := e.Config.Auth.BcryptCost
	serve(b, e, "POST", "/auth/v1/signup", "", `{"email":"bench@example.com","password":"`+password+`"}`)
	hash, _ := bcrypt.GenerateFromPassword([]byte(password), cost)
	var base, subject time.Duration
	for b.Loop() {
		t0 := time.Now()
		_ = bcrypt.CompareHashAndPassword(hash, []byte(password))
		t1 := time.Now()
		serve(b, e, "POST", "/auth/v1/token?grant_type=password", "", `{"email":"bench@example.com","password":"`+password+`"}`)
		base += t1.Sub(t0)
		subject += time.Since(t1)
	}
	b.ReportMetric(float64(cost), "bcrypt-cost")
	report(b, "signins", base, subject)
}

// BenchmarkRefresh measures refresh-token rotations against one transaction
// that reads the refresh token by its unique index on the same pool.
func BenchmarkRefresh(b *testing.B) {
	e := benchEnv(b)
	s := serve(b, e, "POST", "/auth/v1/signup", "", `{"email":"bench@example.com","password":"`+password+`"}`)
	rt := s["refresh_token"].(string)
	ctx := context.Background()
	var base, subject time.Duration
	for b.Loop() {
		t0 := time.Now()
		tx, err := e.Pools.Owner.Begin(ctx)
		if err != nil {
			b.Fatal(err)
		}
		var id int64
		if err := tx.QueryRow(ctx, `SELECT id FROM auth.refresh_tokens WHERE token = $1`, rt).Scan(&id); err != nil {
			b.Fatal(err)
		}
		_ = tx.Commit(ctx)
		t1 := time.Now()
		rt = serve(b, e, "POST", "/auth/v1/token?grant_type=refresh_token", "", `{"refresh_token":"`+rt+`"}`)["refresh_token"].(string)
		base += t1.Sub(t0)
		subject += time.Since(t1)
	}
	report(b, "refreshes", base, subject)
}

// BenchmarkGetUser measures GET /user against the user lookup by primary key
// alone through pgx.
func BenchmarkGetUser(b *testing.B) {
	e := benchEnv(b)
	s := serve(b, e, "POST", "/auth/v1/signup", "", `{"email":"bench@example.com","password":"`+password+`"}`)
	token := s["access_token"].(string)
	uid := uuid.MustParse(s["user"].(map[string]any)["id"].(string))
	ctx := context.Background()
	var base, subject time.Duration
	for b.Loop() {
		t0 := time.Now()
		var email string
		if err := e.Pools.Owner.QueryRow(ctx, `SELECT email FROM auth.users WHERE id = $1`, uid).Scan(&email); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		serve(b, e, "GET", "/auth/v1/user", token, "")
		base += t1.Sub(t0)
		subject += time.Since(t1)
	}
	report(b, "getuser", base, subject)
}
