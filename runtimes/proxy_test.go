package runtimes_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgstack/pgstack/internal/apitest"
	"github.com/pgstack/pgstack/internal/config"
)

// echoUpstream is an http-runtime function: it answers with what it was
// sent, and /stream with server-sent events it keeps open.
func echoUpstream(t testing.TB) string {
	t.Helper()
	srv := newLocalServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/stream") {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "data: first\n\n")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		if strings.HasSuffix(r.URL.Path, "/teapot") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTeapot)
			_, _ = io.WriteString(w, `{"error":"short and stout"}`)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var claims any
		_ = json.Unmarshal([]byte(r.Header.Get("X-Pgstack-Claims")), &claims)
		var parsed any
		_ = json.Unmarshal(body, &parsed)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"runtime": "http", "method": r.Method, "path": r.URL.Path, "search": "?" + r.URL.RawQuery,
			"role": r.Header.Get("X-Pgstack-Role"), "sub": r.Header.Get("X-Pgstack-Sub"), "claims": claims,
			"body": parsed, "spoofed": r.Header.Get("X-Pgstack-Spoof"),
		})
	}))
	return srv
}

func newLocalServer(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// startDeno runs tests/js/deno/main.ts on the Deno from npm
// (@deno/linux-x64-glibc) and returns its URL, the EDGE_RUNTIME_URL.
func startDeno(t *testing.T) string {
	t.Helper()
	js, err := filepath.Abs(filepath.Join("..", "tests", "js"))
	if err != nil {
		t.Fatal(err)
	}
	deno := filepath.Join(js, "node_modules", "@deno", "linux-x64-glibc", "deno")
	if _, err := os.Stat(deno); err != nil {
		t.Fatalf("%s is missing: install the client test packages with `npm ci --prefix tests/js` (make test does)", deno)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, deno, "run", "--allow-net=127.0.0.1", "--allow-read=.", "--no-prompt", "deno/main.ts")
	cmd.Dir = js
	cmd.Env = append(os.Environ(), "DENO_DIR="+t.TempDir(), "NO_COLOR=1", "DENO_NO_UPDATE_CHECK=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if port, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				ready <- port
			}
		}
	}()
	select {
	case port := <-ready:
		return "http://127.0.0.1:" + port
	case <-time.After(30 * time.Second):
		t.Fatal("deno did not start within 30s")
	}
	return ""
}

func proxyScenarios(e *apitest.Env, runtime, name, userTok string) []apitest.Scenario {
	return []apitest.Scenario{
		{
			Name: runtime + ": path, query, body and identity reach the function", Method: "POST",
			URL: "/functions/v1/" + name + "/users?x=1", Body: `{"n":1}`,
			Headers: map[string]string{"Authorization": "Bearer " + userTok, "apikey": e.AnonKey,
				"X-Pgstack-Role": "service_role", "X-Pgstack-Spoof": "yes", "Content-Type": "application/json"},
			WantStatus: 200,
			Check: func(t *testing.T, _ *http.Response, body []byte) {
				m := jsonBody(t, body)
				if m["runtime"] != runtime || m["path"] != "/"+name+"/users" || m["search"] != "?x=1" || m["role"] != "authenticated" || m["sub"] != alice {
					t.Errorf("function saw: %s", body)
				}
				if c, _ := m["claims"].(map[string]any); c["sub"] != alice {
					t.Errorf("claims = %v", m["claims"])
				}
				if b, _ := m["body"].(map[string]any); b["n"] != float64(1) {
					t.Errorf("body = %v", m["body"])
				}
				if s, _ := m["spoofed"].(string); s != "" {
					t.Errorf("client-sent X-Pgstack-Spoof reached the function: %q", s)
				}
			},
		},
		{
			Name: runtime + ": anon role with the anon key", Method: "GET", URL: "/functions/v1/" + name,
			Headers: map[string]string{"apikey": e.AnonKey}, WantStatus: 200, WantBody: []string{`"role":"anon"`},
		},
		{
			Name: runtime + ": the function's own errors pass through without x-relay-error", Method: "GET",
			URL: "/functions/v1/" + name + "/teapot", Headers: map[string]string{"apikey": e.AnonKey},
			WantStatus: 418, WantBody: []string{"short and stout"}, WantHeaders: map[string]string{"X-Relay-Error": ""},
		},
		{
			Name: runtime + ": a path cannot climb out of the function", Method: "GET",
			URL: "/functions/v1/" + name + "/../other", Headers: map[string]string{"apikey": e.AnonKey},
			WantStatus: 400, WantHeaders: map[string]string{"X-Relay-Error": "true"},
		},
		{
			Name: runtime + ": nor with encoded dots and slashes", Method: "GET",
			URL: "/functions/v1/" + name + "/%2e%2e%2fother", Headers: map[string]string{"apikey": e.AnonKey},
			WantStatus: 400, WantHeaders: map[string]string{"X-Relay-Error": "true"},
		},
		{
			Name: runtime + ": dot segments inside the function are cleaned", Method: "GET",
			URL: "/functions/v1/" + name + "/a/./b/../users", Headers: map[string]string{"apikey": e.AnonKey},
			WantStatus: 200, WantBody: []string{`"path":"/` + name + `/a/users"`},
		},
		{
			Name: runtime + ": verify_jwt: no token is 401", Method: "GET", URL: "/functions/v1/" + name,
			WantStatus: 401, WantHeaders: map[string]string{"X-Relay-Error": "true"},
		},
	}
}

