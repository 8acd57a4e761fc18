package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// hub is the process's side of pg_reactive: one LISTEN connection, the
// refresher's driver, lease renewal, and the fan-out of every stream any of
// its connections follows. Each delta is encoded once per stream and the same
// bytes go to every subscriber.
type hub struct {
	st     *store
	holder string
	opts   Options
	log    *slog.Logger
	connCf *pgx.ConnConfig

	mu      sync.Mutex
	streams map[int64]*stream
	conns   map[*conn]struct{}

	pendMu  sync.Mutex
	pending map[int64]struct{}
	wake    chan struct{}

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// listening is closed once the first LISTEN is in place.
	listening chan struct{}
}

// stream is one pg_reactive stream as this process delivers it. v is the
// last version dispatched to its subscribers; every field is guarded by mu,
// which also orders all frames of the stream.
type stream struct {
	id    int64
	key   []string
	mu    sync.Mutex
	epoch string
	v     int64
	subs  map[*sub]struct{}
}

// sub is one connection's membership in a stream: every subscription of the
// connection to that stream shares it, so each frame reaches the connection
// once. The client holds stream s at version v.
type sub struct {
	c       *conn
	s       *stream
	ids     map[string]struct{} // guarded by s.mu
	v       int64               // guarded by s.mu
	lagging bool                // guarded by s.mu: deltas are dropped until a snapshot catches up
	backlog *backlog            // guarded by s.mu: deltas merged while the queue was full
}

func newHub(ctx context.Context, pool *pgxpool.Pool, opts Options) *hub {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	ctx, cancel := context.WithCancel(ctx)
	return &hub{
		st:        &store{pool: pool},
		holder:    "pgstack-" + hex.EncodeToString(b),
		opts:      opts,
		log:       opts.Log,
		connCf:    pool.Config().ConnConfig.Copy(),
		streams:   map[int64]*stream{},
		conns:     map[*conn]struct{}{},
		pending:   map[int64]struct{}{},
		wake:      make(chan struct{}, 1),
		ctx:       ctx,
		cancel:    cancel,
		listening: make(chan struct{}),
	}
}

func (h *hub) start() {
	h.wg.Add(4)
	go h.listenLoop()
	go h.dispatchLoop()
	go h.refreshLoop()
	go h.heartbeatLoop()
}

// stop ends the goroutines and gives up this process's leases.
func (h *hub) stop() {
	h.cancel()
	h.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := h.st.release(ctx, h.holder); err != nil {
		h.log.Debug("live: release leases", "err", err)
	}
}

// markPending schedules streams for a look at the delta log.
func (h *hub) markPending(ids ...int64) {
	h.pendMu.Lock()
	for _, id := range ids {
		h.pending[id] = struct{}{}
	}
	h.pendMu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func (h *hub) allStreams() []*stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*stream, 0, len(h.streams))
	for _, s := range h.streams {
		out = append(out, s)
	}
	return out
}

func (h *hub) stream(id int64) *stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.streams[id]
}

