package runtimes_test

import (
	"os"
	"path/filepath"
	"testing"

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
			Headers: bearer(userToken(t, e, alice)), Body: `{"name":"Ada"}`, WantStatus: 200,
			WantBody: []string{"Hello Ada!", "authenticated", alice},
		})
	}
}
