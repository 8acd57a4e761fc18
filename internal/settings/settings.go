// Package settings reports the server's effective settings and capabilities:
// what Studio and the CLI show, and what decides which function runtimes can
// be deployed.
package settings

import (
	"context"
	"fmt"

	"github.com/pgstack/pgstack/gen/db"
	"github.com/pgstack/pgstack/internal/config"
)

// Runtime names, as pgstack.edge_functions.runtime stores them.
const (
	RuntimeEmbedded = "embedded"
	RuntimePLV8     = "plv8"
	RuntimePLPython = "plpython"
	RuntimeDeno     = "deno"
	RuntimeHTTP     = "http"
)

// runtimeExtensions maps the in-database runtimes to the extension each needs.
var runtimeExtensions = map[string]string{
	RuntimePLV8:     "plv8",
	RuntimePLPython: "plpython3u",
}

// Runtime says whether a function runtime can be used here, and if not why.
type Runtime struct {
	Name      string
	Available bool
	Reason    string
}

// Settings are the effective settings of this server.
type Settings struct {
	Version            string
	DatabaseVersion    string
	JWTExpirySeconds   int
	RESTSchemas        []string
	MaxBodySize        int64
	SQLEndpointEnabled bool
	SiteURL            string
	Runtimes           []Runtime
}

// Service computes Settings.
type Service struct {
	cfg     *config.Config
	queries db.Querier
	version string
}

// New returns a Service.
func New(cfg *config.Config, queries db.Querier, version string) *Service {
	return &Service{cfg: cfg, queries: queries, version: version}
}

// Get returns the current settings, asking the database for its version and
// which runtime extensions it can install.
func (s *Service) Get(ctx context.Context) (Settings, error) {
	version, err := s.queries.GetServerVersion(ctx)
	if err != nil {
		return Settings{}, fmt.Errorf("read server version: %w", err)
	}
	available, err := s.availableExtensions(ctx)
	if err != nil {
		return Settings{}, err
	}
	runtimes := []Runtime{{Name: RuntimeEmbedded, Available: true}}
	for _, name := range []string{RuntimePLV8, RuntimePLPython} {
		ext := runtimeExtensions[name]
		rt := Runtime{Name: name, Available: available[ext]}
		if !rt.Available {
			rt.Reason = fmt.Sprintf("the PostgreSQL extension %s is not available on this server", ext)
		}
		runtimes = append(runtimes, rt)
	}
	deno := Runtime{Name: RuntimeDeno, Available: s.cfg.EdgeRuntimeURL != ""}
	if !deno.Available {
		deno.Reason = "EDGE_RUNTIME_URL is not set"
	}
	runtimes = append(runtimes, deno, Runtime{Name: RuntimeHTTP, Available: true})

	return Settings{
		Version:            s.version,
		DatabaseVersion:    version,
		JWTExpirySeconds:   int(s.cfg.JWTExpiry.Seconds()),
		RESTSchemas:        s.cfg.RESTSchemas,
		MaxBodySize:        s.cfg.MaxBodySize,
		SQLEndpointEnabled: s.cfg.EnableSQLEndpoint,
		SiteURL:            s.cfg.SiteURL,
		Runtimes:           runtimes,
	}, nil
}

func (s *Service) availableExtensions(ctx context.Context) (map[string]bool, error) {
	names := make([]string, 0, len(runtimeExtensions))
	for _, ext := range runtimeExtensions {
		names = append(names, ext)
	}
	rows, err := s.queries.ListAvailableExtensions(ctx, names)
	if err != nil {
		return nil, fmt.Errorf("list available extensions: %w", err)
	}
	out := make(map[string]bool, len(rows))
	for _, r := range rows {
		out[r.Name] = true
	}
	return out, nil
}
