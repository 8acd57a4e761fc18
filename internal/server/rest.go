package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/pgstack/pgstack/internal/identity"
	"github.com/pgstack/pgstack/postgrest"
)

// mountREST serves the PostgREST-compatible API at /rest/v1: the schema
// cache is loaded now and reloaded on NOTIFY pgrst until the database closes.
func mountREST(r chi.Router, d Deps) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Statements are prepared as the authenticator before the role switch:
	// it needs USAGE on the exposed schemas, also on ones created later. A
	// reload means the schema changed: statements prepared before are
	// prepared again, with the types they now have.
	grant := func(ctx context.Context) error {
		d.DB.ForgetStatements()
		return d.DB.GrantSchemaUsage(ctx, d.Config.RESTSchemas)
	}
	schema, err := postgrest.NewSchema(ctx, d.DB.Owner, d.Config.RESTSchemas, d.Log, grant)
	if err != nil {
		return fmt.Errorf("load REST schema cache: %w", err)
	}
	d.DB.OnClose(schema.Stop)
	h := &postgrest.Handler{DB: d.DB, Schema: schema, MaxRows: d.Config.RESTMaxRows,
		Aggregates: d.Config.RESTAggregates}
	// Clients send the same tokens on every request: verify each pair once.
	ids := identity.NewCache(d.Keys, 10000, nil)
	r.Route("/rest/v1", func(r chi.Router) {
		r.Use(ids.Middleware(postgrest.WriteError))
		r.Handle("/*", http.StripPrefix("/rest/v1", h))
	})
	return nil
}
