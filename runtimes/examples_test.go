package runtimes_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pgstack/pgstack/internal/apitest"
)

// TestExamples deploys the in-process and in-database hello examples as
// they ship in examples/functions and calls them as a signed-in user.
func TestExamples(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	needPLPython(t, e)
	for _, ex := range []struct{ runtime, file string }{
		{"embedded", "index.ts"},
		{"plpython", "index.py"},
	} {
		src, err := os.ReadFile(filepath.Join("..", "examples", "functions", ex.runtime, "hello", ex.file))
		if err != nil {
			t.Fatal(err)
		}
		name := "hello-" + ex.runtime
		deploy(t, e, map[string]any{"name": name, "runtime": ex.runtime, "source": string(src)})
		e.Run(t, apitest.Scenario{
			Name: ex.runtime, Method: "POST", URL: "/functions/v1/" + name,
			Headers: bearer(e.UserToken(t, alice, time.Hour)), Body: `{"name":"Ada"}`, WantStatus: 200,
			WantBody: []string{"Hello Ada!", "authenticated", alice},
		})
	}
}

// TestHelloGoExample builds examples/functions/http/hello-go, runs it and
// serves it as an http function.
func TestHelloGoExample(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "hello-go")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = filepath.Join("..", "examples", "functions", "http", "hello-go")
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build hello-go: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(os.Environ(), "PORT="+port)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	apitest.WaitFor(t, "hello-go to listen", func() bool {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	e := newEnv(t)
	deploy(t, e, map[string]any{"name": "hello-go", "runtime": "http", "upstream_url": "http://127.0.0.1:" + port})
	e.Run(t, apitest.Scenario{
		Name: "hello-go answers as the caller", Method: "POST", URL: "/functions/v1/hello-go",
		Headers: bearer(e.UserToken(t, alice, time.Hour)), Body: `{"name":"Ada"}`, WantStatus: 200,
		WantBody: []string{`"message":"Hello Ada!"`, `"role":"authenticated"`, `"uid":"` + alice + `"`, `"path":"/hello-go"`},
	})
}
