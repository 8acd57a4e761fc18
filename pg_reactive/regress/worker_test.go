package regress

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgstack/pgstack/internal/pgcluster"
)

// TestBackgroundWorker starts a cluster with pg_reactive preloaded and its
// worker on database postgres, with a one-minute safety-net interval: a
// delta announced within seconds of a commit proves the commit woke it.
func TestBackgroundWorker(t *testing.T) {
	dir, err := os.MkdirTemp("", "pgr-worker-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := pgcluster.New(pgcluster.Options{Dir: dir, NoSync: true, Preload: []string{"pg_reactive"},
		Settings: map[string]string{"pg_reactive.database": "postgres", "pg_reactive.naptime": "60s", "fsync": "off"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.InstalledLibraries([]string{"pg_reactive"})) == 0 {
		t.Fatalf("pg_reactive is not installed: %s", installHint)
	}
	if err := c.Init(ctx, "postgres"); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Stop(context.Background())

	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, sql := range []string{
		`create extension pg_reactive`,
		`create table items (id int primary key, label text)`,
		`select pgr.register('items', 'select id, label from items', key => 'id')`,
		`select pgr.attach('items', '{}', 'postgres', '{}', 'test')`,
		`LISTEN pgr`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// Wait until the worker runs in the database, so the wake-up has a target.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if err := conn.QueryRow(ctx, `select count(*) from pg_stat_activity where backend_type = 'pg_reactive refresher'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the pg_reactive refresher did not start")
		}
		time.Sleep(50 * time.Millisecond) // polling a catalog view; there is no event to wait on
	}

	writer, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close(ctx)
	start := time.Now()
	if _, err := writer.Exec(ctx, `insert into items values (1, 'one')`); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	n, err := conn.WaitForNotification(wctx)
	if err != nil {
		t.Fatalf("no notification after a commit (the worker was not woken): %v", err)
	}
	t.Logf("commit to notification: %v (%s)", time.Since(start), n.Payload)
	var payload string
	if err := conn.QueryRow(ctx, `select payload::text from pgr.delta_log where v = 1`).Scan(&payload); err != nil {
		t.Fatal(err)
	}
	if payload != `{"deleted": [], "updated": [], "inserted": [{"id": 1, "label": "one"}]}` {
		t.Fatalf("delta = %s", payload)
	}
}
