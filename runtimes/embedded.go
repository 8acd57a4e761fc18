package runtimes

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/dop251/goja"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgstack/pgstack/internal/database"
	"github.com/pgstack/pgstack/internal/identity"
	"github.com/pgstack/pgstack/internal/jwt"
)

// Limits of the embedded runtime.
const (
	maxCallStack  = 1024
	maxResultRows = 10000
)

var denoServeRE = regexp.MustCompile(`\bDeno\s*\.\s*serve\s*\(`)

// roleChangeRE matches SQL that would switch the role or session user, or
// overwrite the claims: db.query refuses it, so a function runs as its caller.
var roleChangeRE = regexp.MustCompile(`(?is)\b(set|reset)\s+(local\s+|session\s+)?(role|session\s+authorization|request\.jwt)\b|set_config\s*\(\s*'(role|request\.jwt[^']*)'`)

// EmbeddedRuntime runs JavaScript functions in the server with goja. A
// function's source defines handler(request) (async allowed); db.query(sql,
// ...params) runs as the caller in one transaction per invocation; the value
// handler returns is the JSON response.
type EmbeddedRuntime struct {
	DB      *database.DB
	Timeout time.Duration
	// PoolSize bounds the goja runtimes per function (default 2×GOMAXPROCS).
	PoolSize int
}

// Prepare compiles the source once and checks that it defines handler.
func (e *EmbeddedRuntime) Prepare(ctx context.Context, fn Function) (Handler, error) {
	if strings.TrimSpace(fn.Source) == "" {
		return nil, deployErrorf("an embedded function needs source code that defines handler(request)")
	}
	if denoServeRE.MatchString(fn.Source) {
		return nil, deployErrorf("this source calls Deno.serve(...), which the embedded runtime does not run: " +
			"define `function handler(request) { ... }` and return the response value, or deploy it with runtime deno")
	}
	code, err := transpile(fn.Name, fn.Source)
	if err != nil {
		return nil, err
	}
	prog, err := goja.Compile(fn.Name+".js", code, false)
	if err != nil {
		return nil, deployErrorf("the source does not compile: %v", err)
	}
	size := e.PoolSize
	if size <= 0 {
		size = 2 * runtime.GOMAXPROCS(0)
	}
	f := &embeddedFunc{rt: e, fn: fn, prog: prog,
		idle: make(chan *jsVM, size), slots: make(chan struct{}, size)}
	// Build one runtime now: top-level errors and a missing handler are
	// deploy errors, and the first call finds a warm runtime.
	f.slots <- struct{}{}
	vm, err := f.newVM()
	if err != nil {
		<-f.slots
		return nil, err
	}
	f.idle <- vm
	return f, nil
}

type embeddedFunc struct {
	rt    *EmbeddedRuntime
	fn    Function
	prog  *goja.Program
	idle  chan *jsVM
	slots chan struct{} // one per live runtime
}

// jsVM is one goja runtime with its bindings; cur is the invocation it serves.
type jsVM struct {
	vm      *goja.Runtime
	handler goja.Callable
	cur     *jsCall
}

type jsCall struct {
	ctx     context.Context
	caller  database.Caller
	tx      pgx.Tx
	console *Console
}

func (f *embeddedFunc) newVM() (*jsVM, error) {
	j := &jsVM{vm: goja.New()}
	j.vm.SetMaxCallStackSize(maxCallStack)
	j.vm.SetFieldNameMapper(goja.TagFieldNameMapper("json", true))
	if err := f.bind(j); err != nil {
		return nil, err
	}
	timer := time.AfterFunc(f.rt.Timeout, func() { j.vm.Interrupt("timeout") })
	_, err := j.vm.RunProgram(f.prog)
	if !timer.Stop() {
		return nil, deployErrorf("the top-level code did not finish within %s", f.rt.Timeout)
	}
	if err != nil {
		return nil, deployErrorf("the top-level code failed: %s", jsErrorMessage(err))
	}
	h, ok := findHandler(j.vm)
	if !ok {
		return nil, deployErrorf("the source must define a function named handler(request) (or export it, as handler or default)")
	}
	j.handler = h
	return j, nil
}

// findHandler looks for handler as a global, then among the module's
// exports (handler, then default).
func findHandler(vm *goja.Runtime) (goja.Callable, bool) {
	if h, ok := goja.AssertFunction(vm.Get("handler")); ok {
		return h, true
	}
	module, ok := vm.Get("module").(*goja.Object)
	if !ok {
		return nil, false
	}
	exports, ok := module.Get("exports").(*goja.Object)
	if !ok {
		return nil, false
	}
	for _, name := range []string{"handler", "default"} {
		if h, ok := goja.AssertFunction(exports.Get(name)); ok {
			return h, true
		}
	}
	return nil, false
}

