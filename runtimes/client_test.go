package runtimes_test

import (
	"testing"
	"time"

	"github.com/pgstack/pgstack/internal/config"
	"github.com/pgstack/pgstack/internal/jstest"
)

// TestFunctionsClient drives @supabase/functions-js (supabase.functions.invoke)
// against one function per runtime: embedded, plpython, deno (a real Deno)
// and http.
func TestFunctionsClient(t *testing.T) {
	t.Parallel()
	edge := startDeno(t)
	e := newEnv(t, func(c *config.Config) { c.EdgeRuntimeURL = edge })
	deploy(t, e, map[string]any{"name": "todos-embedded", "runtime": "embedded", "source": embeddedTodos})
	deploy(t, e, map[string]any{"name": "todos-plpython", "runtime": "plpython", "source": pythonTodos})
	// The deno and http functions echo the identity headers and body.
	deploy(t, e, map[string]any{"name": "todos-deno", "runtime": "deno"})
	deploy(t, e, map[string]any{"name": "todos-http", "runtime": "http", "upstream_url": echoUpstream(t)})
	deploy(t, e, map[string]any{"name": "throws", "runtime": "embedded", "source": `function handler() { throw new Error("boom") }`})
	deploy(t, e, map[string]any{"name": "echo-body", "runtime": "embedded", "source": `function handler(r) { return r.body }`})
	jstest.Run(t, "functions.test.mjs", map[string]string{
		"PGSTACK_URL":        e.Serve(t),
		"PGSTACK_ANON_KEY":   e.AnonKey,
		"PGSTACK_USER_TOKEN": e.UserToken(t, alice, time.Hour),
		"PGSTACK_USER_ID":    alice,
	})
}
