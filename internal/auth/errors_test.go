package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// Database trouble a retry can fix must not reach auth-js as a 500: on a
// refresh that would sign the user out.
func TestTransientErrorsAreRetryable(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{&pgconn.PgError{Code: "55P03"}, http.StatusServiceUnavailable}, // lock_timeout
		{&pgconn.PgError{Code: "40001"}, http.StatusServiceUnavailable}, // serialization failure
		{&pgconn.PgError{Code: "40P01"}, http.StatusServiceUnavailable}, // deadlock
		{&pgconn.PgError{Code: "57P01"}, http.StatusServiceUnavailable}, // admin shutdown
		{&pgconn.PgError{Code: "53300"}, http.StatusServiceUnavailable}, // too many connections
		{&pgconn.PgError{Code: "08006"}, http.StatusServiceUnavailable}, // connection failure
		{fmt.Errorf("query: %w", context.DeadlineExceeded), http.StatusGatewayTimeout},
		{&pgconn.PgError{Code: "23505"}, http.StatusInternalServerError},
		{errors.New("boom"), http.StatusInternalServerError},
	} {
		if got := fromError(c.err).Status; got != c.want {
			t.Errorf("%v: status %d, want %d", c.err, got, c.want)
		}
	}
}

// Hashing waits for a free slot, and gives up when the request does.
func TestHashSlotsBoundConcurrentBcrypt(t *testing.T) {
	s := &Service{hashSlots: make(chan struct{}, 1)}
	s.cfg.BcryptCost = 4
	release, err := s.hashSlot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.hashPassword(ctx, "password"); !errors.Is(err, context.Canceled) {
		t.Errorf("hash with every slot taken and the request gone: %v, want context.Canceled", err)
	}
	if got := fromError(context.Canceled).Status; got != http.StatusServiceUnavailable {
		t.Errorf("cancelled request: status %d, want 503", got)
	}
	release()
	if _, err := s.hashPassword(context.Background(), "password"); err != nil {
		t.Errorf("hash with a free slot: %v", err)
	}
}