func (f *embeddedFunc) bind(j *jsVM) error {
	console := j.vm.NewObject()
	logf := func(call goja.FunctionCall) goja.Value {
		parts := make([]string, len(call.Arguments))
		for i, a := range call.Arguments {
			parts[i] = jsString(a)
		}
		if j.cur != nil {
			j.cur.console.Println(strings.Join(parts, " "))
		}
		return goja.Undefined()
	}
	for _, name := range []string{"log", "info", "warn", "error", "debug"} {
		if err := console.Set(name, logf); err != nil {
			return err
		}
	}
	db := j.vm.NewObject()
	if err := db.Set("query", func(call goja.FunctionCall) goja.Value {
		if j.cur == nil {
			panic(j.vm.NewTypeError("db.query can only be called while handling a request"))
		}
		sql := call.Argument(0)
		if goja.IsUndefined(sql) || goja.IsNull(sql) {
			panic(j.vm.NewTypeError("db.query(sql, ...params) needs the SQL text"))
		}
		params := make([]any, 0, len(call.Arguments)-1)
		for _, a := range call.Arguments[1:] {
			params = append(params, jsParam(a))
		}
		rows, err := j.cur.query(f.rt, sql.String(), params)
		if err != nil {
			panic(j.vm.NewGoError(err))
		}
		return j.vm.ToValue(rows)
	}); err != nil {
		return err
	}
	if err := j.vm.Set("console", console); err != nil {
		return err
	}
	// CommonJS shape of the transpiled module; imports are not available.
	module := j.vm.NewObject()
	exports := j.vm.NewObject()
	if err := module.Set("exports", exports); err != nil {
		return err
	}
	for name, v := range map[string]any{
		"module": module, "exports": exports,
		"require": func(call goja.FunctionCall) goja.Value {
			panic(j.vm.NewTypeError("import %q: embedded functions cannot import modules (db.query and console are built in)", call.Argument(0).String()))
		},
	} {
		if err := j.vm.Set(name, v); err != nil {
			return err
		}
	}
	return j.vm.Set("db", db)
}

// query runs one statement of the function in the invocation's transaction,
// opened as the caller on first use.
func (c *jsCall) query(rt *EmbeddedRuntime, sql string, params []any) ([]map[string]any, error) {
	if roleChangeRE.MatchString(sql) {
		return nil, errors.New("db.query: a function runs as its caller and cannot change its role or claims")
	}
	if c.tx == nil {
		tx, err := rt.DB.BeginAsCaller(c.ctx, c.caller, rt.Timeout)
		if err != nil {
			return nil, err
		}
		c.tx = tx
	}
	rows, err := c.tx.Query(c.ctx, sql, params...)
	if err != nil {
		return nil, sqlError(err)
	}
	defer rows.Close()
	fields := rows.FieldDescriptions()
	out := []map[string]any{}
	for rows.Next() {
		if len(out) == maxResultRows {
			return nil, fmt.Errorf("db.query: more than %d rows", maxResultRows)
		}
		vals, err := rows.Values()
		if err != nil {
			return nil, sqlError(err)
		}
		row := make(map[string]any, len(vals))
		for i, v := range vals {
			row[fields[i].Name] = jsonValue(v)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, sqlError(err)
	}
	return out, nil
}

// sqlError keeps what a function author needs (message, SQLSTATE) and drops
// the rest.
func sqlError(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return fmt.Errorf("%s (SQLSTATE %s)", pgErr.Message, pgErr.Code)
	}
	return err
}

// jsonValue turns a value pgx decoded into one that JSON and goja render
// naturally.
func jsonValue(v any) any {
	switch x := v.(type) {
	case nil, bool, string, int16, int32, int64, float32, float64, map[string]any, []any:
		return x
	case [16]byte:
		return fmt.Sprintf("%x-%x-%x-%x-%x", x[0:4], x[4:6], x[6:8], x[8:10], x[10:16])
	case time.Time:
		return x.Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return string(b)
	}
	return out
}

// jsParam converts a JavaScript argument of db.query into a query parameter;
// objects and arrays are sent as JSON.
func jsParam(v goja.Value) any {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	x := v.Export()
	switch x.(type) {
	case map[string]any, []any:
		b, err := json.Marshal(x)
		if err != nil {
			return v.String()
		}
		return string(b)
	case int64, float64, bool, string:
		return x
	}
	return v.String()
}

func jsString(v goja.Value) string {
	if v == nil || goja.IsUndefined(v) {
		return "undefined"
	}
	if obj, ok := v.(*goja.Object); ok && obj.ClassName() != "Error" {
		if b, err := json.Marshal(obj.Export()); err == nil {
			return string(b)
		}
	}
	return v.String()
}

func jsErrorMessage(err error) string {
	var ex *goja.Exception
	if errors.As(err, &ex) {
		if obj, ok := ex.Value().(*goja.Object); ok {
			if m := obj.Get("message"); m != nil && !goja.IsUndefined(m) {
				return m.String()
			}
		}
		return ex.Value().String()
	}
	return err.Error()
}

