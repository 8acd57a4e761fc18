// Package handlers implements the generated strict-server interfaces. Each
// method adapts a generated request object to one call into the package that
// owns the logic and maps the result to a typed response object.
package handlers

import (
	"context"

	"github.com/pgstack/pgstack/gen/api/admin"
	"github.com/pgstack/pgstack/internal/dbschema"
	"github.com/pgstack/pgstack/internal/settings"
	"github.com/pgstack/pgstack/live"
)

// Pinger reports whether the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Admin serves openapi/admin.yaml: health and /api.
type Admin struct {
	db        Pinger
	settings  *settings.Service
	functions *FunctionsAdmin
	live      *live.Catalog
	schema    *dbschema.Service
}

var _ admin.StrictServerInterface = (*Admin)(nil)

// NewAdmin returns the admin API implementation.
func NewAdmin(db Pinger, s *settings.Service, functions *FunctionsAdmin) *Admin {
	return &Admin{db: db, settings: s, functions: functions}
}
