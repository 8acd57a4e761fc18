package live_test

import (
	"context"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgstack/pgstack/internal/apitest"
	"github.com/pgstack/pgstack/internal/config"
	"github.com/pgstack/pgstack/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const (
	alice = "00000000-0000-0000-0000-00000000000a"
	bob   = "00000000-0000-0000-0000-00000000000b"
)

const todosSchema = `
create table public.todos (
  id int primary key,
  owner uuid not null,
  title text not null,
  done boolean not null default false
);
alter table public.todos enable row level security;
create policy todos_owner on public.todos using (owner = (select auth.uid()));
grant select, insert, update, delete on public.todos to authenticated;
select pgr.register('active_todos', $$select id, owner, title from public.todos where not done$$, key => 'id');
`

type liveEnv struct {
	*apitest.Env
	url string
}

func newLiveEnv(t *testing.T, configure ...func(*config.Config)) *liveEnv {
	t.Helper()
	e := newLiveEnvTB(t, configure...)
	e.DB.Exec(t, todosSchema)
	return e
}

func newLiveEnvTB(t testing.TB, configure ...func(*config.Config)) *liveEnv {
	t.Helper()
	env := apitest.New(t, append([]func(*config.Config){func(c *config.Config) {
		c.LiveHeartbeatInterval = 200 * time.Millisecond
	}}, configure...)...)
	return &liveEnv{Env: env, url: wsURL(env.Serve(t))}
}

// exec runs SQL as the superuser.
func (e *liveEnv) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	e.DB.Exec(t, sql, args...)
}

// queryInt runs a query returning one integer as the superuser.
func (e *liveEnv) queryInt(t *testing.T, sql string, args ...any) int64 {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), e.DB.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func TestOwnerOnlyPolicyReachesExactlyTheRightUser(t *testing.T) {
	e := newLiveEnv(t)
	e.exec(t, `insert into todos values (1, $1, 'alice one'), (2, $2, 'bob one')`, alice, bob)

	a := dial(t, e.url, e.UserToken(t, alice, time.Hour))
	b := dial(t, e.url, e.UserToken(t, bob, time.Hour))
	am := a.subscribe("mine", "active_todos", nil)
	bm := b.subscribe("mine", "active_todos", nil)
	if got := am.keys(); !reflect.DeepEqual(got, []string{"1"}) {
		t.Fatalf("alice's snapshot = %v, want [1]", got)
	}
	if got := bm.keys(); !reflect.DeepEqual(got, []string{"2"}) {
		t.Fatalf("bob's snapshot = %v, want [2]", got)
	}
	if am.s == bm.s {
		t.Fatal("alice and bob share a stream although the policy reads sub")
	}

	// Insert for alice: alice gets it; bob's next delta (his own insert) must
	// not carry it.
	e.exec(t, `insert into todos values (3, $1, 'alice two')`, alice)
	a.waitUntil("alice sees 3", func() bool { return am.rows["3"] != nil })
	e.exec(t, `insert into todos values (4, $1, 'bob two')`, bob)
	b.waitUntil("bob sees 4", func() bool { return bm.rows["4"] != nil })
	if bm.rows["3"] != nil || am.rows["4"] != nil {
		t.Fatal("a row reached the other user")
	}

	// Update.
	e.exec(t, `update todos set title = 'alice one, renamed' where id = 1`)
	a.waitUntil("alice sees the update", func() bool { return am.rows["1"]["title"] == "alice one, renamed" })

	// A row moving out of the WHERE is a delete; moving back in an insert.
	e.exec(t, `update todos set done = true where id = 3`)
	a.waitUntil("3 leaves alice's result", func() bool { return am.rows["3"] == nil })
	e.exec(t, `update todos set done = false where id = 3`)
	a.waitUntil("3 comes back", func() bool { return am.rows["3"] != nil })

	// A row changing owner moves from one user's result to the other's:
	// deletes go through RLS too.
	e.exec(t, `update todos set owner = $1 where id = 1`, bob)
	a.waitUntil("1 leaves alice", func() bool { return am.rows["1"] == nil })
	b.waitUntil("1 reaches bob", func() bool { return bm.rows["1"] != nil })

	// Delete.
	e.exec(t, `delete from todos where id = 4`)
	b.waitUntil("4 is deleted for bob", func() bool { return bm.rows["4"] == nil })

	// The client applied every delta in order (client.apply fails the test
	// otherwise); the versions it went through are 1, 2, 3, ...
	for name, m := range map[string]*materialized{"alice": am, "bob": bm} {
		for i, v := range m.versions {
			if v != int64(i+1) {
				t.Fatalf("%s's versions = %v, want contiguous from 1", name, m.versions)
			}
		}
	}
	if got := am.keys(); !reflect.DeepEqual(got, []string{"3"}) {
		t.Fatalf("alice holds %v, want [3]", got)
	}
	if got := bm.keys(); !reflect.DeepEqual(got, []string{"1", "2"}) {
		t.Fatalf("bob holds %v, want [1 2]", got)
	}
	if len(a.errors)+len(b.errors) > 0 {
		t.Fatalf("errors: %v %v", a.errors, b.errors)
	}
}

