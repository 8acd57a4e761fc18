// Package runtimes runs edge functions. A Dispatcher per runtime (embedded
// goja, PL/v8 and PL/Python inside PostgreSQL, a Deno edge-runtime sidecar,
// any HTTP service) prepares a catalog entry into a Handler; the Registry
// holds the prepared functions of pgstack.edge_functions and keeps them
// current; Invoker serves /functions/v1/{name} with them.
package runtimes

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/pgstack/pgstack/internal/identity"
)

// Runtime names, as pgstack.edge_functions.runtime stores them.
const (
	Embedded = "embedded"
	PLV8     = "plv8"
	PLPython = "plpython"
	Deno     = "deno"
	HTTP     = "http"
)

// Names lists every runtime.
var Names = []string{Embedded, PLV8, PLPython, Deno, HTTP}

// Function is one catalog entry.
type Function struct {
	Name        string
	Runtime     string
	VerifyJWT   bool
	Source      string
	UpstreamURL string
	UpdatedAt   time.Time
}

// Call is what a Handler knows about one invocation besides the request.
type Call struct {
	Function Function
	Identity identity.Identity
	// Path is the request path after /functions/v1, starting with /<name>.
	Path string
	// Console collects the function's console output for its log.
	Console *Console
}

// Dispatcher turns a catalog entry of its runtime into a Handler. Prepare
// validates (and compiles) the function; its error is a *DeployError when
// the function itself is at fault.
type Dispatcher interface {
	Prepare(ctx context.Context, fn Function) (Handler, error)
}

// Handler serves invocations of one prepared function. It writes the
// function's response to w, or returns an error and writes nothing: a
// *FunctionError when the function's own code failed, any other error when
// the proxy could not run it.
type Handler interface {
	Serve(w http.ResponseWriter, r *http.Request, c Call) error
}

// DeployError says why a function cannot be deployed (400).
type DeployError struct{ Message string }

func (e *DeployError) Error() string { return e.Message }

func deployErrorf(format string, args ...any) error {
	return &DeployError{Message: fmt.Sprintf(format, args...)}
}

// FunctionError is an error of the function's own code (a thrown error, a
// timeout, a failed statement). It is answered in pgStack's JSON error format
// without x-relay-error, so clients see it as the function's response.
type FunctionError struct {
	Status  int
	Code    string
	Message string
	cause   error
}

func (e *FunctionError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.cause)
	}
	return e.Code + ": " + e.Message
}

func (e *FunctionError) Unwrap() error { return e.cause }

// Error codes of function-originated errors.
const (
	CodeFunctionError   = "function_error"
	CodeFunctionTimeout = "function_timeout"
)

func functionFailed(message string, cause error) *FunctionError {
	return &FunctionError{Status: http.StatusInternalServerError, Code: CodeFunctionError, Message: message, cause: cause}
}

func functionTimedOut(name string, d time.Duration) *FunctionError {
	return &FunctionError{Status: http.StatusGatewayTimeout, Code: CodeFunctionTimeout,
		Message: fmt.Sprintf("function %s did not finish within %s (FUNCTION_TIMEOUT)", name, d)}
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)

// ValidName reports whether name can name a function (the catalog's check).
func ValidName(name string) bool { return nameRE.MatchString(name) }

// ErrNotFound is returned for a function the catalog does not hold.
var ErrNotFound = errors.New("function not found")
