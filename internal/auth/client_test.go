package auth_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/pgstack/pgstack/internal/config"
	"github.com/pgstack/pgstack/internal/jstest"
)

// TestSupabaseJS drives the real @supabase/supabase-js auth client against
// the server. The test adds /test/mail, which returns the link and code of
// the last mail to an address, the way a user would read them.
func TestSupabaseJS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *config.Config) {
		// A reused refresh token is refused at once, so the client test can
		// show it without waiting out an interval.
		c.Auth.RefreshTokenReuseInterval = 0
	})
	product := e.Handler
	mux := http.NewServeMux()
	mux.HandleFunc("GET /test/mail", func(w http.ResponseWriter, r *http.Request) {
		m, ok := e.mail.last(r.URL.Query().Get("to"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"link": m.Link(), "otp": m.OTP(), "subject": m.Subject})
	})
	mux.Handle("/", product)
	e.Handler = mux
	jstest.Run(t, "auth.test.mjs", map[string]string{
		"PGSTACK_URL":         e.Serve(t),
		"PGSTACK_ANON_KEY":    e.AnonKey,
		"PGSTACK_SERVICE_KEY": e.ServiceKey,
	})
}