var errVMTimeout = errors.New("timeout")

func (f *embeddedFunc) get(ctx context.Context) (*jsVM, error) {
	select {
	case j := <-f.idle:
		return j, nil
	default:
	}
	select {
	case j := <-f.idle:
		return j, nil
	case f.slots <- struct{}{}:
		j, err := f.newVM()
		if err != nil {
			<-f.slots
			return nil, err
		}
		return j, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (f *embeddedFunc) put(j *jsVM)   { j.cur = nil; f.idle <- j }
func (f *embeddedFunc) discard(*jsVM) { <-f.slots }

// Serve runs handler(request) on a pooled runtime, interrupted at the
// timeout; a runtime that was interrupted or panicked is discarded.
func (f *embeddedFunc) Serve(w http.ResponseWriter, r *http.Request, c Call) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), f.rt.Timeout)
	defer cancel()
	j, err := f.get(ctx)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return functionTimedOut(f.fn.Name, f.rt.Timeout)
		}
		return err
	}
	id := c.Identity
	if !jwt.ValidRole(id.Role) {
		id = identity.Anonymous() // a role the database does not know runs as anon
	}
	call := &jsCall{ctx: ctx, console: c.Console, caller: database.Caller{
		Identity: id, Method: r.Method, Path: r.URL.Path, Headers: r.Header}}
	j.cur = call
	stop := context.AfterFunc(ctx, func() { j.vm.Interrupt(errVMTimeout) })

	result, runErr := f.run(j, requestObject(r, c, body))
	interrupted := !stop()
	if call.tx != nil {
		end := context.WithoutCancel(ctx)
		if runErr == nil && !interrupted {
			if err := call.tx.Commit(end); err != nil {
				runErr = functionFailed(sqlError(err).Error(), err)
			}
		} else {
			_ = call.tx.Rollback(end)
		}
	}
	if interrupted || runErr != nil && isPanic(runErr) {
		f.discard(j)
	} else {
		f.put(j)
	}
	if interrupted {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return functionTimedOut(f.fn.Name, f.rt.Timeout)
		}
		return ctx.Err()
	}
	if runErr != nil {
		return runErr
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(result)
	return err
}

type panicError struct{ v any }

func (p panicError) Error() string { return fmt.Sprintf("panic: %v", p.v) }

func isPanic(err error) bool { var p panicError; return errors.As(err, &p) }

// run calls handler and returns its JSON-encoded result.
func (f *embeddedFunc) run(j *jsVM, req map[string]any) (out []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = functionFailed("the function crashed", panicError{v})
		}
	}()
	v, err := j.handler(goja.Undefined(), j.vm.ToValue(req))
	if err != nil {
		return nil, f.jsError(err)
	}
	if p, ok := v.Export().(*goja.Promise); ok {
		switch p.State() {
		case goja.PromiseStateFulfilled:
			v = p.Result()
		case goja.PromiseStateRejected:
			return nil, functionFailed(jsErrorMessage(&jsRejection{p.Result()}), nil)
		default:
			return nil, functionFailed("handler returned a promise that never settled (there is no event loop: await only db.query and other promises)", nil)
		}
	}
	var x any
	if v != nil && !goja.IsUndefined(v) {
		x = v.Export()
	}
	b, err := json.Marshal(x)
	if err != nil {
		return nil, functionFailed("the return value is not JSON-serialisable: "+err.Error(), err)
	}
	return b, nil
}

type jsRejection struct{ v goja.Value }

func (r *jsRejection) Error() string { return r.v.String() }

func (f *embeddedFunc) jsError(err error) error {
	var intr *goja.InterruptedError
	if errors.As(err, &intr) {
		return err // the caller sees the interrupt and answers the timeout
	}
	return functionFailed(jsErrorMessage(err), err)
}

// requestObject is the request argument of handler: plain data only.
func requestObject(r *http.Request, c Call, body []byte) map[string]any {
	headers := make(map[string]any, len(r.Header))
	for name, values := range r.Header {
		switch lower := strings.ToLower(name); lower {
		case "authorization", "apikey", "cookie":
		default:
			headers[lower] = strings.Join(values, ", ")
		}
	}
	query := make(map[string]any)
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			query[k] = v[0]
		}
	}
	var claims any = map[string]any{}
	_ = json.Unmarshal(c.Identity.Claims, &claims)
	var sub any
	if c.Identity.Subject != "" {
		sub = c.Identity.Subject
	}
	return map[string]any{
		"method":  r.Method,
		"path":    c.Path,
		"headers": headers,
		"query":   query,
		"body":    parseBody(body),
		"role":    c.Identity.Role,
		"sub":     sub,
		"claims":  claims,
	}
}

// parseBody is the body as JSON when it is JSON, else as text (nil when empty).
func parseBody(body []byte) any {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(body, &v) == nil {
		return v
	}
	return string(body)
}
