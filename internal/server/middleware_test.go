package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pgstack/pgstack/internal/httperr"
)

// A body without a declared length trips the limit while it is read, and the
// error writer turns that into a JSON 413.
func TestLimitBodyChunked(t *testing.T) {
	h := limitBody(1024, httperr.Write)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			httperr.Write(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	for _, c := range []struct {
		size int
		want int
	}{{1024, http.StatusNoContent}, {1025, http.StatusRequestEntityTooLarge}} {
		req := httptest.NewRequest("POST", "/", io.MultiReader(strings.NewReader(strings.Repeat("x", c.size))))
		req.ContentLength = -1
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("%d-byte chunked body: status %d, want %d", c.size, rec.Code, c.want)
		}
		if c.want == http.StatusRequestEntityTooLarge && !strings.Contains(rec.Body.String(), `"code":"request_too_large"`) {
			t.Errorf("413 body = %s", rec.Body)
		}
	}
}

func TestRecoverPanics(t *testing.T) {
	h := recoverPanics(httperr.Write)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), `"code":"internal_error"`) ||
		strings.Contains(rec.Body.String(), "boom") {
		t.Errorf("panic: %d %s, want a JSON 500 that hides the panic value", rec.Code, rec.Body)
	}
}
