// Package server assembles pgStack's HTTP server: the middleware chain, every
// API mounted on one chi router, timeouts and graceful shutdown.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgstack/pgstack/gen/api/admin"
	"github.com/pgstack/pgstack/handlers"
	"github.com/pgstack/pgstack/internal/auth"
	"github.com/pgstack/pgstack/internal/config"
	"github.com/pgstack/pgstack/internal/database"
	"github.com/pgstack/pgstack/internal/dbschema"
	"github.com/pgstack/pgstack/internal/httperr"
	"github.com/pgstack/pgstack/internal/jwt"
	"github.com/pgstack/pgstack/internal/metrics"
	"github.com/pgstack/pgstack/internal/requestlog"
	"github.com/pgstack/pgstack/internal/settings"
	"github.com/pgstack/pgstack/live"
	"github.com/pgstack/pgstack/postgrest"
)

// Timeouts of the HTTP server. Streaming and WebSocket routes lift the write
// deadline per request.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 60 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	shutdownBudget    = 15 * time.Second
)

// Deps is everything the server is built from.
type Deps struct {
	Config  *config.Config
	DB      *database.DB
	Keys    *jwt.Keys
	Log     *slog.Logger
	Version string
}

// Server is the assembled HTTP server.
type Server struct {
	deps    Deps
	handler http.Handler
}

// New builds the router.
func New(d Deps) (*Server, error) {
	m := metrics.New()
	m.RegisterPools(map[string]*pgxpool.Pool{"requests": d.DB.Requests, "owner": d.DB.Owner})
	m.RegisterPipeline(d.DB.PipelineStats)

	formats := errorFormats{
		{"/auth/v1/", auth.WriteError},
		{"/functions/v1/", relayErrors},
		{"/rest/v1/", postgrest.WriteError},
	}
	r := chi.NewRouter()
	r.Use(requestlog.Middleware(d.Log), recoverPanics(formats.write), m.Middleware,
		corsHandler(d.Config.CORSAllowedOrigins), limitBody(d.Config.MaxBodySize, formats.write))
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		formats.write(w, r, httperr.NotFound(httperr.CodeNotFound, "no route for %s %s", r.Method, r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		formats.write(w, r, httperr.New(http.StatusMethodNotAllowed, httperr.CodeMethodNotAllowed,
			"method %s is not allowed on %s", r.Method, r.URL.Path))
	})
	r.Method(http.MethodGet, "/metrics", m.Handler())

	fns, err := mountFunctions(r, d)
	if err != nil {
		return nil, err
	}
	if err := mountAdmin(r, d, fns); err != nil {
		return nil, err
	}
	if err := mountAuth(r, d); err != nil {
		return nil, err
	}
	if err := mountREST(r, d); err != nil {
		return nil, err
	}
	if err := mountLive(r, d); err != nil {
		return nil, err
	}
	return &Server{deps: d, handler: r}, nil
}

func mountAdmin(r chi.Router, d Deps, fns *handlers.FunctionsAdmin) error {
	spec, err := admin.GetSwagger()
	if err != nil {
		return fmt.Errorf("load admin spec: %w", err)
	}
	authorize, err := handlers.Authorize(spec, d.Keys)
	if err != nil {
		return err
	}
	impl := handlers.NewAdmin(d.DB, settings.New(d.Config, d.DB.Queries, d.Version), fns).WithLive(live.NewCatalog(d.DB.Owner)).
		WithSchema(dbschema.New(d.DB.Owner, d.DB.Queries, d.Config.RESTSchemas))
	strict := admin.NewStrictHandlerWithOptions(impl, []admin.StrictMiddlewareFunc{
		func(f admin.StrictHandlerFunc, op string) admin.StrictHandlerFunc { return authorize(f, op) },
	}, admin.StrictHTTPServerOptions{
		RequestErrorHandlerFunc:  badRequest,
		ResponseErrorHandlerFunc: httperr.Write,
	})
	admin.HandlerWithOptions(strict, admin.ChiServerOptions{BaseRouter: r, ErrorHandlerFunc: badRequest})
	return nil
}

// badRequest answers request-decoding and parameter errors of generated
// handlers; a body past the size limit stays a 413.
func badRequest(w http.ResponseWriter, r *http.Request, err error) {
	e := httperr.From(err)
	if e.Status == http.StatusInternalServerError {
		e = httperr.BadRequest(httperr.CodeBadRequest, "%s", err.Error())
	}
	httperr.Write(w, r, e)
}

// Handler returns the assembled router.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves on ln until ctx ends, then drains in-flight requests within
// the shutdown budget.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(s.deps.Log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.deps.Log.Info("shutting down")
	// The parent context is done; the drain gets its own budget.
	sctx, cancel := context.WithTimeout(context.Background(), shutdownBudget)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
