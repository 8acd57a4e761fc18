package typegen_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgstack/pgstack/gen/api/admin"
	"github.com/pgstack/pgstack/internal/apitest"
	"github.com/pgstack/pgstack/internal/config"
	"github.com/pgstack/pgstack/internal/jstest"
	"github.com/pgstack/pgstack/internal/pgtest"
	"github.com/pgstack/pgstack/internal/typegen"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var update = flag.Bool("update", false, "rewrite testdata/fixture.ts")

// fixtureEnv assembles a server over a database holding testdata/fixture.sql,
// created before the server loads its REST schema cache, with both fixture
// schemas exposed.
func fixtureEnv(t *testing.T) *apitest.Env {
	t.Helper()
	sql, err := os.ReadFile("testdata/fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	return apitest.New(t, func(c *config.Config) {
		c.RESTSchemas = []string{"public", "other"}
		conn, err := pgx.Connect(context.Background(), c.DatabaseURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), string(sql)); err != nil {
			t.Fatalf("fixture: %v", err)
		}
	})
}

// generate runs `pgstack gen types typescript` against base.
func generate(t *testing.T, e *apitest.Env, base string, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	args = append([]string{"types", "typescript", "--url", base}, args...)
	if err := typegen.Run(context.Background(), args, typegen.Env{ServiceRoleKey: e.ServiceKey, Out: &out}); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestGolden renders the fixture and compares it with testdata/fixture.ts
// (go test -run TestGolden -update rewrites it), type-checks the rendering
// with supabase-js under tsc --strict, and checks with supabase-js at run
// time that the server returns what the types declare.
func TestGolden(t *testing.T) {
	t.Parallel()
	e := fixtureEnv(t)
	base := e.Serve(t)
	got := generate(t, e, base, "--schema", "public", "--schema", "other")
	if def := generate(t, e, base); def != got {
		t.Error("without --schema, the server's REST_SCHEMAS (public, other) are rendered")
	}
	if *update {
		if err := os.WriteFile("testdata/fixture.ts", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/fixture.ts")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("rendering differs from testdata/fixture.ts (go test ./internal/typegen -run TestGolden -update):\n%s", diff(string(want), got))
	}
	typeCheck(t, got)
	jstest.Run(t, "types.test.mjs", map[string]string{"PGSTACK_URL": base, "PGSTACK_SERVICE_KEY": e.ServiceKey})
}

// typeCheck writes the types next to testdata/usage.ts inside tests/js (so
// @supabase/supabase-js resolves) and runs tsc --noEmit --strict on them.
func typeCheck(t *testing.T, types string) {
	t.Helper()
	node, dir := jstest.Node(t), jstest.Dir(t)
	tsc := filepath.Join(dir, "node_modules", "typescript", "bin", "tsc")
	if _, err := os.Stat(tsc); err != nil {
		t.Fatalf("%s is missing: install the client test packages with `npm ci --prefix tests/js` (make test does)", tsc)
	}
	work, err := os.MkdirTemp(dir, ".typecheck-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	usage, err := os.ReadFile("testdata/usage.ts")
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"database.types.ts": types, "usage.ts": string(usage)} {
		if err := os.WriteFile(filepath.Join(work, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, tsc, "--noEmit", "--strict", "--skipLibCheck",
		"--target", "es2022", "--module", "nodenext", "--moduleResolution", "nodenext", "usage.ts")
	cmd.Dir = work
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tsc --noEmit --strict: %v\n%s", err, out)
	}
}

// diff shows the first differing lines.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, a, b)
		}
	}
	return ""
}

