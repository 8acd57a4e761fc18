package database

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// connStates is what the request pool keeps for each of its connections:
// the statements the coalescer prepared there, and which generation of
// prepared statements the connection holds. ForgetStatements starts a new
// generation; a connection still on an older one deallocates every prepared
// statement (pgx's cache and the coalescer's) before it is next used.
type connStates struct {
	gen atomic.Int64

	mu sync.Mutex
	m  map[*pgconn.PgConn]*connState
}

type connState struct {
	gen   int64
	stmts *stmtCache
}

func newConnStates() *connStates {
	return &connStates{m: map[*pgconn.PgConn]*connState{}}
}

// get returns pc's state, new connections starting on the current
// generation.
func (s *connStates) get(pc *pgconn.PgConn) *connState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.m[pc]
	if st == nil {
		st = &connState{gen: s.gen.Load(), stmts: newStmtCache()}
		s.m[pc] = st
	}
	return st
}

// prepare is the pool's PrepareConn hook: it brings a connection to the
// current generation before it is handed out.
func (s *connStates) prepare(ctx context.Context, c *pgx.Conn) (bool, error) {
	st := s.get(c.PgConn())
	if gen := s.gen.Load(); st.gen != gen {
		if err := c.DeallocateAll(ctx); err != nil {
			// Drop the connection; the pool retries on another.
			return false, nil
		}
		st.stmts.reset()
		st.gen = gen
	}
	return true, nil
}

// forget is the pool's BeforeClose hook.
func (s *connStates) forget(c *pgx.Conn) {
	s.mu.Lock()
	delete(s.m, c.PgConn())
	s.mu.Unlock()
}

// ForgetStatements makes every request connection deallocate its prepared
// statements before its next use. Call it after the schema changed: a
// statement prepared before keeps the parameter types it was prepared with,
// so the same request would fail until then (a filter on a column whose
// type changed, say).
func (d *DB) ForgetStatements() {
	d.states.gen.Add(1)
}