// listenLoop holds the LISTEN pgr connection. After a reconnect every
// stream is checked against the log, so a notification lost while the
// connection was down loses nothing.
func (h *hub) listenLoop() {
	defer h.wg.Done()
	backoff := 50 * time.Millisecond
	first := true
	for h.ctx.Err() == nil {
		err := h.listenOnce(&first)
		if h.ctx.Err() != nil {
			return
		}
		h.log.Warn("live: LISTEN connection lost; reconnecting", "err", err)
		select {
		case <-h.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

func (h *hub) listenOnce(first *bool) error {
	conn, err := pgx.ConnectConfig(h.ctx, h.connCf)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(h.ctx, `LISTEN pgr`); err != nil {
		return err
	}
	if *first {
		*first = false
		close(h.listening)
	} else {
		var ids []int64
		for _, s := range h.allStreams() {
			ids = append(ids, s.id)
		}
		h.markPending(ids...)
	}
	for {
		n, err := conn.WaitForNotification(h.ctx)
		if err != nil {
			return err
		}
		var msg struct {
			S     int64  `json:"s"`
			Error string `json:"error"`
		}
		if json.Unmarshal([]byte(n.Payload), &msg) != nil || msg.S == 0 {
			continue
		}
		if s := h.stream(msg.S); s != nil {
			if msg.Error != "" {
				h.failStream(s, msg.Error)
				continue
			}
			h.markPending(msg.S)
		}
	}
}

func (h *hub) dispatchLoop() {
	defer h.wg.Done()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-h.wake:
		}
		h.pendMu.Lock()
		ids := h.pending
		h.pending = map[int64]struct{}{}
		h.pendMu.Unlock()
		for id := range ids {
			if s := h.stream(id); s != nil {
				h.dispatch(s)
			}
		}
	}
}

// dispatch sends the stream's logged deltas after s.v to its subscribers.
func (h *hub) dispatch(s *stream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h.catchUpLocked(s)
}

func (h *hub) catchUpLocked(s *stream) {
	ds, err := h.st.deltas(h.ctx, s.id, s.v)
	if err != nil {
		if h.ctx.Err() == nil {
			h.log.Error("live: read delta log", "stream", s.id, "err", err)
		}
		return
	}
	for _, d := range ds {
		if d.V != s.v+1 || d.Epoch != s.epoch {
			// The log no longer reaches back to what we delivered: every
			// subscriber starts again from a snapshot.
			h.resyncAllLocked(s)
			return
		}
		frame, err := encodeDelta(s.id, s.v, d)
		if err != nil {
			h.log.Error("live: encode delta", "stream", s.id, "err", err)
			return
		}
		for sb := range s.subs {
			h.deliverLocked(sb, d, frame)
		}
		s.v = d.V
	}
}

// deliverLocked sends one delta frame (version v) to sb, keeping its version
// contiguous: older deltas are skipped, a gap or a full queue becomes a
// snapshot.
func (h *hub) deliverLocked(sb *sub, d loggedDelta, frame []byte) {
	v := d.V
	if b := sb.backlog; b != nil {
		// The queue was full: merge into the backlog, or give up on it
		// for a snapshot once it is too large.
		if v <= b.v {
			return
		}
		if v != b.v+1 || !b.merge(d, sb.s.key, h.opts.MaxBacklogBytes) {
			sb.backlog = nil
			sb.lagging = true
		}
		return
	}
	switch {
	case sb.v >= v || sb.lagging:
		return
	case sb.v != v-1:
		h.snapshotLocked(sb, ReasonResync)
		return
	}
	if !sb.c.send(frame) {
		b := newBacklog(sb.v, d.Epoch)
		if b.merge(d, sb.s.key, h.opts.MaxBacklogBytes) {
			sb.backlog = b
		} else {
			sb.lagging = true
		}
		sb.c.lagged()
		return
	}
	sb.v = v
}

// snapshotLocked sends sb the stream's current stored state.
func (h *hub) snapshotLocked(sb *sub, reason string) bool {
	epoch, v, rows, err := h.st.snapshot(h.ctx, sb.s.id)
	if err != nil {
		if errors.Is(err, errStreamGone) {
			h.endSubLocked(sb, CodeQueryBroken, "the live query was re-registered or removed: subscribe again")
		} else if h.ctx.Err() == nil {
			h.log.Error("live: snapshot", "stream", sb.s.id, "err", err)
		}
		return false
	}
	frame, _ := json.Marshal(Snapshot{T: TypeSnapshot, S: sb.s.id, Epoch: epoch, V: v, Rows: rows, Reason: reason})
	if !sb.c.send(frame) {
		// Still no room: try again once the queue drains; the connection is
		// closed if that keeps failing.
		sb.lagging = true
		sb.c.lagged()
		return false
	}
	sb.v = v
	sb.lagging = false
	sb.backlog = nil
	return true
}

func (h *hub) resyncAllLocked(s *stream) {
	epoch, v, _, err := h.st.snapshot(h.ctx, s.id)
	if err != nil {
		if errors.Is(err, errStreamGone) {
			for sb := range s.subs {
				h.endSubLocked(sb, CodeQueryBroken, "the live query was re-registered or removed: subscribe again")
			}
		}
		return
	}
	s.epoch, s.v = epoch, v
	for sb := range s.subs {
		if sb.v != v {
			h.snapshotLocked(sb, ReasonResync)
		}
	}
}

// recoverLagging runs once c's queue drained: each subscription that fell
// behind gets its merged backlog as one delta or, past the backlog limits, a
// lagging snapshot.
func (h *hub) recoverLagging(c *conn) {
	ok := true
	for _, sb := range c.subscriptions() {
		sb.s.mu.Lock()
		switch {
		case sb.backlog != nil:
			if c.send(sb.backlog.frame(sb.s.id)) {
				sb.v = sb.backlog.v
				sb.backlog = nil
			} else {
				ok = false
				c.lagged()
			}
		case sb.lagging:
			if !h.snapshotLocked(sb, ReasonLagging) {
				ok = false
			}
		}
		sb.s.mu.Unlock()
	}
	if ok {
		c.lagStrikes.Store(0)
	} else if c.lagStrikes.Add(1) >= maxLagStrikes {
		c.fail(CodeOverloaded, "the connection cannot keep up with its live queries")
	}
}

// maxLagStrikes is how many drained queues in a row may still be too full for
// the lagging snapshots before the connection is closed.
const maxLagStrikes = 3

// endSubLocked ends every subscription of sb and tells the client why.
func (h *hub) endSubLocked(sb *sub, code, message string) {
	delete(sb.s.subs, sb)
	sb.c.dropMember(sb)
	for id := range sb.ids {
		if sb.c.forget(id, sb) {
			frame, _ := json.Marshal(ErrorMessage{T: TypeError, ID: id, S: sb.s.id, Code: code, Message: message})
			sb.c.send(frame)
			go h.detach(sb.s.id)
		}
	}
	sb.ids = map[string]struct{}{}
}

func (h *hub) failStream(s *stream, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sb := range s.subs {
		h.endSubLocked(sb, CodeQueryBroken, "the live query failed: "+message)
	}
}

func (h *hub) detach(id int64) { h.detachN(id, 1) }

func (h *hub) detachN(id int64, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.st.detach(ctx, id, h.holder, n); err != nil && h.ctx.Err() == nil {
		h.log.Warn("live: detach", "stream", id, "err", err)
	}
}

// add joins subscription id of c to the stream pgr.attach returned (a): it
// sends subscribed, then either the deltas after the client's resume
// position or a snapshot, then whatever the stream already moved past.
func (h *hub) add(c *conn, id string, a attachment, resume *Position, reason string) {
	// subscribed must reach the client before any frame of the stream: it
	// may wait for room in the queue (this is the subscriber's own read loop).
	frame, _ := json.Marshal(Subscribed{T: TypeSubscribed, ID: id, S: a.Stream, Key: a.Key, Columns: a.Columns})
	if !c.sendWait(frame) {
		return
	}
	// Lock order: h.mu, then s.mu (as dropIdle), so the stream cannot be
	// forgotten between the lookup and the join.
	h.mu.Lock()
	s := h.streams[a.Stream]
	if s == nil {
		s = &stream{id: a.Stream, key: a.Key, epoch: a.Epoch, v: a.V, subs: map[*sub]struct{}{}}
		h.streams[a.Stream] = s
	}
	s.mu.Lock()
	h.mu.Unlock()
	defer s.mu.Unlock()
	if s.epoch != a.Epoch {
		s.epoch, s.v = a.Epoch, a.V
	}
	if resume != nil && reason == ReasonInitial {
		reason = ReasonResync
	}

	// Another subscription of this connection already follows the stream:
	// the client holds it at sb.v, unless it says otherwise.
	if sb := c.member(a.Stream); sb != nil {
		sb.ids[id] = struct{}{}
		c.adopt(id, sb)
		if resume == nil || resume.Epoch != s.epoch || resume.V != sb.v {
			h.snapshotLocked(sb, reason)
		}
		return
	}

	sb := &sub{c: c, s: s, ids: map[string]struct{}{id: {}}}
	c.adopt(id, sb)
	resumed := false
	if resume != nil && resume.Epoch == a.Epoch && resume.V >= 0 && resume.V <= a.V {
		if ds, err := h.st.deltas(h.ctx, a.Stream, resume.V); err == nil && contiguous(ds, resume.V, a.Epoch) {
			sb.v = resume.V
			for _, d := range ds {
				frame, err := encodeDelta(a.Stream, sb.v, d)
				if err != nil {
					break
				}
				if !c.send(frame) {
					sb.lagging = true
					c.lagged()
					break
				}
				sb.v = d.V
			}
			resumed = true
		}
	}
	if !resumed {
		frame, _ := json.Marshal(Snapshot{T: TypeSnapshot, S: a.Stream, Epoch: a.Epoch, V: a.V, Rows: a.Rows, Reason: reason})
		sb.v = a.V
		if !c.send(frame) {
			sb.lagging = true
			c.lagged()
		}
	}
	s.subs[sb] = struct{}{}
	// The stream may be ahead of what sb holds (this process delivered
	// versions sb's snapshot predates) or behind it (a notification is on its
	// way): catching up delivers whatever is missing, in order, to everyone.
	if sb.v < s.v {
		if ds, err := h.st.deltas(h.ctx, a.Stream, sb.v); err == nil && contiguous(ds, sb.v, a.Epoch) {
			for _, d := range ds {
				if d.V > s.v {
					break
				}
				frame, err := encodeDelta(a.Stream, d.V-1, d)
				if err != nil {
					break
				}
				h.deliverLocked(sb, d, frame)
			}
		} else {
			h.snapshotLocked(sb, ReasonResync)
		}
	}
	h.catchUpLocked(s)
}

// remove ends subscription id of c (unsubscribe, token expiry, close). It
// reports whether id was a subscription.
func (h *hub) remove(c *conn, id string) bool {
	sb := c.subscription(id)
	if sb == nil {
		return false
	}
	sb.s.mu.Lock()
	if !c.forget(id, sb) {
		sb.s.mu.Unlock()
		return false
	}
	delete(sb.ids, id)
	if len(sb.ids) == 0 {
		delete(sb.s.subs, sb)
		c.dropMember(sb)
	}
	sb.s.mu.Unlock()
	h.detach(sb.s.id)
	return true
}

// removeAll ends every subscription of c (the connection closed), with one
// detach per stream.
func (h *hub) removeAll(c *conn) {
	for _, sb := range c.subscriptions() {
		sb.s.mu.Lock()
		n := 0
		for id := range sb.ids {
			if c.forget(id, sb) {
				n++
			}
		}
		sb.ids = map[string]struct{}{}
		delete(sb.s.subs, sb)
		c.dropMember(sb)
		sb.s.mu.Unlock()
		if n > 0 {
			h.detachN(sb.s.id, n)
		}
	}
}

func contiguous(ds []loggedDelta, from int64, epoch string) bool {
	for i, d := range ds {
		if d.V != from+int64(i)+1 || d.Epoch != epoch {
			return false
		}
	}
	return true
}

func encodeDelta(stream, from int64, d loggedDelta) ([]byte, error) {
	var p struct {
		Inserted json.RawMessage `json:"inserted"`
		Updated  json.RawMessage `json:"updated"`
		Deleted  json.RawMessage `json:"deleted"`
	}
	if err := json.Unmarshal(d.Payload, &p); err != nil {
		return nil, err
	}
	return json.Marshal(Delta{T: TypeDelta, S: stream, Epoch: d.Epoch, From: d.V - 1, V: d.V,
		Inserted: p.Inserted, Updated: p.Updated, Deleted: p.Deleted, TS: nowMillis()})
}

// refreshLoop drives pg_reactive's refresher: a tick every RefreshInterval
// when changes are waiting. Ticks of several processes (or pg_reactive's own
// worker) exclude each other in the database, so any number of replicas may
// run this; while the background worker runs in the database, the loop only
// checks once a second, as a safety net.
func (h *hub) refreshLoop() {
	defer h.wg.Done()
	if h.opts.RefreshInterval <= 0 {
		return
	}
	const workerCheck, safetyNet = 5 * time.Second, time.Second
	var worker bool
	var checked time.Time
	t := time.NewTimer(h.opts.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		if time.Since(checked) > workerCheck {
			if ok, err := h.st.workerRunning(h.ctx); err == nil {
				worker = ok
			}
			checked = time.Now()
		}
		if worker {
			t.Reset(safetyNet)
		} else {
			t.Reset(h.opts.RefreshInterval)
		}
		pending, err := h.st.pending(h.ctx)
		if err != nil || !pending {
			continue
		}
		if _, err := h.st.refresh(h.ctx); err != nil && h.ctx.Err() == nil {
			h.log.Error("live: refresh", "err", err)
		}
	}
}

// heartbeatLoop renews leases, compares stream heads with what was
// delivered (a lost notification is caught here), collects expired streams
// and sends each connection the heads of its streams.
func (h *hub) heartbeatLoop() {
	defer h.wg.Done()
	t := time.NewTicker(h.opts.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		h.beat()
	}
}

func (h *hub) beat() {
	ctx := h.ctx
	if err := h.st.touch(ctx, h.holder); err != nil {
		if ctx.Err() == nil {
			h.log.Warn("live: renew leases", "err", err)
		}
		return
	}
	streams := h.allStreams()
	ids := make([]int64, 0, len(streams))
	for _, s := range streams {
		ids = append(ids, s.id)
	}
	if len(ids) > 0 {
		heads, err := h.st.heads(ctx, ids)
		if err != nil {
			return
		}
		seen := map[int64]head{}
		for _, hd := range heads {
			seen[hd.Stream] = hd
		}
		var behind []int64
		for _, s := range streams {
			hd, ok := seen[s.id]
			s.mu.Lock()
			v, n := s.v, len(s.subs)
			s.mu.Unlock()
			switch {
			case !ok && n > 0:
				s.mu.Lock()
				for sb := range s.subs {
					h.endSubLocked(sb, CodeQueryBroken, "the live query was re-registered or removed: subscribe again")
				}
				s.mu.Unlock()
			case ok && hd.Error != nil:
				h.failStream(s, *hd.Error)
			case ok && hd.V > v:
				behind = append(behind, s.id)
			}
		}
		h.markPending(behind...)
		h.dropIdle()
	}
	if err := h.st.gc(ctx); err != nil && ctx.Err() == nil {
		h.log.Warn("live: collect streams", "err", err)
	}
	h.mu.Lock()
	conns := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		heads := map[string]int64{}
		for _, sb := range c.subscriptions() {
			sb.s.mu.Lock()
			heads[strconv.FormatInt(sb.s.id, 10)] = sb.s.v
			sb.s.mu.Unlock()
		}
		frame, _ := json.Marshal(Heartbeat{T: TypeHeartbeat, TS: nowMillis(), Heads: heads})
		c.send(frame)
	}
}

// dropIdle forgets streams no subscriber of this process follows.
func (h *hub) dropIdle() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, s := range h.streams {
		s.mu.Lock()
		if len(s.subs) == 0 {
			delete(h.streams, id)
		}
		s.mu.Unlock()
	}
}
