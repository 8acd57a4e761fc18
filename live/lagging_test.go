package live_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pgstack/pgstack/live"
)

// A client that stops reading while large deltas keep coming fills its
// queue; it then misses deltas, and once it reads again it gets a lagging
// snapshot at the current version, never a gap.
func TestSlowClientGetsALaggingSnapshot(t *testing.T) {
	e := newLiveEnv(t)
	bridge := live.New(e.Pools.Owner.Config(), live.Options{Keys: e.Keys, QueueSize: 2,
		HeartbeatInterval: time.Hour, RefreshInterval: 5 * time.Millisecond})
	srv := httptest.NewServer(bridge)
	t.Cleanup(srv.Close)
	url := "ws" + strings.TrimPrefix(srv.URL, "http")

	c := dial(t, url, e.token(t, alice, time.Hour))
	m := c.subscribe("mine", "active_todos", nil)

	// Not reading: 60 updates of a 256 KB row overflow the socket buffers
	// and the two-frame queue.
	big := strings.Repeat("x", 256<<10)
	e.exec(t, `insert into todos values (1, $1, 'start')`, alice)
	for i := range 60 {
		e.exec(t, `update todos set title = $1 || $2::int where id = 1`, big, i)
	}
	e.exec(t, `update todos set title = 'done' where id = 1`)

	c.waitUntil("the final row", func() bool { return m.rows["1"]["title"] == "done" })
	if want := e.queryInt(t, `select max(v) from pgr.stream`); m.v != want {
		t.Fatalf("client at v%d, stream at v%d", m.v, want)
	}
	lagging := false
	for _, r := range m.snaps {
		lagging = lagging || r == "lagging"
	}
	if !lagging {
		t.Fatalf("no lagging snapshot (snapshots %v, %d deltas); the queue never filled", m.snaps, m.deltas)
	}
}
