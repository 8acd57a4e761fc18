package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/pgstack/pgstack/internal/identity"
	"github.com/pgstack/pgstack/internal/jwt"
)

// conn is one WebSocket client: a read loop that handles its messages in
// order, and a writer draining a bounded queue.
type conn struct {
	h   *hub
	ws  *websocket.Conn
	out chan []byte

	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	ident   identity.Identity
	subs    map[string]*sub     // subscription id -> its stream membership
	members map[int64]*sub      // stream id -> membership
	states  map[string]subState // subscription id -> what it was made with
	expiry  *time.Timer

	lagPending atomic.Bool
	lagStrikes atomic.Int32
	failOnce   sync.Once
}

// subState is what a subscription was made with, to redo it on reauth.
type subState struct {
	query  string
	params json.RawMessage
}

func newConn(ctx context.Context, h *hub, ws *websocket.Conn) *conn {
	ctx, cancel := context.WithCancel(ctx)
	return &conn{h: h, ws: ws, out: make(chan []byte, h.opts.QueueSize), ctx: ctx, cancel: cancel,
		subs: map[string]*sub{}, members: map[int64]*sub{}, states: map[string]subState{}}
}

// send queues a frame; false means the queue is full (the caller decides
// what the subscriber misses). After the connection ended it is a no-op.
func (c *conn) send(frame []byte) bool {
	if c.ctx.Err() != nil {
		return true
	}
	select {
	case c.out <- frame:
		return true
	default:
		return false
	}
}

// lagged records that a subscription dropped a delta; once the queue drains
// the hub sends it a snapshot.
func (c *conn) lagged() { c.lagPending.Store(true) }

// fail sends a fatal error and closes the connection.
func (c *conn) fail(code, message string) {
	c.failOnce.Do(func() {
		frame, _ := json.Marshal(ErrorMessage{T: TypeError, Code: code, Message: message, Fatal: true})
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = c.ws.Write(ctx, websocket.MessageText, frame)
		status := websocket.StatusPolicyViolation
		if code == CodeOverloaded || code == CodeInternal || code == CodeUnavailable {
			status = websocket.StatusTryAgainLater
		}
		_ = c.ws.Close(status, code)
		c.cancel()
	})
}

func (c *conn) writeLoop() {
	for {
		select {
		case <-c.ctx.Done():
			return
		case frame := <-c.out:
			ctx, cancel := context.WithTimeout(c.ctx, c.h.opts.WriteTimeout)
			err := c.ws.Write(ctx, websocket.MessageText, frame)
			cancel()
			if err != nil {
				c.cancel()
				return
			}
			if len(c.out) == 0 && c.lagPending.Swap(false) {
				go c.h.recoverLagging(c)
			}
		}
	}
}

// subscriptions returns c's stream memberships.
func (c *conn) subscriptions() []*sub {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*sub, 0, len(c.members))
	for _, sb := range c.members {
		out = append(out, sb)
	}
	return out
}

func (c *conn) subscription(id string) *sub {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.subs[id]
}

func (c *conn) member(stream int64) *sub {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.members[stream]
}

func (c *conn) adopt(id string, sb *sub) {
	c.mu.Lock()
	c.subs[id] = sb
	c.members[sb.s.id] = sb
	c.mu.Unlock()
}

// forget removes subscription id if it still belongs to sb.
func (c *conn) forget(id string, sb *sub) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subs[id] == sb {
		delete(c.subs, id)
		delete(c.states, id)
		return true
	}
	return false
}

func (c *conn) dropMember(sb *sub) {
	c.mu.Lock()
	if c.members[sb.s.id] == sb {
		delete(c.members, sb.s.id)
	}
	c.mu.Unlock()
}

func (c *conn) ids() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.subs))
	for id := range c.subs {
		out = append(out, id)
	}
	return out
}

