package server

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/go-chi/cors"

	"github.com/pgstack/pgstack/internal/httperr"
	"github.com/pgstack/pgstack/internal/requestlog"
)

// errorFormats picks the wire format of errors raised before a request
// reaches its API (body limit, unknown route, panic): each API prefix has its
// own writer; everything else gets pgStack's format.
type errorFormats []struct {
	prefix string
	write  func(http.ResponseWriter, *http.Request, error)
}

func (f errorFormats) write(w http.ResponseWriter, r *http.Request, err error) {
	for _, format := range f {
		if strings.HasPrefix(r.URL.Path, format.prefix) {
			format.write(w, r, err)
			return
		}
	}
	httperr.Write(w, r, err)
}

// recoverPanics turns a panic in a handler into a logged 500 in the API's
// error format.
func recoverPanics(writeErr func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				requestlog.Logger(r.Context()).Error("panic", slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				writeErr(w, r, httperr.Internal(errors.New("panic")))
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// limitBody caps request bodies at max bytes: a declared length past it is
// answered at once with 413; a chunked body fails when read past it, and the
// error writers map that failure to 413.
func limitBody(max int64, writeErr func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > max {
				writeErr(w, r, httperr.New(http.StatusRequestEntityTooLarge, httperr.CodeBodyTooLarge,
					"request body is larger than %d bytes", max))
				return
			}
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(w, r.Body, max)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// corsHandler allows browsers to call every API the way supabase-js does and
// exposes the response headers its libraries read.
func corsHandler(origins []string) func(http.Handler) http.Handler {
	return cors.Handler(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
			http.MethodPatch, http.MethodDelete, http.MethodOptions},
		// Any requested header: supabase-js sends apikey, authorization,
		// x-client-info, prefer, range, accept-profile, content-profile,
		// x-supabase-api-version and more.
		AllowedHeaders: []string{"*"},
		ExposedHeaders: []string{
			"Content-Range", "Content-Location", "Location", "Range-Unit", "Preference-Applied",
			"X-Total-Count", "Link", "X-Supabase-Api-Version", "X-Sb-Error-Code",
			"X-Relay-Error", "X-Request-Id",
		},
		MaxAge: 86400,
	})
}
