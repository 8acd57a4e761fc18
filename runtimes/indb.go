package runtimes

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgstack/pgstack/internal/database"
)

// InDatabaseRuntime runs functions stored in PostgreSQL as
// pgstack.fn_<name>(body jsonb) RETURNS jsonb, in the language of its
// runtime. An invocation is one transaction as the caller (RLS applies to
// every statement the function runs) with FUNCTION_TIMEOUT as its
// statement_timeout.
type InDatabaseRuntime struct {
	Runtime string // PLV8 or PLPython
	DB      *database.DB
	Timeout time.Duration
}

// Extension returns the PostgreSQL extension an in-database runtime needs.
func Extension(runtime string) string {
	switch runtime {
	case PLV8:
		return "plv8"
	case PLPython:
		return "plpython3u"
	}
	return ""
}

// maxInDatabaseName keeps fn_<name> within PostgreSQL's 63-byte identifiers.
const maxInDatabaseName = 60

// SQLName is the quoted, schema-qualified name of a function's database
// function. The name is always quoted, never interpolated.
func SQLName(name string) string {
	return pgx.Identifier{"pgstack", "fn_" + name}.Sanitize()
}

// Prepare checks the name fits; the database function itself is created by
// the deployer (CreateFunctionSQL).
func (d *InDatabaseRuntime) Prepare(_ context.Context, fn Function) (Handler, error) {
	if len(fn.Name) > maxInDatabaseName {
		return nil, deployErrorf("%s function names are at most %d characters", d.Runtime, maxInDatabaseName)
	}
	if strings.TrimSpace(fn.Source) == "" {
		return nil, deployErrorf("a %s function needs source code", d.Runtime)
	}
	return &inDatabaseFunc{rt: d, fn: fn, call: "SELECT " + SQLName(fn.Name) + "($1::jsonb)::text"}, nil
}

type inDatabaseFunc struct {
	rt   *InDatabaseRuntime
	fn   Function
	call string
}

func (f *inDatabaseFunc) Serve(w http.ResponseWriter, r *http.Request, c Call) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	arg, err := jsonArgument(body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), f.rt.Timeout+time.Second)
	defer cancel()
	caller := database.Caller{Identity: c.Identity, Method: r.Method, Path: r.URL.Path, Headers: r.Header}
	tx, err := f.rt.DB.BeginAsCaller(ctx, caller, f.rt.Timeout)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var out *string
	if err := tx.QueryRow(ctx, f.call, arg).Scan(&out); err != nil {
		return f.callError(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return f.callError(err)
	}
	result := "null"
	if out != nil {
		result = *out
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err = io.WriteString(w, result)
	return err
}

func (f *inDatabaseFunc) callError(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57014": // query_canceled: statement_timeout
			return functionTimedOut(f.fn.Name, f.rt.Timeout)
		case "42883", "3F000": // the database function is missing
			return fmt.Errorf("%s is not deployed in the database: %w", SQLName(f.fn.Name), err)
		}
		return functionFailed(pgErr.Message, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return functionTimedOut(f.fn.Name, f.rt.Timeout)
	}
	return err
}

// jsonArgument is the body as the jsonb argument: JSON as it is, any other
// text as a JSON string, an empty body as SQL NULL.
func jsonArgument(body []byte) (any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	if json.Valid(body) {
		return string(body), nil
	}
	b, err := json.Marshal(string(body))
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// CreateFunctionSQL returns the statements that create (or replace)
// pgstack.fn_<name> from source in the runtime's language, callable by the
// API roles only (EXECUTE granted per function; it runs as the caller).
//
// plv8: source is the function body; body arrives as a JavaScript value and
// the returned value becomes jsonb.
//
// plpython: source is the function body; body arrives as the parsed JSON
// value (dict, list, str, number or None) and the returned value is
// serialised with json.dumps.
func CreateFunctionSQL(runtime, name, source string) ([]string, error) {
	fn := SQLName(name)
	var lang, body string
	switch runtime {
	case PLV8:
		lang, body = "plv8", source
	case PLPython:
		lang, body = "plpython3u", pythonBody(source)
	default:
		return nil, fmt.Errorf("runtime %q does not run in the database", runtime)
	}
	tag, err := dollarTag(body)
	if err != nil {
		return nil, err
	}
	return []string{
		fmt.Sprintf("CREATE OR REPLACE FUNCTION %s(body jsonb) RETURNS jsonb LANGUAGE %s SECURITY INVOKER AS %s%s%s",
			fn, lang, tag, body, tag),
		fmt.Sprintf("REVOKE ALL ON FUNCTION %s(jsonb) FROM PUBLIC", fn),
		fmt.Sprintf("GRANT EXECUTE ON FUNCTION %s(jsonb) TO anon, authenticated, service_role", fn),
	}, nil
}

// DropFunctionSQL drops pgstack.fn_<name>.
func DropFunctionSQL(name string) string {
	return fmt.Sprintf("DROP FUNCTION IF EXISTS %s(jsonb)", SQLName(name))
}

// pythonBody wraps the user's function body in a nested function so that
// `return` works as written and the result is serialised to JSON.
func pythonBody(source string) string {
	var b strings.Builder
	b.WriteString("import json\n")
	b.WriteString("def __pgstack_handler(body):\n")
	lines := strings.Split(strings.ReplaceAll(source, "\r\n", "\n"), "\n")
	// Indent the way the source does, so tabs and spaces are never mixed.
	indent := "    "
	for _, line := range lines {
		if strings.HasPrefix(line, "\t") {
			indent = "\t"
			break
		}
	}
	wrote := false
	for _, line := range lines {
		if strings.TrimSpace(line) == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString(indent + line + "\n")
		wrote = true
	}
	if !wrote {
		b.WriteString("    return None\n")
	}
	b.WriteString("return json.dumps(__pgstack_handler(None if body is None else json.loads(body)), default=str)\n")
	return b.String()
}

// dollarTag picks a dollar-quote tag that does not occur in body.
func dollarTag(body string) (string, error) {
	if !strings.Contains(body, "$fn$") {
		return "$fn$", nil
	}
	for range 8 {
		var b [6]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		tag := "$fn_" + hex.EncodeToString(b[:]) + "$"
		if !strings.Contains(body, tag) {
			return tag, nil
		}
	}
	return "", errors.New("no dollar-quote tag fits this source")
}
