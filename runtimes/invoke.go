package runtimes

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/pgstack/pgstack/internal/httperr"
	"github.com/pgstack/pgstack/internal/identity"
	"github.com/pgstack/pgstack/internal/jwt"
	"github.com/pgstack/pgstack/internal/requestlog"
)

// HeaderRelayError marks errors the proxy produced, not the function
// (@supabase/functions-js turns them into FunctionsRelayError).
const HeaderRelayError = "X-Relay-Error"

// Invoker serves /functions/v1/{name} and everything below it.
type Invoker struct {
	Registry *Registry
	Keys     *jwt.Keys
	Logs     *Logs
}

// Serve invokes function name: it resolves the caller (401 for a bad token,
// or for no token when the function verifies JWTs), strips client-sent
// X-Pgstack-* headers and dispatches to the function's runtime.
func (v *Invoker) Serve(w http.ResponseWriter, r *http.Request, name string) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	var fnErr error
	console := &Console{}
	defer func() {
		if fnErr == nil && rec.status == 0 {
			return // no function was reached (unknown name)
		}
		e := LogEntry{Function: name, RequestID: requestlog.ID(r.Context()), Method: r.Method,
			Status: rec.status, Duration: time.Since(start)}
		if fnErr != nil {
			e.Error = publicMessage(fnErr)
		}
		e.Console = console.String()
		v.Logs.Record(e)
	}()

	if !ValidName(name) {
		relayError(w, r, httperr.NotFound(httperr.CodeNotFound, "function not found"))
		return
	}
	fn, h, err := v.Registry.Lookup(name)
	if errors.Is(err, ErrNotFound) {
		relayError(w, r, httperr.NotFound(httperr.CodeNotFound, "function %s not found", name))
		return
	}
	id, idErr := identity.Resolve(v.Keys, r)
	switch {
	case idErr != nil:
		fnErr = idErr
	case fn.VerifyJWT && id.Token == "":
		fnErr = httperr.Unauthorized(httperr.CodeUnauthorized, "function %s needs a JWT: send the anon key or a user's access token", name)
	case err != nil:
		// The reason goes to the invocation log and the server log, not to callers.
		fnErr = httperr.New(http.StatusServiceUnavailable, httperr.CodeUnavailable,
			"function %s could not be loaded; its log says why", name).WithCause(err)
	}
	if fnErr != nil {
		rec.status = httperr.From(fnErr).Status
		relayError(w, r, fnErr)
		return
	}
	fnPath, ok := functionPath(r.URL.Path, name)
	if !ok {
		fnErr = httperr.BadRequest(httperr.CodeBadRequest, "the path must stay below /functions/v1/%s", name)
		rec.status = http.StatusBadRequest
		relayError(w, r, fnErr)
		return
	}
	stripPgstackHeaders(r.Header)
	call := Call{Function: fn, Identity: id, Path: fnPath, Console: console}
	fnErr = h.Serve(rec, r, call)
	if fnErr == nil {
		return
	}
	if rec.status != 0 {
		return // the response had started; nothing more can be said
	}
	var fe *FunctionError
	if errors.As(fnErr, &fe) {
		rec.status = fe.Status
		requestlog.Logger(r.Context()).Debug("function failed", "function", name, "code", fe.Code, "error", fnErr)
		httperr.WriteJSON(rec, fe.Status, map[string]string{"code": fe.Code, "message": fe.Message})
		return
	}
	rec.status = httperr.From(fnErr).Status
	relayError(rec, r, fnErr)
}

// functionPath is the path after /functions/v1: /<name>[/rest], cleaned of
// dot segments. It is false when the path would leave /<name> (such as
// /functions/v1/a/../b, which an upstream would route to function b).
func functionPath(p, name string) (string, bool) {
	rest, ok := strings.CutPrefix(p, "/functions/v1")
	if !ok {
		return "", false
	}
	clean := path.Clean(rest)
	if clean != "/"+name && !strings.HasPrefix(clean, "/"+name+"/") {
		return "", false
	}
	if strings.HasSuffix(rest, "/") && clean != "/" {
		clean += "/"
	}
	return clean, true
}

// relayError writes a proxy-produced error with x-relay-error: true.
func relayError(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set(HeaderRelayError, "true")
	httperr.Write(w, r, err)
}

// publicMessage is what the invocation log records of err: a function's
// own error, why a function could not be loaded, or the client's message.
func publicMessage(err error) string {
	var fe *FunctionError
	if errors.As(err, &fe) {
		return fe.Message
	}
	var de *DeployError
	if errors.As(err, &de) {
		return de.Message
	}
	return httperr.From(err).Message
}

// recorder remembers the status a handler wrote and keeps streaming working.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(r.ResponseWriter).Hijack()
}