func TestRolledBackWriteSendsNothing(t *testing.T) {
	e := newLiveEnv(t)
	a := dial(t, e.url, e.UserToken(t, alice, time.Hour))
	am := a.subscribe("mine", "active_todos", nil)

	conn, err := pgx.Connect(context.Background(), e.DB.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), `insert into todos values (10, $1, 'never')`, alice); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.exec(t, `insert into todos values (11, $1, 'committed')`, alice)
	a.waitUntil("the committed row", func() bool { return am.rows["11"] != nil })
	if am.rows["10"] != nil || am.deltas != 1 {
		t.Fatalf("after a rolled-back and a committed insert: rows %v, %d deltas; want only 11 in one delta", am.keys(), am.deltas)
	}
}

func TestResumeGetsExactlyTheMissedDeltas(t *testing.T) {
	e := newLiveEnv(t)
	tok := e.UserToken(t, alice, time.Hour)
	a := dial(t, e.url, tok)
	am := a.subscribe("mine", "active_todos", nil)
	e.exec(t, `insert into todos values (1, $1, 'one')`, alice)
	a.waitUntil("v1", func() bool { return am.v == 1 })
	held := *am
	_ = a.ws.CloseNow()

	// Another subscriber keeps the stream alive and shows when the writes
	// below were refreshed.
	w := dial(t, e.url, tok)
	wm := w.subscribe("mine", "active_todos", nil)
	e.exec(t, `insert into todos values (2, $1, 'two')`, alice)
	w.waitUntil("v2", func() bool { return wm.v == 2 })
	e.exec(t, `update todos set title = 'one!' where id = 1`)
	w.waitUntil("v3", func() bool { return wm.v == 3 })

	r := dial(t, e.url, tok)
	rm := &held
	rm.snaps, rm.versions, rm.deltas = nil, nil, 0
	r.subs["mine"] = rm
	r.ids[rm.s] = "mine"
	r.send(map[string]any{"t": "subscribe", "id": "mine", "query": "active_todos",
		"resume": map[string]any{"epoch": held.epoch, "v": held.v}})
	r.waitUntil("v3 after resume", func() bool { return rm.v == 3 })
	if len(rm.snaps) != 0 {
		t.Fatalf("resume sent a snapshot (%v) although the log covers the gap", rm.snaps)
	}
	if !reflect.DeepEqual(rm.versions, []int64{2, 3}) {
		t.Fatalf("resumed versions = %v, want [2 3]", rm.versions)
	}
	if rm.rows["1"]["title"] != "one!" || rm.rows["2"] == nil {
		t.Fatalf("resumed rows = %v", rm.rows)
	}

	// An unknown epoch gets a fresh snapshot.
	r.send(map[string]any{"t": "subscribe", "id": "again", "query": "active_todos",
		"resume": map[string]any{"epoch": "nope", "v": 1}})
	r.waitUntil("resync snapshot", func() bool { return r.subs["again"] != nil && len(r.subs["again"].snaps) == 1 })
	if r.subs["again"].snaps[0] != "resync" || r.subs["again"].v != 3 {
		t.Fatalf("snapshot reason %v at v%d, want resync at v3", r.subs["again"].snaps, r.subs["again"].v)
	}
}

func TestLostListenConnectionLosesNothing(t *testing.T) {
	e := newLiveEnv(t)
	a := dial(t, e.url, e.UserToken(t, alice, time.Hour))
	am := a.subscribe("mine", "active_todos", nil)

	// Kill the bridge's LISTEN connection, then write at once.
	if n := e.queryInt(t, `select count(pg_terminate_backend(pid)) from pg_stat_activity
	           where datname = current_database() and query = 'LISTEN pgr'`); n != 1 {
		t.Fatalf("terminated %d LISTEN connections, want 1", n)
	}
	for i := 1; i <= 5; i++ {
		e.exec(t, `insert into todos values ($1, $2, 'x')`, i, alice)
	}
	a.waitUntil("all five rows", func() bool { return len(am.rows) == 5 })
}

func TestTokenExpiryEndsSubscriptions(t *testing.T) {
	e := newLiveEnv(t)
	a := dial(t, e.url, e.UserToken(t, alice, 2*time.Second))
	a.subscribe("mine", "active_todos", nil)
	m := a.waitType("error")
	if m["code"] != "token_expired" || m["id"] != "mine" {
		t.Fatalf("error = %v, want token_expired for mine", m)
	}
}

func TestBadInput(t *testing.T) {
	e := newLiveEnv(t)
	a := dial(t, e.url, e.UserToken(t, alice, time.Hour))

	a.send(map[string]any{"t": "subscribe", "id": "x", "query": "no_such_query"})
	if m := a.waitType("error"); m["code"] != "query_unknown" || m["id"] != "x" {
		t.Fatalf("unknown query: %v", m)
	}
	a.send(map[string]any{"t": "subscribe", "id": "y", "query": "active_todos", "params": []int{1}})
	if m := a.waitType("error"); m["code"] != "invalid_params" {
		t.Fatalf("params not an object: %v", m)
	}
	a.send(map[string]any{"t": "subscribe", "query": "active_todos"})
	if m := a.waitType("error"); m["code"] != "bad_message" {
		t.Fatalf("no id: %v", m)
	}
	a.send(map[string]any{"t": "launch"})
	if m := a.waitType("error"); m["code"] != "bad_message" {
		t.Fatalf("unknown type: %v", m)
	}

	// A bad token in hello is fatal.
	b := dialRaw(t, e.url)
	b.send(map[string]any{"t": "hello", "token": "not-a-jwt"})
	if m := b.waitType("error"); m["code"] != "unauthorized" || m["fatal"] != true {
		t.Fatalf("bad hello token: %v", m)
	}
}
