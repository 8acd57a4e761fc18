// Package regress runs pg_reactive's own tests against the test cluster:
// its pg_regress suite (pg_reactive/sql, pg_reactive/expected), and a client
// that follows a live query with nothing but LISTEN pgr and the extension's
// SQL functions.
package regress

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgstack/pgstack/internal/pgcluster"
	"github.com/pgstack/pgstack/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const installHint = "build and install it first: `make pg_reactive` (needs postgresql-server-dev-15; .ci/run installs it)"

func TestPgRegress(t *testing.T) {
	db := pgtest.NewEmptyDB(t)
	binDir, err := pgcluster.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(binDir, "pg_config"), "--pkglibdir").Output()
	if err != nil {
		t.Fatalf("pg_config --pkglibdir: %v", err)
	}
	pgRegress := filepath.Join(strings.TrimSpace(string(out)), "pgxs", "src", "test", "regress", "pg_regress")
	if _, err := os.Stat(pgRegress); err != nil {
		t.Fatalf("pg_regress not found at %s: %s", pgRegress, installHint)
	}
	u, err := url.Parse(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	inputDir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	outputDir := t.TempDir()
	cmd := exec.Command(pgRegress,
		"--host="+u.Query().Get("host"), "--port="+u.Query().Get("port"), "--user="+u.User.Username(),
		"--inputdir="+inputDir, "--outputdir="+outputDir, "--bindir="+binDir,
		"--dbname="+db.Name, "--use-existing",
		"register", "refresh", "lifecycle", "partition", "keyed", "route", "route_helpers")
	output, err := cmd.CombinedOutput()
	if err != nil {
		diffs, _ := os.ReadFile(filepath.Join(outputDir, "regression.diffs"))
		t.Fatalf("pg_regress failed: %v\n%s\n%s", err, output, diffs)
	}
}

// TestListenAlone follows a live query without pgStack: attach, LISTEN pgr,
// run refresh ticks, read the announced versions from the delta log.
func TestListenAlone(t *testing.T) {
	db := pgtest.NewDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db.Exec(t, `create table public.items (id int primary key, label text);
		grant select on public.items to anon;
		select pgr.register('items', 'select id, label from public.items', key => 'id')`)

	listener, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close(ctx)
	if _, err := listener.Exec(ctx, "LISTEN pgr"); err != nil {
		t.Fatal(err)
	}
	var stream, v int64
	var epoch string
	if err := listener.QueryRow(ctx, `select stream, epoch, v from pgr.attach('items', '{}', 'anon', '{}', 'test')`).
		Scan(&stream, &epoch, &v); err != nil {
		t.Fatal(err)
	}

	writer, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close(ctx)
	tick := func() {
		t.Helper()
		if err := pgx.BeginTxFunc(ctx, writer, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, "select pgr.refresh()")
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	for i, sql := range []string{
		`insert into items values (1, 'one'), (2, 'two')`,
		`update items set label = 'uno' where id = 1`,
		`delete from items where id = 2`,
	} {
		if _, err := writer.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
		tick()
		n, err := listener.WaitForNotification(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var msg struct {
			S int64  `json:"s"`
			V int64  `json:"v"`
			E string `json:"e"`
		}
		if err := json.Unmarshal([]byte(n.Payload), &msg); err != nil {
			t.Fatalf("payload %q: %v", n.Payload, err)
		}
		if msg.S != stream || msg.V != int64(i+1) || msg.E != epoch {
			t.Fatalf("notification %s, want stream %d v%d epoch %s", n.Payload, stream, i+1, epoch)
		}
		var from int64
		var payload string
		if err := listener.QueryRow(ctx, `select v - 1, payload::text from pgr.deltas($1, $2)`, stream, v).Scan(&from, &payload); err != nil {
			t.Fatal(err)
		}
		if from != v {
			t.Fatalf("delta from %d, want %d", from, v)
		}
		v = msg.V
		t.Logf("v%d: %s", v, payload)
	}
	var rows string
	if err := listener.QueryRow(ctx, `select rows::text from pgr.snapshot($1)`, stream).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != `[{"id": 1, "label": "uno"}]` {
		t.Fatalf("snapshot = %s", rows)
	}
}
