package auth

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/pgstack/pgstack/internal/config"
	"github.com/pgstack/pgstack/internal/jwt"
	"github.com/pgstack/pgstack/internal/pgtest"
)

// A refresh whose session stays locked (another refresh stuck holding it)
// is retried a bounded number of times and then answered with 503, which
// auth-js retries; it never turns into a 500 that would sign the user out.
func TestRefreshOfALockedSessionIsRetryable(t *testing.T) {
	t.Parallel()
	pools := pgtest.NewDB(t).Open(t)
	cfg, _ := config.Load(config.ModeServe, func(string) (string, bool) { return "", false })
	cfg.Auth.BcryptCost, cfg.Auth.MailerAutoconfirm = 4, true
	s, err := New(Options{Config: cfg, Pool: pools.Owner, Keys: jwt.New(pgtest.JWTSecret, nil), Mailer: NoMailer{}})
	if err != nil {
		t.Fatal(err)
	}
	s.lockTimeout = 50 * time.Millisecond
	ctx := context.Background()
	res, err := s.Signup(ctx, SignupParams{Email: "locked@example.com", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	holder, err := pools.Owner.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(ctx, `SELECT 1 FROM auth.sessions FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	_, err = s.Refresh(ctx, res.Session.RefreshToken)
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusServiceUnavailable {
		t.Fatalf("refresh of a locked session: %v, want a 503", err)
	}
	_ = holder.Rollback(ctx)
	if _, err := s.Refresh(ctx, res.Session.RefreshToken); err != nil {
		t.Errorf("refresh once the lock is gone: %v", err)
	}
}
