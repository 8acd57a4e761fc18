// Package requestlog gives every request an id and a logger carrying it, and
// writes one access-log line per request.
package requestlog

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/google/uuid"
)

// Header is the request-id header: accepted from the client when well formed,
// always set on the response.
const Header = "X-Request-Id"

type ctxKey int

const (
	idKey ctxKey = iota
	loggerKey
)

// ID returns the request id, or "" outside a request.
func ID(ctx context.Context) string {
	id, _ := ctx.Value(idKey).(string)
	return id
}

// Logger returns the request's logger, or slog.Default outside a request.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// WithLogger returns ctx carrying log (for work outside an HTTP request).
func WithLogger(ctx context.Context, log *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey, log)
}

// Middleware assigns the request id, attaches a logger with it and logs the
// request when it completes.
func Middleware(base *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := r.Header.Get(Header)
			if !wellFormed(id) {
				id = uuid.NewString()
			}
			w.Header().Set(Header, id)
			log := base.With(slog.String("request_id", id))
			ctx := context.WithValue(r.Context(), idKey, id)
			ctx = context.WithValue(ctx, loggerKey, log)

			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r.WithContext(ctx))

			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelWarn
			}
			log.LogAttrs(ctx, level, "request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Int("bytes", ww.BytesWritten()),
				slog.Duration("duration", time.Since(start)),
			)
		})
	}
}

// wellFormed accepts ids of 1-128 characters from [A-Za-z0-9._-], so a client
// cannot inject anything into logs through the header.
func wellFormed(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}
