package postgrest_test

import (
	"testing"
	"time"

	"github.com/pgstack/pgstack/internal/config"
	"github.com/pgstack/pgstack/internal/jstest"
)

// TestSupabaseJS drives /rest/v1 with the real supabase-js (postgrest-js).
func TestSupabaseJS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *config.Config) { c.RESTAggregates = true })
	jstest.Run(t, "rest.test.mjs", map[string]string{
		"PGSTACK_URL":         e.Serve(t),
		"PGSTACK_ANON_KEY":    e.AnonKey,
		"PGSTACK_SERVICE_KEY": e.ServiceKey,
		"PGSTACK_ALICE_TOKEN": e.UserToken(t, alice, time.Hour),
		"PGSTACK_BOB_TOKEN":   e.UserToken(t, bob, time.Hour),
		"PGSTACK_ALICE_ID":    alice,
		"PGSTACK_BOB_ID":      bob,
	})
}
