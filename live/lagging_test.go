package live_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pgstack/pgstack/live"
)

// slowClient subscribes through a bridge with a two-frame queue, then stops
// reading while writes produce large deltas.
func slowClient(t *testing.T, e *liveEnv, maxBacklog int) (*client, *materialized) {
	t.Helper()
	bridge := live.New(e.Pools.Owner.Config(), live.Options{Keys: e.Keys, QueueSize: 2, MaxBacklogBytes: maxBacklog,
		HeartbeatInterval: time.Hour, RefreshInterval: 5 * time.Millisecond})
	srv := httptest.NewServer(bridge)
	t.Cleanup(srv.Close)
	c := dial(t, "ws"+strings.TrimPrefix(srv.URL, "http"), e.UserToken(t, alice, time.Hour))
	return c, c.subscribe("mine", "active_todos", nil)
}

func (e *liveEnv) caughtUp(t *testing.T, c *client, m *materialized, last string) {
	t.Helper()
	c.waitUntil("the last write", func() bool { return m.rows["1"] != nil && m.rows["1"]["title"] == last })
	if want := e.queryInt(t, `select max(v) from pgr.stream`); m.v != want {
		t.Fatalf("client at v%d, stream at v%d", m.v, want)
	}
}

// A client that stops reading while one row keeps changing fills its queue;
// what it missed arrives as one merged delta once it reads again.
func TestSlowClientGetsACoalescedDelta(t *testing.T) {
	e := newLiveEnv(t)
	c, m := slowClient(t, e, 0)
	fillQueue(t, e)
	e.caughtUp(t, c, m, "done")
	merged := false
	for _, f := range c.frames {
		if f["t"] == "delta" && f["v"].(float64)-f["from"].(float64) > 1 {
			merged = true
		}
	}
	if !merged {
		t.Fatalf("no merged delta (frames %v); the queue never filled", c.frameTypes())
	}
}

// fillQueue writes 60 versions of a 256 KB row: more than the socket
// buffers and a two-frame queue hold.
func fillQueue(t *testing.T, e *liveEnv) {
	t.Helper()
	big := strings.Repeat("x", 256<<10)
	e.exec(t, `insert into todos values (1, $1, 'start')`, alice)
	for i := range 60 {
		e.exec(t, `update todos set title = $1 || $2::int where id = 1`, big, i)
	}
	e.exec(t, `update todos set title = 'done' where id = 1`)
}

// Past the backlog's limit, the client gets a lagging snapshot at the
// current version instead, never a gap.
func TestSlowClientGetsALaggingSnapshot(t *testing.T) {
	e := newLiveEnv(t)
	c, m := slowClient(t, e, 64<<10)
	fillQueue(t, e)
	e.caughtUp(t, c, m, "done")
	lagging := false
	for _, r := range m.snaps {
		lagging = lagging || r == "lagging"
	}
	if !lagging {
		t.Fatalf("no lagging snapshot (frames %v)", c.frameTypes())
	}
}
