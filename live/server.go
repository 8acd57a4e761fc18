// Package live is the bridge between WebSocket clients and pg_reactive at
// /live/v1 (subprotocol pgr.v1). Clients authenticate with their JWT in
// hello, subscribe to registered live queries by name, and receive a
// snapshot and then contiguous, versioned deltas of the result as their own
// role and claims see it. See docs/live.md.
package live

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgstack/pgstack/internal/httperr"
	"github.com/pgstack/pgstack/internal/jwt"
)

// Options configures the bridge.
type Options struct {
	Keys *jwt.Keys
	Log  *slog.Logger
	// HeartbeatInterval is how often clients get heartbeat{ts, heads} and
	// leases are renewed.
	HeartbeatInterval time.Duration
	// RefreshInterval is how often the bridge runs a refresher tick; 0 leaves
	// refreshing to pg_reactive's background worker.
	RefreshInterval time.Duration
	// MaxSubscriptions per connection.
	MaxSubscriptions int
	// QueueSize bounds each connection's outgoing frames.
	QueueSize int
	// MaxBacklogBytes bounds the deltas merged for a subscription while its
	// connection's queue is full; past it the subscription gets a snapshot.
	MaxBacklogBytes int
	// MaxMessageSize bounds client frames, in bytes.
	MaxMessageSize int64
	// HelloTimeout is how long a new connection may take to send hello.
	HelloTimeout time.Duration
	// WriteTimeout bounds writing one frame to a client.
	WriteTimeout time.Duration
	// OriginPatterns are the allowed browser origins ("*": any). Tokens travel
	// in hello, never in cookies, so cross-origin clients are safe.
	OriginPatterns []string
	// PoolSize is the number of database connections of the bridge (besides
	// its LISTEN connection).
	PoolSize int
}

func (o *Options) defaults() {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = 15 * time.Second
	}
	if o.MaxSubscriptions <= 0 {
		o.MaxSubscriptions = 100
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 256
	}
	if o.MaxBacklogBytes <= 0 {
		o.MaxBacklogBytes = 4 << 20
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = 64 << 10
	}
	if o.HelloTimeout <= 0 {
		o.HelloTimeout = 10 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.PoolSize <= 0 {
		o.PoolSize = 4
	}
}

// Server serves /live/v1. Its hub (LISTEN connection, refresher, heartbeats)
// runs while at least one client is connected.
type Server struct {
	opts Options
	cfg  *pgxpool.Config

	mu    sync.Mutex
	hub   *hub
	pool  *pgxpool.Pool
	users int
}

// New returns the bridge. cfg is the owner pool's configuration: pg_reactive's
// functions switch to each subscriber's role themselves.
func New(cfg *pgxpool.Config, opts Options) *Server {
	opts.defaults()
	cfg = cfg.Copy()
	cfg.MaxConns = int32(opts.PoolSize)
	cfg.MinConns = 0
	return &Server{opts: opts, cfg: cfg}
}

// acquire returns the running hub, starting it for the first client.
func (s *Server) acquire(ctx context.Context) (*hub, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hub == nil {
		pool, err := pgxpool.NewWithConfig(context.Background(), s.cfg)
		if err != nil {
			return nil, fmt.Errorf("connect live pool: %w", err)
		}
		st := &store{pool: pool}
		ok, err := st.available(ctx)
		if err != nil {
			pool.Close()
			return nil, err
		}
		if !ok {
			pool.Close()
			return nil, ErrUnavailable
		}
		h := newHub(context.Background(), pool, s.opts)
		h.start()
		select {
		case <-h.listening:
		case <-time.After(5 * time.Second):
			h.stop()
			pool.Close()
			return nil, fmt.Errorf("LISTEN pgr did not start")
		}
		s.hub, s.pool = h, pool
	}
	s.users++
	return s.hub, nil
}

// release stops the hub when its last client leaves.
func (s *Server) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users--
	if s.users == 0 && s.hub != nil {
		s.hub.stop()
		s.pool.Close()
		s.hub, s.pool = nil, nil
	}
}

// ServeHTTP upgrades to a WebSocket speaking pgr.v1.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The server's write and read timeouts bound ordinary requests; a live
	// connection lives as long as the client stays.
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		httperr.Write(w, r, httperr.New(http.StatusUpgradeRequired, httperr.CodeBadRequest,
			"/live/v1 is a WebSocket endpoint (subprotocol %s)", Subprotocol))
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	_ = rc.SetReadDeadline(time.Time{})

	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:   []string{Subprotocol},
		OriginPatterns: s.opts.OriginPatterns,
	})
	if err != nil {
		return // Accept wrote the HTTP error
	}
	if ws.Subprotocol() != Subprotocol {
		_ = ws.Close(websocket.StatusPolicyViolation, "the subprotocol must be "+Subprotocol)
		return
	}
	ws.SetReadLimit(s.opts.MaxMessageSize)

	h, err := s.acquire(r.Context())
	if err != nil {
		code := CodeUnavailable
		msg := ErrUnavailable.Error()
		if err != ErrUnavailable {
			s.opts.Log.Error("live: start", "err", err)
			msg = "live queries are temporarily unavailable"
		}
		c := &conn{ws: ws}
		c.ctx, c.cancel = context.WithCancel(context.Background())
		c.fail(code, msg)
		return
	}
	defer s.release()

	c := newConn(context.Background(), h, ws)
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.conns, c)
		h.mu.Unlock()
	}()
	c.run()
}
