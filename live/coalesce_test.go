package live

import (
	"encoding/json"
	"testing"
)

func TestBacklogMergesToTheNetChange(t *testing.T) {
	key := []string{"id"}
	b := newBacklog(4, "e")
	steps := []string{
		`{"inserted":[{"id":1,"t":"a"}],"updated":[{"id":2,"t":"b"}],"deleted":[{"id":3}]}`,
		`{"inserted":[],"updated":[{"id":1,"t":"a2"}],"deleted":[{"id":2}]}`,
		`{"inserted":[{"id":3,"t":"back"},{"id":5,"t":"gone"}],"updated":[],"deleted":[]}`,
		`{"inserted":[],"updated":[],"deleted":[{"id":5}]}`,
	}
	for i, p := range steps {
		if !b.merge(loggedDelta{V: int64(5 + i), Epoch: "e", Payload: json.RawMessage(p)}, key, 1<<20) {
			t.Fatalf("merge %d failed", i)
		}
	}
	var d Delta
	if err := json.Unmarshal(b.frame(7), &d); err != nil {
		t.Fatal(err)
	}
	if d.From != 4 || d.V != 8 || d.S != 7 || d.Epoch != "e" {
		t.Fatalf("delta %d..%d of %d/%s", d.From, d.V, d.S, d.Epoch)
	}
	// 1: inserted then updated -> inserted with the last image; 2: updated
	// then deleted -> deleted; 3: deleted then inserted -> updated; 5:
	// inserted then deleted -> nothing.
	for name, got := range map[string]json.RawMessage{"inserted": d.Inserted, "updated": d.Updated, "deleted": d.Deleted} {
		want := map[string]string{
			"inserted": `[{"id":1,"t":"a2"}]`,
			"updated":  `[{"id":3,"t":"back"}]`,
			"deleted":  `[{"id":2}]`,
		}[name]
		if string(got) != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
	if b.merge(loggedDelta{V: 9, Epoch: "e", Payload: json.RawMessage(`{"inserted":[{"id":9,"t":"xxxxxxxxxx"}]}`)}, key, 8) {
		t.Fatal("a backlog past its byte limit must give up")
	}
}
