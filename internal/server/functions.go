package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/pgstack/pgstack/gen/api/functions"
	"github.com/pgstack/pgstack/handlers"
	"github.com/pgstack/pgstack/internal/httperr"
	"github.com/pgstack/pgstack/runtimes"
)

// functionsStartBudget bounds loading the function catalog at startup.
const functionsStartBudget = 30 * time.Second

// mountFunctions serves /functions/v1 and returns the functions part of the
// admin API. The registry loads pgstack.edge_functions now and follows its
// changes on a dedicated LISTEN connection.
func mountFunctions(r chi.Router, d Deps) (*handlers.FunctionsAdmin, error) {
	timeout := d.Config.FunctionTimeout
	dispatchers := map[string]runtimes.Dispatcher{
		runtimes.Embedded: &runtimes.EmbeddedRuntime{DB: d.DB, Timeout: timeout},
		runtimes.PLV8:     &runtimes.InDatabaseRuntime{Runtime: runtimes.PLV8, DB: d.DB, Timeout: timeout},
		runtimes.PLPython: &runtimes.InDatabaseRuntime{Runtime: runtimes.PLPython, DB: d.DB, Timeout: timeout},
		runtimes.Deno:     &runtimes.ProxyRuntime{Runtime: runtimes.Deno, EdgeRuntimeURL: d.Config.EdgeRuntimeURL, Transport: runtimes.NewTransport()},
		runtimes.HTTP:     &runtimes.ProxyRuntime{Runtime: runtimes.HTTP, Transport: runtimes.NewTransport()},
	}
	registry := runtimes.NewRegistry(d.DB.Owner, dispatchers, d.Log)
	ctx, cancel := context.WithTimeout(context.Background(), functionsStartBudget)
	defer cancel()
	if err := registry.Start(ctx); err != nil {
		return nil, fmt.Errorf("load edge functions: %w", err)
	}

	spec, err := functions.GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("load functions spec: %w", err)
	}
	authorize, err := handlers.Authorize(spec, d.Keys)
	if err != nil {
		return nil, err
	}
	strict := functions.NewStrictHandlerWithOptions(handlers.NewFunctions(registry), []functions.StrictMiddlewareFunc{
		func(f functions.StrictHandlerFunc, op string) functions.StrictHandlerFunc { return authorize(f, op) },
	}, functions.StrictHTTPServerOptions{
		RequestErrorHandlerFunc:  badRequest,
		ResponseErrorHandlerFunc: relayErrors,
	})
	invoker := &runtimes.Invoker{Registry: registry, Keys: d.Keys, Logs: runtimes.NewLogs(d.DB.Owner, d.Log, registry.Done())}
	functions.HandlerWithOptions(handlers.InvokeRoutes(strict, invoker), functions.ChiServerOptions{
		BaseRouter: r, ErrorHandlerFunc: badRequest,
	})
	// Paths below a function (/functions/v1/{name}/...) reach it too.
	r.HandleFunc("/functions/v1/{name}/*", func(w http.ResponseWriter, req *http.Request) {
		invoker.Serve(w, req, chi.URLParam(req, "name"))
	})
	return &handlers.FunctionsAdmin{
		Deployer:   &runtimes.Deployer{Owner: d.DB.Owner, Registry: registry},
		Queries:    d.DB.Queries,
		Owner:      d.DB.Owner,
		SQLEnabled: d.Config.EnableSQLEndpoint,
	}, nil
}

// relayErrors writes errors of the functions API itself: they come from the
// proxy, so they carry x-relay-error.
func relayErrors(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set(runtimes.HeaderRelayError, "true")
	httperr.Write(w, r, err)
}
