package functionscli_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pgstack/pgstack/internal/apitest"
	"github.com/pgstack/pgstack/internal/functionscli"
	"github.com/pgstack/pgstack/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func invoke(t *testing.T, base, key, name string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/functions/v1/"+name, strings.NewReader(`{"name":"Ada"}`))
	req.Header.Set("apikey", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestCLI(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	base := e.Serve(t)
	dir := filepath.Join(t.TempDir(), "supabase", "functions")
	ctx := context.Background()
	run := func(args ...string) (string, error) {
		var out syncBuffer
		args = append(args, "--dir", dir, "--url", base)
		err := functionscli.Run(ctx, args, functionscli.Env{ServiceRoleKey: e.ServiceKey, Out: &out})
		return out.String(), err
	}

	if _, err := run("new", "hello"); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(dir, "hello", "index.ts"))
	if err != nil || !strings.Contains(string(src), "Deno.serve") {
		t.Fatalf("scaffold: %v %s", err, src)
	}
	if _, err := run("deploy", "hello", "--runtime", "embedded"); err == nil || !strings.Contains(err.Error(), "Deno.serve") {
		t.Fatalf("deploying the Deno scaffold as embedded: err = %v, want a Deno.serve error", err)
	}
	if _, err := run("new", "hi", "--runtime", "embedded"); err != nil {
		t.Fatal(err)
	}
	out, err := run("deploy", "hi", "--runtime", "embedded", "--no-verify-jwt")
	if err != nil || !strings.Contains(out, "deployed hi (embedded)") {
		t.Fatalf("deploy: %v %s", err, out)
	}
	if status, body := invoke(t, base, "", "hi"); status != 200 || !strings.Contains(body, "Hello Ada!") {
		t.Fatalf("invoke hi without a token (--no-verify-jwt): %d %s", status, body)
	}
	out, err = run("list")
	if err != nil || !strings.Contains(out, "hi") || !strings.Contains(out, "embedded") || !strings.Contains(out, "false") {
		t.Fatalf("list: %v %s", err, out)
	}
	if out, err := run("delete", "hi"); err != nil || !strings.Contains(out, "deleted hi") {
		t.Fatalf("delete: %v %s", err, out)
	}
	if _, err := run("delete", "hi"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("delete again: %v", err)
	}

	t.Run("no key is a clear error", func(t *testing.T) {
		err := functionscli.Run(ctx, []string{"list", "--url", base}, functionscli.Env{Out: io.Discard})
		if err == nil || !strings.Contains(err.Error(), "SERVICE_ROLE_KEY") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("serve deploys and redeploys on change", func(t *testing.T) {
		if err := os.RemoveAll(filepath.Join(dir, "hello")); err != nil {
			t.Fatal(err)
		}
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		var out syncBuffer
		go func() {
			done <- functionscli.Run(sctx, []string{"serve", "--dir", dir, "--url", base},
				functionscli.Env{ServiceRoleKey: e.ServiceKey, Out: &out})
		}()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		}()
		apitest.WaitFor(t, "the first deploy of hi", func() bool {
			s, b := invoke(t, base, e.AnonKey, "hi")
			return s == 200 && strings.Contains(b, "Hello Ada!")
		})
		if err := os.WriteFile(filepath.Join(dir, "hi", "index.ts"), []byte(`function handler(r) { return {v: 2} }`), 0o644); err != nil {
			t.Fatal(err)
		}
		apitest.WaitFor(t, "the redeploy of hi", func() bool {
			s, b := invoke(t, base, e.AnonKey, "hi")
			return s == 200 && b == `{"v":2}`
		})
		if !strings.Contains(out.String(), "watching") {
			t.Errorf("serve output: %s", out.String())
		}
	})
}
