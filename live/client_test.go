package live_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// client is a pgr.v1 test client that materialises its subscriptions the way
// an SDK does, and fails the test on any protocol violation: a delta whose
// from is not the version held, or a frame for an unknown stream.
type client struct {
	t   testing.TB
	ws  *websocket.Conn
	ctx context.Context

	ids    map[int64]string // stream -> subscription id
	subs   map[string]*materialized
	frames []map[string]any // every frame received, in order
	errors []map[string]any
}

type materialized struct {
	s        int64
	epoch    string
	v        int64
	key      []string
	rows     map[string]map[string]any
	deltas   int
	snaps    []string // reasons of the snapshots received
	versions []int64  // every version applied, in order
}

func wsURL(httpURL string) string {
	return "ws" + strings.TrimPrefix(httpURL, "http") + "/live/v1"
}

func dial(t testing.TB, url, token string) *client {
	t.Helper()
	return dialWith(t, url, token, nil)
}

// dialWith dials through httpClient (nil: the default one).
func dialWith(t testing.TB, url, token string, httpClient *http.Client) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"pgr.v1"}, HTTPClient: httpClient})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	ws.SetReadLimit(64 << 20)
	c := &client{t: t, ws: ws, ctx: ctx, ids: map[int64]string{}, subs: map[string]*materialized{}}
	t.Cleanup(func() { _ = ws.CloseNow() })
	c.send(map[string]any{"t": "hello", "token": token})
	if m := c.waitType("welcome"); m == nil {
		t.Fatal("no welcome")
	}
	return c
}

func (c *client) send(v any) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	if err := c.ws.Write(c.ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next reads and applies one frame, or returns nil at the deadline.
func (c *client) next(deadline time.Duration) map[string]any {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, deadline)
	defer cancel()
	_, data, err := c.ws.Read(ctx)
	if err != nil {
		if ctx.Err() != nil && c.ctx.Err() == nil {
			// coder/websocket closes the connection when a read is cancelled.
			return nil
		}
		c.t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		c.t.Fatalf("frame is not JSON: %s", data)
	}
	c.frames = append(c.frames, m)
	c.apply(m, data)
	return m
}

func (c *client) apply(m map[string]any, raw []byte) {
	c.t.Helper()
	switch m["t"] {
	case "subscribed":
		id := m["id"].(string)
		s := int64(m["s"].(float64))
		var key []string
		for _, k := range m["key"].([]any) {
			key = append(key, k.(string))
		}
		c.ids[s] = id
		old := c.subs[id]
		mat := &materialized{s: s, key: key, rows: map[string]map[string]any{}}
		if old != nil && old.s == s {
			// A resume keeps what the client holds.
			mat = old
		}
		c.subs[id] = mat
	case "snapshot":
		mat := c.stream(m)
		mat.epoch = m["epoch"].(string)
		mat.v = int64(m["v"].(float64))
		mat.rows = map[string]map[string]any{}
		for _, r := range m["rows"].([]any) {
			row := r.(map[string]any)
			mat.rows[keyOf(mat.key, row)] = row
		}
		mat.snaps = append(mat.snaps, m["reason"].(string))
	case "delta":
		mat := c.stream(m)
		from, v := int64(m["from"].(float64)), int64(m["v"].(float64))
		if m["epoch"] != mat.epoch {
			c.t.Fatalf("delta of epoch %v while holding %s: %s", m["epoch"], mat.epoch, raw)
		}
		if from != mat.v || v <= from {
			c.t.Fatalf("delta from %d to %d while holding %d", from, v, mat.v)
		}
		for _, r := range m["deleted"].([]any) {
			delete(mat.rows, keyOf(mat.key, r.(map[string]any)))
		}
		for _, list := range []string{"inserted", "updated"} {
			for _, r := range m[list].([]any) {
				row := r.(map[string]any)
				mat.rows[keyOf(mat.key, row)] = row
			}
		}
		mat.v = v
		mat.deltas++
		mat.versions = append(mat.versions, v)
	case "error":
		c.errors = append(c.errors, m)
	}
}

func (c *client) stream(m map[string]any) *materialized {
	c.t.Helper()
	s := int64(m["s"].(float64))
	id, ok := c.ids[s]
	if !ok {
		c.t.Fatalf("frame for unknown stream %d: %v", s, m)
	}
	return c.subs[id]
}

func keyOf(cols []string, row map[string]any) string {
	parts := make([]string, len(cols))
	for i, k := range cols {
		parts[i] = fmt.Sprint(row[k])
	}
	return strings.Join(parts, "|")
}

// frameWait bounds how long a test waits for frames before it fails. It
// only matters when something is wrong: the heaviest tests (megabytes of
// deltas decoded under -race, beside other packages' tests on two cores)
// have taken over 10 s in CI.
const frameWait = 30 * time.Second

// waitType reads until a frame of type typ arrives (frameWait at most).
func (c *client) waitType(typ string) map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(frameWait)
	for time.Now().Before(deadline) {
		m := c.next(time.Until(deadline))
		if m == nil {
			break
		}
		if m["t"] == typ {
			return m
		}
	}
	c.t.Fatalf("no %s frame within %v; got %v", typ, frameWait, c.frameTypes())
	return nil
}

// waitUntil reads frames until cond holds (frameWait at most).
func (c *client) waitUntil(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(frameWait)
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out waiting for %s; frame types: %v", what, c.frameTypes())
		}
		c.next(time.Until(deadline))
	}
}

func (c *client) subscribe(id, query string, params map[string]any) *materialized {
	c.t.Helper()
	msg := map[string]any{"t": "subscribe", "id": id, "query": query}
	if params != nil {
		msg["params"] = params
	}
	c.send(msg)
	c.waitUntil("snapshot of "+id, func() bool { return c.subs[id] != nil && len(c.subs[id].snaps) > 0 })
	return c.subs[id]
}

// keys returns the sorted keys of a subscription's rows.
func (m *materialized) keys() []string {
	out := make([]string, 0, len(m.rows))
	for k := range m.rows {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// dialRaw connects without sending hello.
func dialRaw(t testing.TB, url string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"pgr.v1"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = ws.CloseNow() })
	return &client{t: t, ws: ws, ctx: ctx, ids: map[int64]string{}, subs: map[string]*materialized{}}
}

// frameTypes summarises the frames received, for failure messages.
func (c *client) frameTypes() []string {
	out := make([]string, 0, len(c.frames))
	for _, f := range c.frames {
		s := fmt.Sprint(f["t"])
		if v, ok := f["v"]; ok {
			s += fmt.Sprintf("(v%v)", v)
		}
		if code, ok := f["code"]; ok {
			s += fmt.Sprintf("(%v)", code)
		}
		out = append(out, s)
	}
	return out
}
