package live_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/pgstack/pgstack/internal/server"
)

// replica starts a second server over e's database, as another proxy
// replica would run.
func (e *liveEnv) replica(t *testing.T) string {
	t.Helper()
	srv, err := server.New(server.Deps{Config: e.Config, DB: e.DB.Open(t), Keys: e.Keys, Version: "test",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return wsURL(hs.URL)
}

func TestReplicasServeTheSameStreams(t *testing.T) {
	e := newLiveEnv(t)
	other := e.replica(t)
	tok := e.UserToken(t, alice, time.Hour)
	a := dial(t, e.url, tok)
	b := dial(t, other, tok)
	am := a.subscribe("mine", "active_todos", nil)
	bm := b.subscribe("mine", "active_todos", nil)
	if am.s != bm.s {
		t.Fatalf("streams %d and %d: the same cohort on two replicas must share one stream", am.s, bm.s)
	}
	for i := 1; i <= 3; i++ {
		e.exec(t, `insert into todos values ($1, $2, 'x')`, i, alice)
	}
	a.waitUntil("3 rows on replica 1", func() bool { return len(am.rows) == 3 })
	b.waitUntil("3 rows on replica 2", func() bool { return len(bm.rows) == 3 })
	if !reflect.DeepEqual(am.versions, bm.versions) {
		t.Fatalf("versions differ between replicas: %v and %v", am.versions, bm.versions)
	}

	// A client of replica 1 resumes on replica 2.
	held := *am
	_ = a.ws.CloseNow()
	e.exec(t, `delete from todos where id = 1`)
	b.waitUntil("the delete on replica 2", func() bool { return bm.rows["1"] == nil })
	r := dial(t, other, tok)
	rm := &held
	rm.snaps, rm.versions = nil, nil
	r.subs["mine"], r.ids[rm.s] = rm, "mine"
	r.send(map[string]any{"t": "subscribe", "id": "mine", "query": "active_todos",
		"resume": map[string]any{"epoch": held.epoch, "v": held.v}})
	r.waitUntil("resumed on replica 2", func() bool { return rm.v == bm.v })
	if len(rm.snaps) != 0 || rm.rows["1"] != nil || len(rm.rows) != 2 {
		t.Fatalf("resume on another replica: snapshots %v, rows %v", rm.snaps, rm.keys())
	}
}

func TestAuthRefreshMovesToTheNewCohort(t *testing.T) {
	e := newLiveEnv(t)
	e.exec(t, `insert into todos values (1, $1, 'alice'), (2, $2, 'bob')`, alice, bob)
	c := dial(t, e.url, e.UserToken(t, alice, time.Hour))
	m := c.subscribe("mine", "active_todos", nil)
	if !reflect.DeepEqual(m.keys(), []string{"1"}) {
		t.Fatalf("alice holds %v", m.keys())
	}
	c.send(map[string]any{"t": "auth", "token": e.UserToken(t, bob, time.Hour)})
	c.waitUntil("the reauth snapshot", func() bool { m = c.subs["mine"]; return len(m.snaps) > 0 && m.snaps[len(m.snaps)-1] == "reauth" })
	if !reflect.DeepEqual(m.keys(), []string{"2"}) {
		t.Fatalf("after auth as bob the subscription holds %v, want [2]", m.keys())
	}
	// The same identity again changes nothing.
	e.exec(t, `insert into todos values (3, $1, 'bob again')`, bob)
	c.waitUntil("bob's new row", func() bool { return m.rows["3"] != nil })
}

func TestOneFramePerStreamPerConnection(t *testing.T) {
	e := newLiveEnv(t)
	c := dial(t, e.url, e.UserToken(t, alice, time.Hour))
	one := c.subscribe("one", "active_todos", nil)
	two := c.subscribe("two", "active_todos", nil)
	if one.s != two.s {
		t.Fatalf("one cohort, two streams: %d %d", one.s, two.s)
	}
	e.exec(t, `insert into todos values (1, $1, 'x')`, alice)
	c.waitUntil("the insert", func() bool { return two.rows["1"] != nil })
	c.send(map[string]any{"t": "unsubscribe", "id": "one"})
	c.waitType("unsubscribed")
	e.exec(t, `insert into todos values (2, $1, 'y')`, alice)
	c.waitUntil("the second insert", func() bool { return two.rows["2"] != nil })
	deltas := 0
	for _, f := range c.frames {
		if f["t"] == "delta" {
			deltas++
		}
	}
	if deltas != 2 {
		t.Fatalf("%d delta frames for two changes of one stream followed twice, want 2", deltas)
	}
}

func TestHeartbeatCarriesHeads(t *testing.T) {
	e := newLiveEnv(t)
	c := dial(t, e.url, e.UserToken(t, alice, time.Hour))
	m := c.subscribe("mine", "active_todos", nil)
	e.exec(t, `insert into todos values (1, $1, 'x')`, alice)
	c.waitUntil("v1", func() bool { return m.v == 1 })
	// A heartbeat computed just before the delta went out may still say 0;
	// the next ones must say 1.
	var hb map[string]any
	for range 3 {
		hb = c.waitType("heartbeat")
		if heads, _ := hb["heads"].(map[string]any); heads[fmt.Sprint(m.s)] == 1.0 {
			return
		}
	}
	t.Fatalf("heartbeat heads = %v, want stream %d at 1", hb["heads"], m.s)
}

func TestPolicyChangeRestartsSubscriptions(t *testing.T) {
	e := newLiveEnv(t)
	c := dial(t, e.url, e.UserToken(t, alice, time.Hour))
	c.subscribe("mine", "active_todos", nil)
	e.exec(t, `create policy todos_shared on todos using (title = 'shared')`)
	m := c.waitType("error")
	if m["code"] != "query_broken" || m["id"] != "mine" {
		t.Fatalf("error = %v, want query_broken for mine", m)
	}
	// Subscribing again works under the new policies: alice now also sees
	// bob's shared row.
	e.exec(t, `insert into todos values (1, $1, 'shared')`, bob)
	again := c.subscribe("again", "active_todos", nil)
	if again.rows["1"] == nil {
		t.Fatalf("after the policy change alice holds %v, want bob's shared row", again.keys())
	}
}