// readFirstEvent reads the first server-sent event through the real server
// while the function keeps its stream open: nothing is buffered.
func readFirstEvent(t *testing.T, base, path, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	req.Header.Set("apikey", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type = %q", ct)
	}
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	if err != nil || line != "data: first\n" {
		t.Fatalf("first event = %q, %v", line, err)
	}
}

func TestHTTPFunction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	up := echoUpstream(t)
	deploy(t, e, map[string]any{"name": "echo", "runtime": "http", "upstream_url": up})
	e.Run(t, proxyScenarios(e, "http", "echo", e.UserToken(t, alice, time.Hour))...)
	e.Run(t,
		apitest.Scenario{
			Name: "http needs an upstream_url", Method: "POST", URL: "/api/functions",
			Headers:    map[string]string{"apikey": e.ServiceKey, "Content-Type": "application/json"},
			Body:       `{"name":"nourl","runtime":"http"}`,
			WantStatus: 400, WantBody: []string{"upstream_url"},
		},
		apitest.Scenario{
			Name: "upstream_url must be http(s) without credentials", Method: "POST", URL: "/api/functions",
			Headers:    map[string]string{"apikey": e.ServiceKey, "Content-Type": "application/json"},
			Body:       `{"name":"bad","runtime":"http","upstream_url":"http://user:pw@example.com"}`,
			WantStatus: 400, WantBody: []string{"credentials"},
		},
	)
	deploy(t, e, map[string]any{"name": "metadata", "runtime": "http", "upstream_url": "http://169.254.169.254"})
	deploy(t, e, map[string]any{"name": "down", "runtime": "http", "upstream_url": "http://127.0.0.1:1"})
	e.Run(t,
		apitest.Scenario{
			Name: "link-local (cloud metadata) upstreams are refused at dial time", Method: "GET", URL: "/functions/v1/metadata",
			Headers: map[string]string{"apikey": e.AnonKey}, WantStatus: 502, WantHeaders: map[string]string{"X-Relay-Error": "true"},
		},
		apitest.Scenario{
			Name: "an unreachable upstream is a relay error", Method: "GET", URL: "/functions/v1/down",
			Headers: map[string]string{"apikey": e.AnonKey}, WantStatus: 502,
			WantBody: []string{"could not be reached"}, WantHeaders: map[string]string{"X-Relay-Error": "true"},
		},
	)
	readFirstEvent(t, e.Serve(t), "/functions/v1/echo/stream", e.AnonKey)
}

func TestDenoFunction(t *testing.T) {
	t.Parallel()
	edge := startDeno(t)
	e := newEnv(t, func(c *config.Config) { c.EdgeRuntimeURL = edge })
	deploy(t, e, map[string]any{"name": "hello-deno", "runtime": "deno", "source": "// served by the edge runtime"})
	e.Run(t, proxyScenarios(e, "deno", "hello-deno", e.UserToken(t, alice, time.Hour))...)
	readFirstEvent(t, e.Serve(t), "/functions/v1/hello-deno/stream", e.AnonKey)

	unset := newEnv(t)
	deploy(t, unset, map[string]any{"name": "hello-deno", "runtime": "deno"})
	unset.Run(t, apitest.Scenario{
		Name: "without EDGE_RUNTIME_URL deno functions are 503 naming it", Method: "POST", URL: "/functions/v1/hello-deno",
		Headers: map[string]string{"apikey": unset.AnonKey}, WantStatus: 503,
		WantBody: []string{"EDGE_RUNTIME_URL"}, WantHeaders: map[string]string{"X-Relay-Error": "true"},
	})
}
