package live_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pgstack/pgstack/live"
)

// slowClient subscribes through a bridge with a two-frame queue, then stops
// reading while writes produce large deltas. Both ends of its connection
// have small fixed socket buffers: left to autotuning, loopback buffers can
// grow to tens of megabytes and swallow every delta, so the queue would
// never fill.
func slowClient(t *testing.T, e *liveEnv, maxBacklog int) (*client, *materialized) {
	t.Helper()
	bridge := live.New(e.Pools.Owner.Config(), live.Options{Keys: e.Keys, QueueSize: 2, MaxBacklogBytes: maxBacklog,
		HeartbeatInterval: time.Hour, RefreshInterval: 5 * time.Millisecond})
	srv := httptest.NewUnstartedServer(bridge)
	srv.Listener = smallBuffers{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close)
	dialer := &net.Dialer{}
	httpClient := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err == nil {
			err = setBuffers(c)
		}
		return c, err
	}}}
	c := dialWith(t, "ws"+strings.TrimPrefix(srv.URL, "http"), e.UserToken(t, alice, time.Hour), httpClient)
	return c, c.subscribe("mine", "active_todos", nil)
}

// smallBuffers gives every accepted connection small fixed socket buffers.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		err = setBuffers(c)
	}
	return c, err
}

// setBuffers fixes c's socket buffers at 64 KB, which turns their
// autotuning off.
func setBuffers(c net.Conn) error {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil
	}
	if err := tc.SetReadBuffer(64 << 10); err != nil {
		return err
	}
	return tc.SetWriteBuffer(64 << 10)
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