// sendWait queues a frame, waiting up to the write timeout for room; the
// connection is closed if none frees up. Only the connection's own read loop
// uses it (answers to the client's messages).
func (c *conn) sendWait(frame []byte) bool {
	t := time.NewTimer(c.h.opts.WriteTimeout)
	defer t.Stop()
	select {
	case c.out <- frame:
		return true
	case <-c.ctx.Done():
		return false
	case <-t.C:
		c.fail(CodeOverloaded, "the connection cannot keep up")
		return false
	}
}

func (c *conn) sendJSON(v any) {
	frame, _ := json.Marshal(v)
	c.sendWait(frame)
}

func (c *conn) sendError(id, code, message string) {
	c.sendJSON(ErrorMessage{T: TypeError, ID: id, Code: code, Message: message})
}

// run serves the connection until it ends.
func (c *conn) run() {
	go c.writeLoop()
	defer c.closeAll()

	helloCtx, cancel := context.WithTimeout(c.ctx, c.h.opts.HelloTimeout)
	msg, err := c.read(helloCtx)
	cancel()
	if err != nil {
		if c.ctx.Err() == nil {
			c.fail(CodeBadMessage, "the first message must be hello{token}")
		}
		return
	}
	if msg.T != TypeHello {
		c.fail(CodeBadMessage, "the first message must be hello{token}")
		return
	}
	if !c.authenticate(msg.Token, false) {
		return
	}
	c.sendJSON(Welcome{T: TypeWelcome, Session: c.h.holder, Role: c.identity().Role,
		HeartbeatMS: c.h.opts.HeartbeatInterval.Milliseconds()})

	for {
		msg, err := c.read(c.ctx)
		if err != nil {
			return
		}
		switch msg.T {
		case TypeSubscribe:
			c.subscribe(msg, ReasonInitial)
		case TypeUnsubscribe:
			c.unsubscribe(msg.ID)
		case TypeAuth:
			c.authenticate(msg.Token, true)
		case TypePing:
			c.sendJSON(Pong{T: TypePong, TS: msg.TS})
		case TypeHello:
			c.sendError("", CodeBadMessage, "hello was already received")
		default:
			c.sendError(msg.ID, CodeBadMessage, fmt.Sprintf("unknown message type %q", msg.T))
		}
	}
}

// read returns the next client message. A frame that is not a JSON object
// gets an error frame and is skipped.
func (c *conn) read(ctx context.Context) (ClientMessage, error) {
	for {
		typ, data, err := c.ws.Read(ctx)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return ClientMessage{}, err
			}
			c.cancel()
			return ClientMessage{}, err
		}
		var msg ClientMessage
		if typ != websocket.MessageText || json.Unmarshal(data, &msg) != nil || msg.T == "" {
			c.sendError("", CodeBadMessage, "frames are JSON text objects with a \"t\" field")
			continue
		}
		return msg, nil
	}
}

func (c *conn) identity() identity.Identity {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ident
}

// authenticate verifies token (empty: anon) and makes it the connection's
// identity. On refresh, subscriptions whose cohort changes get a snapshot
// under the new identity.
func (c *conn) authenticate(token string, refresh bool) bool {
	id := identity.Anonymous()
	var exp time.Time
	if token != "" {
		t, err := c.h.opts.Keys.Verify(token)
		if err != nil {
			code := CodeUnauthorized
			if errors.Is(err, jwt.ErrExpired) {
				code = CodeTokenExpired
			}
			if refresh {
				c.sendError("", code, "invalid token: "+err.Error())
				return false
			}
			c.fail(code, "invalid token: "+err.Error())
			return false
		}
		id = identity.Identity{Role: t.Role, Subject: t.Subject, Claims: t.Claims, Token: token}
		var claims struct {
			Exp *float64 `json:"exp"`
		}
		if json.Unmarshal(t.Claims, &claims) == nil && claims.Exp != nil {
			exp = time.Unix(int64(*claims.Exp), 0)
		}
	}

	c.mu.Lock()
	old := c.ident
	c.ident = id
	if c.expiry != nil {
		c.expiry.Stop()
		c.expiry = nil
	}
	if !exp.IsZero() {
		c.expiry = time.AfterFunc(time.Until(exp), c.expire)
	}
	redo := map[string]subState{}
	if refresh && (old.Role != id.Role || string(old.Claims) != string(id.Claims)) {
		for id, st := range c.states {
			redo[id] = st
		}
	}
	c.mu.Unlock()

	for id, st := range redo {
		if c.h.remove(c, id) {
			c.subscribe(ClientMessage{T: TypeSubscribe, ID: id, Query: st.query, Params: st.params}, ReasonReauth)
		}
	}
	return true
}

