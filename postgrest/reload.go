package postgrest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Channel is the NOTIFY channel of schema reloads (PostgREST's convention):
// NOTIFY pgrst, 'reload schema'. The event trigger of migration 00020 sends
// it after DDL.
const Channel = "pgrst"

// ListenerApplicationName names the listening connection in pg_stat_activity.
const ListenerApplicationName = "pgstack rest schema listener"

// Schema holds the current schema cache and reloads it on notification.
// Requests take the current snapshot; a reload builds a new one and swaps it
// in, so requests in flight are never blocked.
type Schema struct {
	pool    *pgxpool.Pool
	schemas []string
	log     *slog.Logger
	// beforeLoad runs before every load (granting the authenticator usage on
	// exposed schemas created since the last one).
	beforeLoad func(context.Context) error
	cur        atomic.Pointer[Cache]
	loads      atomic.Int64

	kick   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewSchema starts listening for reloads on a dedicated connection, then
// loads the cache through pool (the owner pool): listening first means no
// change between the load and the LISTEN goes unnoticed. Stop ends it.
func NewSchema(ctx context.Context, pool *pgxpool.Pool, schemas []string, log *slog.Logger,
	beforeLoad func(context.Context) error) (*Schema, error) {
	s := &Schema{pool: pool, schemas: schemas, log: log, beforeLoad: beforeLoad, kick: make(chan struct{}, 1)}
	lctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	listening := make(chan struct{})
	s.wg.Add(2)
	go s.listen(lctx, listening)
	go s.reloader(lctx)
	select {
	case <-listening:
	case <-ctx.Done():
		s.Stop()
		return nil, fmt.Errorf("listen on channel %s: %w", Channel, ctx.Err())
	}
	if err := s.Reload(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Current returns the snapshot to plan a request with.
func (s *Schema) Current() *Cache { return s.cur.Load() }

// Loads counts completed loads (tests wait on it).
func (s *Schema) Loads() int64 { return s.loads.Load() }

// Reload loads the cache now.
func (s *Schema) Reload(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if s.beforeLoad != nil {
		if err := s.beforeLoad(ctx); err != nil {
			return err
		}
	}
	c, err := LoadCache(ctx, s.pool, s.schemas)
	if err != nil {
		return err
	}
	s.cur.Store(c)
	s.loads.Add(1)
	return nil
}

// Request asks for a reload; requests arriving while one runs coalesce into
// one more reload after it (debounce).
func (s *Schema) Request() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Stop ends the listener and the reloader.
func (s *Schema) Stop() {
	s.cancel()
	s.wg.Wait()
}

func (s *Schema) reloader(ctx context.Context) {
	defer s.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		}
		// Let a burst of DDL settle before loading.
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if err := s.Reload(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("reload REST schema cache", slog.Any("error", err))
		}
	}
}

// listen holds one connection with LISTEN pgrst, reconnecting with backoff;
// after a reconnect it reloads, since notifications may have been missed.
func (s *Schema) listen(ctx context.Context, listening chan<- struct{}) {
	defer s.wg.Done()
	backoff := 100 * time.Millisecond
	var once sync.Once
	ready := func() { once.Do(func() { close(listening) }) }
	first := true
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, !first, ready)
		first = false
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("REST schema listener disconnected", slog.Any("error", err))
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (s *Schema) listenOnce(ctx context.Context, reconnect bool, ready func()) error {
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = ListenerApplicationName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{Channel}.Sanitize()); err != nil {
		return err
	}
	ready()
	if reconnect {
		s.Request()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		}
		switch n.Payload {
		case "", "reload schema":
			s.Request()
		}
	}
}
