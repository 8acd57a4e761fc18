package server_test

import (
	"testing"

	"github.com/pgstack/pgstack/internal/apitest"
	"github.com/pgstack/pgstack/internal/jstest"
)

func TestClientLibraries(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	jstest.Run(t, "platform.test.mjs", map[string]string{
		"PGSTACK_URL":         e.Serve(t),
		"PGSTACK_ANON_KEY":    e.AnonKey,
		"PGSTACK_SERVICE_KEY": e.ServiceKey,
	})
}
