package runtimes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgstack/pgstack/gen/db"
)

// NotifyChannel is the channel a trigger on pgstack.edge_functions notifies
// on every change (migrations/00030).
const NotifyChannel = "pgstack_edge_functions"

// Registry holds the prepared functions of pgstack.edge_functions. It is
// reloaded on demand (Reload: _refresh, deploys) and on every catalog change
// notified on NotifyChannel, so all replicas follow the same catalog.
type Registry struct {
	owner       *pgxpool.Pool
	queries     *db.Queries
	dispatchers map[string]Dispatcher
	log         *slog.Logger

	reload sync.Mutex // serialises reloads
	mu     sync.RWMutex
	fns    map[string]*entry
	done   chan struct{} // closed when the registry stops following changes
}

type entry struct {
	fn      Function
	handler Handler
	err     error // why the function could not be prepared
}

// NewRegistry returns an empty registry; Start loads it and follows changes.
func NewRegistry(owner *pgxpool.Pool, dispatchers map[string]Dispatcher, log *slog.Logger) *Registry {
	return &Registry{owner: owner, queries: db.New(owner), dispatchers: dispatchers, log: log, fns: map[string]*entry{}, done: make(chan struct{})}
}

// Dispatcher returns the dispatcher of a runtime.
func (g *Registry) Dispatcher(runtime string) (Dispatcher, bool) {
	d, ok := g.dispatchers[runtime]
	return d, ok
}

// Lookup returns the prepared function name, or ErrNotFound.
func (g *Registry) Lookup(name string) (Function, Handler, error) {
	g.mu.RLock()
	e, ok := g.fns[name]
	g.mu.RUnlock()
	if !ok {
		return Function{}, nil, ErrNotFound
	}
	return e.fn, e.handler, e.err
}

// Functions returns the catalog as loaded, by name.
func (g *Registry) Functions() []Function {
	g.mu.RLock()
	defer g.mu.RUnlock()
	out := make([]Function, 0, len(g.fns))
	for _, e := range g.fns {
		out = append(out, e.fn)
	}
	sortFunctions(out)
	return out
}

// Reload reads the catalog and prepares what changed since the last load.
func (g *Registry) Reload(ctx context.Context) (int, error) {
	g.reload.Lock()
	defer g.reload.Unlock()
	rows, err := g.queries.ListEdgeFunctions(ctx)
	if err != nil {
		return 0, fmt.Errorf("load functions: %w", err)
	}
	g.mu.RLock()
	old := g.fns
	g.mu.RUnlock()
	next := make(map[string]*entry, len(rows))
	for _, row := range rows {
		fn := FromRow(row)
		if e, ok := old[fn.Name]; ok && sameVersion(e.fn, fn) {
			next[fn.Name] = e
			continue
		}
		next[fn.Name] = g.prepare(ctx, fn)
	}
	g.mu.Lock()
	g.fns = next
	g.mu.Unlock()
	return len(next), nil
}

func (g *Registry) prepare(ctx context.Context, fn Function) *entry {
	d, ok := g.dispatchers[fn.Runtime]
	if !ok {
		return &entry{fn: fn, err: fmt.Errorf("runtime %q is not served here", fn.Runtime)}
	}
	if ir, ok := d.(*InDatabaseRuntime); ok {
		// A row written with SQL (POST /api/sql, a seed) gets its database
		// function here; a deploy through the admin API already created it.
		if err := EnsureInDatabase(ctx, g.owner, ir.Runtime, fn); err != nil {
			g.log.Warn("function could not be created in the database", "function", fn.Name, "error", err)
			return &entry{fn: fn, err: err}
		}
	}
	h, err := d.Prepare(ctx, fn)
	if err != nil {
		g.log.Warn("function could not be loaded", "function", fn.Name, "runtime", fn.Runtime, "error", err)
		return &entry{fn: fn, err: err}
	}
	return &entry{fn: fn, handler: h}
}

func sameVersion(a, b Function) bool {
	return a.Runtime == b.Runtime && a.Source == b.Source && a.UpstreamURL == b.UpstreamURL &&
		a.VerifyJWT == b.VerifyJWT && a.UpdatedAt.Equal(b.UpdatedAt)
}

// FromRow maps a catalog row.
func FromRow(row db.PgstackEdgeFunction) Function {
	fn := Function{Name: row.Name, Runtime: row.Runtime, VerifyJWT: row.VerifyJwt, UpdatedAt: row.UpdatedAt.Time}
	if row.Source != nil {
		fn.Source = *row.Source
	}
	if row.UpstreamUrl != nil {
		fn.UpstreamURL = *row.UpstreamUrl
	}
	return fn
}

// Done is closed once the registry stopped following catalog changes
// because its database went away.
func (g *Registry) Done() <-chan struct{} { return g.done }

// Start listens for catalog changes on a dedicated connection, loads the
// catalog, and keeps it current in the background until the database or the
// owner pool goes away.
func (g *Registry) Start(ctx context.Context) error {
	conn, err := g.listen(ctx)
	if err != nil {
		return err
	}
	if _, err := g.Reload(ctx); err != nil {
		_ = conn.Close(ctx)
		return err
	}
	go g.follow(conn)
	return nil
}

func (g *Registry) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, g.owner.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("connect to listen for function changes: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{NotifyChannel}.Sanitize()); err != nil {
		_ = conn.Close(ctx)
		return nil, fmt.Errorf("listen for function changes: %w", err)
	}
	return conn, nil
}

// follow reloads on every notification; when the connection breaks it
// reconnects (and reloads, as changes may have been missed) with backoff,
// and stops once the owner pool is closed or the database is gone.
func (g *Registry) follow(conn *pgx.Conn) {
	defer close(g.done)
	ctx := context.Background()
	backoff := 100 * time.Millisecond
	for {
		for {
			if _, err := conn.WaitForNotification(ctx); err != nil {
				break
			}
			backoff = 100 * time.Millisecond
			if _, err := g.Reload(ctx); err != nil {
				g.log.Warn("reload functions", "error", err)
			}
		}
		_ = conn.Close(ctx)
		for {
			if g.stopped(ctx) {
				return
			}
			time.Sleep(backoff) // reconnect backoff, not a wait for an event
			backoff = min(2*backoff, 10*time.Second)
			c, err := g.listen(ctx)
			if err != nil {
				continue
			}
			conn = c
			if _, err := g.Reload(ctx); err != nil {
				g.log.Warn("reload functions", "error", err)
			}
			break
		}
	}
}

// stopped reports whether the owner pool was closed or the database dropped.
func (g *Registry) stopped(ctx context.Context) bool {
	c, err := g.owner.Acquire(ctx)
	if err != nil {
		return errors.Is(err, errClosedPool) || isFatalConnectError(err)
	}
	c.Release()
	return false
}
