package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestStartStopRestart drives the binary as a newcomer would: `pgstack start`
// in an empty directory answers /health, Ctrl-C (SIGINT) leaves no
// PostgreSQL behind, and the next start reuses the data and the secret.
func TestStartStopRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	work, err := os.MkdirTemp("", "pgstack-start-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	// As root the server runs as another user, who must be able to reach the directory.
	if err := os.Chmod(work, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(work, "pgstack")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	first := startBinary(t, bin, work)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, first.databaseURL)
	if err != nil {
		t.Fatalf("connect to the printed database URL: %v", err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE public.kept (id int)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	pid := postmasterPID(t, work)
	first.stop(t)
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("postgres (pid %d) still exists after Ctrl-C: kill(0) = %v", pid, err)
	}
	if _, err := os.Stat(filepath.Join(work, ".pgstack", "data", "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("postmaster.pid left behind: %v", err)
	}

	second := startBinary(t, bin, work)
	defer second.stop(t)
	if second.anonKey != first.anonKey || second.serviceKey != first.serviceKey {
		t.Error("keys changed across restarts: the JWT secret was not reused")
	}
	conn, err = pgx.Connect(ctx, second.databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('public.kept') IS NOT NULL").Scan(&exists); err != nil || !exists {
		t.Errorf("table created before the restart: exists=%v err=%v; want the data reused", exists, err)
	}
}

type running struct {
	cmd                 *exec.Cmd
	apiURL, databaseURL string
	anonKey, serviceKey string
	exited              chan error
}

func startBinary(t *testing.T, bin, dir string) *running {
	t.Helper()
	cmd := exec.Command(bin, "start")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LISTEN_ADDR=127.0.0.1:0", "DATABASE_URL=", "JWT_SECRET=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := os.Create(filepath.Join(dir, "stderr.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd.Stderr = stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &running{cmd: cmd, exited: make(chan error, 1)}

	// The banner ends with the keys; read it, then keep draining stdout.
	lines := bufio.NewScanner(stdout)
	banner := make(chan struct{})
	go func() {
		seen := false
		for lines.Scan() {
			k, v, _ := strings.Cut(strings.TrimSpace(lines.Text()), ":")
			v = strings.TrimSpace(v)
			switch k {
			case "API URL":
				r.apiURL = v
			case "Database":
				r.databaseURL = v
			case "anon key":
				r.anonKey = v
			case "service_role key":
				r.serviceKey = v
				if !seen {
					seen = true
					close(banner)
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		r.exited <- cmd.Wait()
	}()
	select {
	case <-banner:
	case err := <-r.exited:
		log, _ := os.ReadFile(filepath.Join(dir, "stderr.log"))
		t.Fatalf("pgstack start exited: %v\n%s", err, log)
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		log, _ := os.ReadFile(filepath.Join(dir, "stderr.log"))
		t.Fatalf("pgstack start printed no banner within 60 s\n%s", log)
	}
	res, err := http.Get(r.apiURL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /health = %d", res.StatusCode)
	}
	t.Logf("pgstack start answered /health %v after launch", time.Since(began).Round(time.Millisecond))
	if r.databaseURL == "" || r.anonKey == "" {
		t.Fatalf("banner lacks the database URL or keys: %+v", r)
	}
	return r
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	if r.cmd.ProcessState != nil {
		return
	}
	if err := r.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.exited:
		if err != nil {
			t.Errorf("pgstack exited with %v after Ctrl-C, want 0", err)
		}
	case <-time.After(60 * time.Second):
		_ = r.cmd.Process.Kill()
		t.Fatal("pgstack did not exit within 60 s of Ctrl-C")
	}
}

func postmasterPID(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ".pgstack", "data", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	return pid
}
