package live

import (
	"encoding/json"
	"time"
)

// Subprotocol is the WebSocket subprotocol of /live/v1.
const Subprotocol = "pgr.v1"

// Message types. Every frame is a JSON object with a "t" field.
const (
	// Client to server.
	TypeHello       = "hello"
	TypeSubscribe   = "subscribe"
	TypeUnsubscribe = "unsubscribe"
	TypeAuth        = "auth"
	TypePing        = "ping"

	// Server to client.
	TypeWelcome      = "welcome"
	TypeSubscribed   = "subscribed"
	TypeUnsubscribed = "unsubscribed"
	TypeSnapshot     = "snapshot"
	TypeDelta        = "delta"
	TypeError        = "error"
	TypeHeartbeat    = "heartbeat"
	TypePong         = "pong"
)

// Snapshot reasons.
const (
	ReasonInitial = "initial"
	ReasonResync  = "resync"
	ReasonLagging = "lagging"
	ReasonReauth  = "reauth"
)

// Error codes sent in error frames.
const (
	CodeBadMessage    = "bad_message"
	CodeUnauthorized  = "unauthorized"
	CodeTokenExpired  = "token_expired"
	CodeQueryUnknown  = "query_unknown"
	CodeInvalidParams = "invalid_params"
	CodeForbidden     = "forbidden"
	CodeQueryBroken   = "query_broken"
	CodeTooMany       = "too_many_subscriptions"
	CodeOverloaded    = "overloaded"
	CodeUnavailable   = "unavailable"
	CodeInternal      = "internal"
)

// ClientMessage is any client frame; which fields matter depends on T.
type ClientMessage struct {
	T      string          `json:"t"`
	Token  string          `json:"token,omitempty"`
	ID     string          `json:"id,omitempty"`
	Query  string          `json:"query,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Resume *Position       `json:"resume,omitempty"`
	TS     int64           `json:"ts,omitempty"`
}

// Position is a version of a stream: the client holds the result at V.
type Position struct {
	Epoch string `json:"epoch"`
	V     int64  `json:"v"`
}

// Welcome answers hello.
type Welcome struct {
	T           string `json:"t"`
	Session     string `json:"session"`
	Role        string `json:"role"`
	HeartbeatMS int64  `json:"heartbeat_ms"`
}

// Subscribed maps a client's subscription id to the stream id s that later
// frames carry.
type Subscribed struct {
	T       string   `json:"t"`
	ID      string   `json:"id"`
	S       int64    `json:"s"`
	Key     []string `json:"key"`
	Columns []string `json:"columns"`
}

// Unsubscribed acknowledges unsubscribe.
type Unsubscribed struct {
	T  string `json:"t"`
	ID string `json:"id"`
}

// Snapshot is the full result of stream S at version V.
type Snapshot struct {
	T      string          `json:"t"`
	S      int64           `json:"s"`
	Epoch  string          `json:"epoch"`
	V      int64           `json:"v"`
	Rows   json.RawMessage `json:"rows"`
	Reason string          `json:"reason"`
}

// Delta moves stream S from version From to V. Clients apply it only when
// they hold From.
type Delta struct {
	T        string          `json:"t"`
	S        int64           `json:"s"`
	Epoch    string          `json:"epoch"`
	From     int64           `json:"from"`
	V        int64           `json:"v"`
	Inserted json.RawMessage `json:"inserted"`
	Updated  json.RawMessage `json:"updated"`
	Deleted  json.RawMessage `json:"deleted"`
	TS       int64           `json:"ts"`
}

// ErrorMessage reports a problem with one subscription (ID set) or the
// connection (Fatal: the server closes it).
type ErrorMessage struct {
	T       string `json:"t"`
	ID      string `json:"id,omitempty"`
	S       int64  `json:"s,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Fatal   bool   `json:"fatal,omitempty"`
}

// Heartbeat carries the version of every stream the connection follows, so
// a client can detect a gap without traffic.
type Heartbeat struct {
	T     string           `json:"t"`
	TS    int64            `json:"ts"`
	Heads map[string]int64 `json:"heads"`
}

// Pong answers ping.
type Pong struct {
	T  string `json:"t"`
	TS int64  `json:"ts"`
}

func nowMillis() int64 { return time.Now().UnixMilli() }
