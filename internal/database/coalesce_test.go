package database_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgstack/pgstack/internal/database"
	"github.com/pgstack/pgstack/internal/pgtest"
)

// openCoalescing makes a database with setup run in it and opens it with
// one coalescing worker, so concurrent transactions are sure to share
// pipelines, on a pool of four connections.
func openCoalescing(t *testing.T, setup string) (pgtest.DB, *database.DB) {
	t.Helper()
	return openPool(t, setup, 4)
}

func openPool(t *testing.T, setup string, size int) (pgtest.DB, *database.DB) {
	t.Helper()
	tdb := pgtest.NewDB(t)
	if setup != "" {
		tdb.Exec(t, setup)
	}
	d, err := database.Open(context.Background(), database.Options{
		DatabaseURL:           tdb.URL,
		AuthenticatorPassword: pgtest.AuthenticatorPassword,
		PoolSize:              size,
		CoalesceWorkers:       1,
		PipelineDepth:         16,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return tdb, d
}

// Transactions sent in one pipeline stay apart: each sees its own caller,
// a failing one rolls back alone and the others commit.
func TestCoalescedTransactionsStayApart(t *testing.T) {
	t.Parallel()
	_, db := openCoalescing(t, todos)
	ctx := context.Background()

	const n = 96
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user, want := alice, 2
			if i%2 == 1 {
				user, want = bob, 1
			}
			caller := database.Caller{Identity: userIdentity(user), Method: "GET", Path: "/rest/v1/todos"}
			switch i % 3 {
			case 0: // a read that sees only its own caller
				var sub, role string
				var count int
				caller.ReadOnly = true
				err := db.Pipeline(ctx, caller, database.Commit, nil, database.Statement{
					SQL: "SELECT current_setting('request.jwt.claims')::json->>'sub', current_user, (SELECT count(*) FROM public.todos WHERE title NOT LIKE 'new%')",
					Scan: func(r pgx.Rows) error {
						r.Next()
						return r.Scan(&sub, &role, &count)
					}})
				if err == nil && (sub != user || role != "authenticated" || count != want) {
					err = fmt.Errorf("transaction %d as %s saw sub %q, role %q, %d rows (want %d)", i, user, sub, role, count, want)
				}
				errs <- err
			case 1: // a write that commits
				errs <- db.Pipeline(ctx, caller, database.Commit, nil, database.Statement{
					SQL: "INSERT INTO public.todos (user_id, title) VALUES ($1, $2)", Args: []any{user, fmt.Sprintf("new %d", i)}})
			case 2: // a write that fails after inserting: rolled back
				err := db.Pipeline(ctx, caller, database.Commit, nil,
					database.Statement{SQL: "INSERT INTO public.todos (user_id, title) VALUES ($1, 'lost')", Args: []any{user}},
					database.Statement{SQL: "SELECT 1/0"})
				if pgErr, ok := database.PgError(err); !ok || pgErr.Code != "22012" {
					errs <- fmt.Errorf("transaction %d: %v, want division by zero", i, err)
				} else {
					errs <- nil
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	var news, lost int
	if err := db.Owner.QueryRow(ctx, "SELECT count(*) FILTER (WHERE title LIKE 'new%'), count(*) FILTER (WHERE title = 'lost') FROM public.todos").
		Scan(&news, &lost); err != nil {
		t.Fatal(err)
	}
	if news != n/3 || lost != 0 {
		t.Errorf("%d new rows and %d lost rows, want %d and 0", news, lost, n/3)
	}
	if st := db.PipelineStats(); st.Transactions < n || st.QueueFull > 0 || st.Batches >= st.Transactions {
		t.Errorf("%+v: nothing was coalesced", st)
	}
}

// A statement that cannot be prepared fails its own transaction only.
func TestCoalescedPrepareErrorStaysWithItsTransaction(t *testing.T) {
	t.Parallel()
	_, db := openCoalescing(t, todos)
	ctx := context.Background()
	caller := database.Caller{Identity: userIdentity(alice), ReadOnly: true}

	var wg sync.WaitGroup
	errs := make([]error, 64)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sql := "SELECT count(*) FROM public.todos"
			if i%4 == 0 {
				sql = fmt.Sprintf("SELECT count(*) FROM public.missing_%d", i)
			}
			errs[i] = db.Pipeline(ctx, caller, database.Commit, nil, database.Statement{SQL: sql})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		pgErr, isPg := database.PgError(err)
		switch {
		case i%4 == 0 && (!isPg || pgErr.Code != "42P01"):
			t.Errorf("transaction %d on a missing table: %v, want 42P01", i, err)
		case i%4 != 0 && err != nil:
			t.Errorf("transaction %d: %v", i, err)
		}
	}
}

// When every worker is stuck on a slow statement, a queued transaction is
// sent alone rather than waiting behind it.
func TestCoalescerSendsAloneWhenWorkersStall(t *testing.T) {
	t.Parallel()
	_, db := openCoalescing(t, todos)
	ctx := context.Background()
	caller := database.Caller{Identity: userIdentity(alice), ReadOnly: true}

	lock, err := db.Owner.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx)
	if _, err := lock.Exec(ctx, "LOCK TABLE public.todos IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	blocked := make(chan error, 1)
	go func() {
		blocked <- db.Pipeline(ctx, caller, database.Commit, nil, database.Statement{SQL: "SELECT count(*) FROM public.todos"})
	}()
	// Wait until the only worker's statement waits on the lock.
	for waiting := 0; waiting == 0; {
		if err := db.Owner.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
	}
	// More transactions than the queue holds (the worker never drains it
	// while stuck): each gets through, taken back from the queue or never
	// queued.
	probe, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	probes := make([]error, 1100)
	for i := range probes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var one int
			err := db.Pipeline(probe, caller, database.Commit, nil, database.Statement{SQL: "SELECT 1",
				Scan: func(r pgx.Rows) error { r.Next(); return r.Scan(&one) }})
			if err == nil && one != 1 {
				err = fmt.Errorf("got %d", one)
			}
			probes[i] = err
		}()
	}
	wg.Wait()
	for i, err := range probes {
		if err != nil {
			t.Fatalf("transaction %d queued behind a stalled worker: %v", i, err)
		}
	}
	select {
	case err := <-blocked:
		t.Fatalf("the blocked transaction finished while the lock was held: %v", err)
	default:
	}
	if st := db.PipelineStats(); st.Stalled == 0 || st.QueueFull == 0 {
		t.Errorf("%+v: want transactions both taken back from the stalled queue and never queued", st)
	}
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-blocked; err != nil {
		t.Errorf("blocked transaction after the lock: %v", err)
	}
}

// Statements stay prepared per connection up to a bound, and a statement
// whose result changed shape under it is prepared again.
func TestCoalescedStatementCache(t *testing.T) {
	t.Parallel()
	tdb, db := openCoalescing(t, todos+`; GRANT SELECT ON public.todos TO authenticated;`)
	ctx := context.Background()
	caller := database.Caller{Identity: userIdentity(alice), ReadOnly: true}

	for i := range 300 {
		var got int
		err := db.Pipeline(ctx, caller, database.Commit, nil, database.Statement{
			SQL: fmt.Sprintf("SELECT $1::int + %d", i), Args: []any{1},
			Scan: func(r pgx.Rows) error { r.Next(); return r.Scan(&got) }})
		if err != nil || got != i+1 {
			t.Fatalf("statement %d: %d, %v", i, got, err)
		}
	}
	var prepared int
	err := db.Pipeline(ctx, caller, database.Commit, nil, database.Statement{
		SQL:  "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'pgstack\\_%'",
		Scan: func(r pgx.Rows) error { r.Next(); return r.Scan(&prepared) }})
	if err != nil || prepared == 0 || prepared > 256 {
		t.Errorf("%d statements prepared on a connection (%v), want 1 to 256", prepared, err)
	}

	read := func() (cols int, err error) {
		err = db.Pipeline(ctx, caller, database.Commit, nil, database.Statement{
			SQL: "SELECT * FROM public.todos ORDER BY id LIMIT 1",
			Scan: func(r pgx.Rows) error {
				cols = len(r.FieldDescriptions())
				for r.Next() {
				}
				return r.Err()
			}})
		return cols, err
	}
	if cols, err := read(); err != nil || cols != 3 {
		t.Fatalf("before ALTER: %d columns, %v", cols, err)
	}
	tdb.Exec(t, "ALTER TABLE public.todos ADD COLUMN done boolean NOT NULL DEFAULT false")
	// The first read after the change may fail as PostgreSQL reports it;
	// one after that sees the new shape.
	cols, err := read()
	if err != nil {
		if pgErr, ok := database.PgError(err); !ok || pgErr.Code != "0A000" {
			t.Fatalf("first read after ALTER: %v", err)
		}
		cols, err = read()
	}
	if err != nil || cols != 4 {
		t.Errorf("after ALTER: %d columns, %v; want 4", cols, err)
	}
}

// A statement that fails while its rows are read reports PostgreSQL's
// error, not what the reader made of the missing rows.
func TestCoalescedStatementErrorWinsOverScan(t *testing.T) {
	t.Parallel()
	_, db := openCoalescing(t, "")
	caller := database.Caller{Identity: userIdentity(alice), ReadOnly: true}
	err := db.Pipeline(context.Background(), caller, database.Commit, nil, database.Statement{
		SQL: "SELECT 1/0",
		Scan: func(r pgx.Rows) error {
			if !r.Next() {
				return errors.New("no row")
			}
			return nil
		}})
	if pgErr, ok := database.PgError(err); !ok || pgErr.Code != "22012" {
		t.Errorf("got %v, want division by zero", err)
	}
}

// A reader that panics fails its own request; the worker and its connection
// go on.
func TestCoalescedScanPanicFailsOneRequest(t *testing.T) {
	t.Parallel()
	_, db := openCoalescing(t, "")
	caller := database.Caller{Identity: userIdentity(alice), ReadOnly: true}
	ctx := context.Background()
	err := db.Pipeline(ctx, caller, database.Commit, nil,
		database.Statement{SQL: "SELECT 1", Scan: func(pgx.Rows) error { panic("boom") }},
		database.Statement{SQL: "SELECT 2"})
	if err == nil {
		t.Fatal("a panicking reader did not fail its request")
	}
	var two int
	if err := db.Pipeline(ctx, caller, database.Commit, nil, database.Statement{SQL: "SELECT 2",
		Scan: func(r pgx.Rows) error { r.Next(); return r.Scan(&two) }}); err != nil || two != 2 {
		t.Errorf("after the panic: %d, %v", two, err)
	}
}

// After the schema changed, ForgetStatements makes both the coalesced and
// the pgx path prepare their statements again, with the new types. One
// connection, so both paths prepared theirs where the next request runs.
func TestForgetStatements(t *testing.T) {
	t.Parallel()
	tdb, db := openPool(t, `CREATE TABLE public.things (code int);
		INSERT INTO public.things VALUES (7);
		GRANT SELECT ON public.things TO authenticated;`, 1)
	ctx := context.Background()
	caller := database.Caller{Identity: userIdentity(alice)}
	count := func(ending database.Ending) (n int, err error) {
		c := caller
		c.ReadOnly = ending == database.Commit
		err = db.Pipeline(ctx, c, ending, nil, database.Statement{
			SQL: "SELECT count(*) FROM public.things WHERE code = $1", Args: []any{"7"},
			Scan: func(r pgx.Rows) error { r.Next(); return r.Scan(&n) }})
		return n, err
	}
	for _, ending := range []database.Ending{database.Commit, database.Decide} {
		if n, err := count(ending); err != nil || n != 1 {
			t.Fatalf("before the change (ending %d): %d, %v", ending, n, err)
		}
	}
	tdb.Exec(t, "ALTER TABLE public.things ALTER COLUMN code TYPE text")
	// The prepared statements still compare code with an integer.
	for _, ending := range []database.Ending{database.Commit, database.Decide} {
		if _, err := count(ending); err == nil {
			t.Fatalf("a statement prepared before the type change still ran (ending %d): the test cannot tell", ending)
		}
	}
	db.ForgetStatements()
	for _, ending := range []database.Ending{database.Commit, database.Decide} {
		if n, err := count(ending); err != nil || n != 1 {
			t.Errorf("after ForgetStatements (ending %d): %d, %v", ending, n, err)
		}
	}
}

// CommitAlone commits like Commit but never shares a pipeline.
func TestCommitAloneIsNotCoalesced(t *testing.T) {
	t.Parallel()
	_, db := openCoalescing(t, todos)
	ctx := context.Background()
	caller := database.Caller{Identity: userIdentity(alice)}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := db.Pipeline(ctx, caller, database.CommitAlone, nil, database.Statement{
				SQL: "INSERT INTO public.todos (user_id, title) VALUES ($1, $2)", Args: []any{alice, fmt.Sprintf("alone %d", i)}}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var n int
	if err := db.Owner.QueryRow(ctx, "SELECT count(*) FROM public.todos WHERE title LIKE 'alone %'").Scan(&n); err != nil || n != 20 {
		t.Errorf("%d rows committed (%v), want 20", n, err)
	}
	if st := db.PipelineStats(); st != (database.PipelineStats{}) {
		t.Errorf("%+v: CommitAlone went through the pipeline", st)
	}
}
