// Package httperr is pgStack's error value for HTTP boundaries and the writer
// of its own JSON error format: {"code", "message", "details"?, "hint"?,
// "request_id"?}. Other wire formats (GoTrue's, PostgREST's) render the same
// *Error with their own writers.
package httperr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/pgstack/pgstack/internal/requestlog"
)

// Error is an error with the HTTP status and the public code and message a
// client sees. The cause is for logs only and is never serialised.
type Error struct {
	Status  int
	Code    string
	Message string
	Details string
	Hint    string
	cause   error
}

// New returns an *Error.
func New(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// BadRequest is a 400.
func BadRequest(code, format string, args ...any) *Error {
	return New(http.StatusBadRequest, code, format, args...)
}

// Unauthorized is a 401.
func Unauthorized(code, format string, args ...any) *Error {
	return New(http.StatusUnauthorized, code, format, args...)
}

// Forbidden is a 403.
func Forbidden(code, format string, args ...any) *Error {
	return New(http.StatusForbidden, code, format, args...)
}

// NotFound is a 404.
func NotFound(code, format string, args ...any) *Error {
	return New(http.StatusNotFound, code, format, args...)
}

// Internal is a 500 whose cause goes to the log, never to the client.
func Internal(cause error) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal server error", cause: cause}
}

// WithCause records the internal cause.
func (e *Error) WithCause(err error) *Error { e.cause = err; return e }

// WithDetails sets the details field.
func (e *Error) WithDetails(d string) *Error { e.Details = d; return e }

// WithHint sets the hint field.
func (e *Error) WithHint(h string) *Error { e.Hint = h; return e }

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.Status, e.Code, e.Message, e.cause)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.cause }

// From turns any error into an *Error: *Error passes through, a body past the
// size limit is 413, a cancelled or timed-out request is 503/504, anything
// else is a 500 that hides its cause.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return New(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
			"request body is larger than %d bytes", tooLarge.Limit).WithCause(err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return New(http.StatusGatewayTimeout, CodeTimeout, "request timed out").WithCause(err)
	}
	if errors.Is(err, context.Canceled) {
		return New(http.StatusServiceUnavailable, CodeUnavailable, "request was cancelled").WithCause(err)
	}
	return Internal(err)
}

type body struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Details   string `json:"details,omitempty"`
	Hint      string `json:"hint,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// Write renders err in pgStack's JSON error format and logs it once: 5xx at
// error level with the cause, others at debug.
func Write(w http.ResponseWriter, r *http.Request, err error) {
	e := From(err)
	Log(r, e)
	b := body{Code: e.Code, Message: e.Message, Details: e.Details, Hint: e.Hint}
	if e.Status >= 500 {
		b.RequestID = requestlog.ID(r.Context())
	}
	WriteJSON(w, e.Status, b)
}

// Log records e on the request's logger: the boundary logs an error once.
func Log(r *http.Request, e *Error) {
	log := requestlog.Logger(r.Context())
	if e.Status >= 500 {
		log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.Int("status", e.Status), slog.String("code", e.Code), slog.Any("error", e.cause))
		return
	}
	log.LogAttrs(r.Context(), slog.LevelDebug, "request rejected",
		slog.Int("status", e.Status), slog.String("code", e.Code), slog.String("message", e.Message))
}

// WriteJSON writes v as a JSON response with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