// expire ends every subscription when the token runs out; the client may
// send auth with a fresh token and subscribe again.
func (c *conn) expire() {
	for _, id := range c.ids() {
		if c.h.remove(c, id) {
			c.sendError(id, CodeTokenExpired, "the token expired: send auth{token} with a fresh one and subscribe again")
		}
	}
	c.mu.Lock()
	c.ident = identity.Anonymous()
	c.mu.Unlock()
}

const (
	maxIDLength     = 128
	maxParamsLength = 8 << 10
)

func (c *conn) subscribe(msg ClientMessage, reason string) {
	if msg.ID == "" || len(msg.ID) > maxIDLength {
		c.sendError("", CodeBadMessage, fmt.Sprintf("subscribe needs an id of 1 to %d characters", maxIDLength))
		return
	}
	if msg.Query == "" || len(msg.Query) > 63 {
		c.sendError(msg.ID, CodeQueryUnknown, "subscribe needs the name of a registered live query")
		return
	}
	params := msg.Params
	if len(params) == 0 || string(params) == "null" {
		params = json.RawMessage(`{}`)
	}
	var obj map[string]json.RawMessage
	if len(params) > maxParamsLength || json.Unmarshal(params, &obj) != nil {
		c.sendError(msg.ID, CodeInvalidParams, fmt.Sprintf("params must be a JSON object of at most %d bytes", maxParamsLength))
		return
	}
	c.mu.Lock()
	old := c.subs[msg.ID]
	n := len(c.subs)
	id := c.ident
	c.mu.Unlock()
	if old != nil {
		c.h.remove(c, msg.ID)
	} else if n >= c.h.opts.MaxSubscriptions {
		c.sendError(msg.ID, CodeTooMany, fmt.Sprintf("at most %d subscriptions per connection", c.h.opts.MaxSubscriptions))
		return
	}

	claims := id.Claims
	if len(claims) == 0 {
		claims = json.RawMessage(`{}`)
	}
	a, err := c.h.st.attach(c.ctx, msg.Query, params, id.Role, claims, c.h.holder)
	if err != nil {
		if c.ctx.Err() != nil {
			return
		}
		code, text := attachError(err)
		if code == CodeInternal {
			c.h.log.Error("live: attach", "query", msg.Query, "err", err)
		}
		c.sendError(msg.ID, code, text)
		return
	}
	c.mu.Lock()
	c.states[msg.ID] = subState{query: msg.Query, params: params}
	c.mu.Unlock()
	c.h.add(c, msg.ID, a, msg.Resume, reason)
	if c.ctx.Err() != nil {
		c.h.remove(c, msg.ID)
	}
}

func attachError(err error) (code, message string) {
	switch sqlState(err) {
	case "42704":
		return CodeQueryUnknown, "no live query is registered under this name"
	case "22023":
		return CodeInvalidParams, "params must be a JSON object"
	case "42501":
		return CodeForbidden, "this role may not read what the live query reads"
	case "":
		return CodeInternal, "the live query could not be attached"
	default:
		return CodeQueryBroken, "the live query failed for these parameters"
	}
}

func (c *conn) unsubscribe(id string) {
	c.h.remove(c, id)
	c.sendJSON(Unsubscribed{T: TypeUnsubscribed, ID: id})
}

// closeAll ends the connection's subscriptions.
func (c *conn) closeAll() {
	c.cancel()
	c.mu.Lock()
	if c.expiry != nil {
		c.expiry.Stop()
	}
	c.mu.Unlock()
	c.h.removeAll(c)
	_ = c.ws.CloseNow()
}
