package database_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgstack/pgstack/internal/database"
	"github.com/pgstack/pgstack/internal/pgtest"
)

// BenchmarkCallerTransaction measures what running as the caller costs: the
// same read in a plain pgx transaction (baseline, owner pool, no RLS) and
// through AsCaller (role switch, claims, RLS policy), interleaved so both see
// the same machine load. It reports both latencies and their ratio.
func BenchmarkCallerTransaction(b *testing.B) {
	tdb := pgtest.NewDB(b)
	tdb.Exec(b, todos)
	db := tdb.Open(b)
	ctx := context.Background()
	const q = "SELECT count(*) FROM public.todos WHERE user_id = $1"
	caller := database.Caller{Identity: userIdentity(alice), Method: "GET", Path: "/rest/v1/todos", ReadOnly: true}

	baseline := func() {
		err := pgx.BeginTxFunc(ctx, db.Owner, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
			var n int
			return tx.QueryRow(ctx, q, alice).Scan(&n)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	asCaller := func() {
		err := db.AsCaller(ctx, caller, func(tx pgx.Tx) error {
			var n int
			return tx.QueryRow(ctx, q, alice).Scan(&n)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	baseline()
	asCaller()

	var base, call time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		baseline()
		t1 := time.Now()
		asCaller()
		base += t1.Sub(t0)
		call += time.Since(t1)
	}
	n := float64(b.N)
	b.ReportMetric(float64(base.Nanoseconds())/n, "baseline-ns/op")
	b.ReportMetric(float64(call.Nanoseconds())/n, "caller-ns/op")
	b.ReportMetric(float64(call)/float64(base), "caller/baseline")
}
