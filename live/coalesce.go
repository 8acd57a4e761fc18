package live

import (
	"encoding/json"
	"strings"
)

// maxBacklogRows bounds a backlog's distinct rows; Options.MaxBacklogBytes
// bounds its size. Past either, a lagging subscription gets a snapshot
// instead of one merged delta.
const maxBacklogRows = 5000

// backlog merges the deltas a subscription could not be sent while its
// connection's queue was full into one net delta from..v: a row inserted and
// then deleted disappears, updates keep the last row image, a row deleted
// and inserted again becomes an update.
type backlog struct {
	from, v int64
	epoch   string
	rows    map[string]*netRow
	order   []string
	bytes   int
}

type netRow struct {
	existed bool            // the client holds the key at from
	row     json.RawMessage // nil: deleted
	key     json.RawMessage // the key object, for deletes
}

func newBacklog(from int64, epoch string) *backlog {
	return &backlog{from: from, v: from, epoch: epoch, rows: map[string]*netRow{}}
}

// merge adds the logged delta d (version b.v+1); false means the backlog is
// past its limits or d does not decode.
func (b *backlog) merge(d loggedDelta, keyCols []string, maxBytes int) bool {
	var p struct {
		Inserted []json.RawMessage `json:"inserted"`
		Updated  []json.RawMessage `json:"updated"`
		Deleted  []json.RawMessage `json:"deleted"`
	}
	if err := json.Unmarshal(d.Payload, &p); err != nil {
		return false
	}
	set := func(raw json.RawMessage, row json.RawMessage, existedIfNew bool) bool {
		k, ok := rowKey(raw, keyCols)
		if !ok {
			return false
		}
		e := b.rows[k]
		if e == nil {
			e = &netRow{existed: existedIfNew}
			b.rows[k] = e
			b.order = append(b.order, k)
		}
		b.bytes += len(row) - len(e.row) // what the merged delta will carry
		e.row = row
		if row == nil {
			e.key = raw
		}
		return true
	}
	for _, k := range p.Deleted {
		if !set(k, nil, true) {
			return false
		}
	}
	for _, r := range p.Inserted {
		if !set(r, r, false) {
			return false
		}
	}
	for _, r := range p.Updated {
		if !set(r, r, true) {
			return false
		}
	}
	b.v = d.V
	return len(b.rows) <= maxBacklogRows && b.bytes <= maxBytes
}

// frame encodes the net delta.
func (b *backlog) frame(stream int64) []byte {
	ins, upd, del := []json.RawMessage{}, []json.RawMessage{}, []json.RawMessage{}
	for _, k := range b.order {
		e := b.rows[k]
		switch {
		case e.row != nil && e.existed:
			upd = append(upd, e.row)
		case e.row != nil:
			ins = append(ins, e.row)
		case e.existed:
			del = append(del, e.key)
		}
	}
	enc := func(v []json.RawMessage) json.RawMessage { b, _ := json.Marshal(v); return b }
	frame, _ := json.Marshal(Delta{T: TypeDelta, S: stream, Epoch: b.epoch, From: b.from, V: b.v,
		Inserted: enc(ins), Updated: enc(upd), Deleted: enc(del), TS: nowMillis()})
	return frame
}

// rowKey is the identity of a row (or key object) by its key columns.
func rowKey(raw json.RawMessage, keyCols []string) (string, bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", false
	}
	parts := make([]string, len(keyCols))
	for i, c := range keyCols {
		parts[i] = string(m[c])
	}
	return strings.Join(parts, "\x00"), true
}