func TestCLIErrors(t *testing.T) {
	t.Parallel()
	run := func(key string, args ...string) (string, error) {
		var out bytes.Buffer
		err := typegen.Run(context.Background(), args, typegen.Env{ServiceRoleKey: key, Out: &out})
		return out.String(), err
	}
	for _, c := range []struct {
		args    []string
		key     string
		wantErr string
		wantOut string
	}{
		{args: nil, wantErr: "missing subcommand", wantOut: "gen types typescript"},
		{args: []string{"--help"}, wantOut: "SERVICE_ROLE_KEY"},
		{args: []string{"types", "-h"}, wantOut: "--schema"},
		{args: []string{"models"}, wantErr: `unknown subcommand "models"`},
		{args: []string{"types"}, wantErr: "needs a language"},
		{args: []string{"types", "go"}, wantErr: `unsupported language "go"`},
		{args: []string{"types", "typescript", "--bogus"}, wantErr: "flag provided but not defined"},
		{args: []string{"types", "typescript"}, wantErr: "no service-role key"},
		{args: []string{"types", "--lang", "typescript", "--url", "http://127.0.0.1:1"}, key: "k", wantErr: "reach pgStack at http://127.0.0.1:1"},
		{args: []string{"types", "typescript", "--url", "::bad"}, key: "k", wantErr: "--url"},
	} {
		out, err := run(c.key, c.args...)
		if c.wantErr == "" && err != nil || c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("gen %q: err = %v, want %q", c.args, err, c.wantErr)
		}
		if !strings.Contains(out, c.wantOut) {
			t.Errorf("gen %q: output %q does not contain %q", c.args, out, c.wantOut)
		}
	}
}

func TestCLIServerErrors(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	base := e.Serve(t)
	var out bytes.Buffer
	err := typegen.Run(context.Background(), []string{"types", "typescript", "--url", base, "--schema", "pg_catalog"},
		typegen.Env{ServiceRoleKey: e.ServiceKey, Out: &out})
	if err == nil || !strings.Contains(err.Error(), `"pg_catalog" is an internal schema (400 Bad Request)`) || out.Len() != 0 {
		t.Errorf("internal schema: err = %v, output %q", err, out.String())
	}
	err = typegen.Run(context.Background(), []string{"types", "typescript", "--url", base, "--service-role-key", e.AnonKey},
		typegen.Env{Out: &out})
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("anon key: err = %v", err)
	}
}

// TestLayout checks the prettier-like layout on cases the fixture lacks.
func TestLayout(t *testing.T) {
	t.Parallel()
	long := []string{"draft", "in_review", "approved_by_editor", "scheduled_for_print", "printed", "withdrawn"}
	enum := admin.TypeRef{Format: "status", Schema: "public", Name: "status", Kind: admin.TypeRefKindEnum}
	got := typegen.TypeScript(admin.DatabaseSchema{Schemas: []admin.SchemaInfo{{
		Name: "public", Enums: []admin.EnumInfo{{Name: "status", Values: long}},
		Tables: []admin.RelationInfo{{Name: "Manuscripts", Columns: []admin.ColumnInfo{
			{Name: "a_very_long_column_name_for_the_status", Type: enum, Nullable: true},
			{Name: "Zeta", Type: admin.TypeRef{Name: "tsrange", Kind: admin.TypeRefKindRange}},
			{Name: "alpha", Type: admin.TypeRef{Name: "int4", Kind: admin.TypeRefKindBase, Array: true}},
		}}},
	}}})
	for _, want := range []string{
		"      Manuscripts: {\n        Row: {\n          a_very_long_column_name_for_the_status:\n" +
			"            | Database[\"public\"][\"Enums\"][\"status\"]\n            | null\n          alpha: number[]\n          Zeta: unknown\n        }",
		"    Views: {\n      [_ in never]: never\n    }",
		"      status:\n        | \"draft\"\n        | \"in_review\"\n",
		"      status: [\n        \"draft\",\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks\n%s\n--- in:\n%s", want, got)
		}
	}
}

// TestLocalKey: the key of a local `pgstack start` goes only to loopback URLs.
func TestLocalKey(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	base := e.Serve(t) // http://127.0.0.1:port
	local := func() string { return e.ServiceKey }
	var out bytes.Buffer
	err := typegen.Run(context.Background(), []string{"types", "typescript", "--url", base},
		typegen.Env{LocalServiceRoleKey: local, Out: &out})
	if err != nil || !strings.Contains(out.String(), "export type Database") {
		t.Fatalf("loopback URL with the local key: %v", err)
	}
	called := false
	err = typegen.Run(context.Background(), []string{"types", "typescript", "--url", "http://example.invalid"},
		typegen.Env{LocalServiceRoleKey: func() string { called = true; return "k" }, Out: &out})
	if called || err == nil || !strings.Contains(err.Error(), "no service-role key") {
		t.Errorf("remote URL: local key asked %v, err = %v", called, err)
	}
}
