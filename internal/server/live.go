package server

import (
	"github.com/go-chi/chi/v5"

	"github.com/pgstack/pgstack/live"
)

// mountLive serves live queries at /live/v1: a WebSocket route, so no
// request timeout applies, and the bridge lifts the server's write deadline
// per connection.
func mountLive(r chi.Router, d Deps) error {
	bridge := live.New(d.DB.Owner.Config(), live.Options{
		Keys:              d.Keys,
		Log:               d.Log,
		HeartbeatInterval: d.Config.LiveHeartbeatInterval,
		RefreshInterval:   d.Config.LiveRefreshInterval,
		MaxSubscriptions:  d.Config.LiveMaxSubscriptions,
		OriginPatterns:    d.Config.CORSAllowedOrigins,
	})
	r.Method("GET", "/live/v1", bridge)
	return nil
}
