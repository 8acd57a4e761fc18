package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/pgstack/pgstack/gen/api/functions"
	"github.com/pgstack/pgstack/internal/httperr"
	"github.com/pgstack/pgstack/runtimes"
)

// Functions serves openapi/functions.yaml: listing and refreshing the
// registry. Invocations stream and are served by runtimes.Invoker directly
// (InvokeRoutes), not through the strict server.
type Functions struct {
	registry *runtimes.Registry
}

var _ functions.StrictServerInterface = (*Functions)(nil)

// NewFunctions returns the functions API implementation.
func NewFunctions(registry *runtimes.Registry) *Functions {
	return &Functions{registry: registry}
}

// ListFunctions lists the functions the registry holds.
func (f *Functions) ListFunctions(context.Context, functions.ListFunctionsRequestObject) (functions.ListFunctionsResponseObject, error) {
	fns := f.registry.Functions()
	out := make(functions.ListFunctions200JSONResponse, 0, len(fns))
	for _, fn := range fns {
		out = append(out, functions.FunctionSummary{Name: fn.Name, Runtime: functions.FunctionSummaryRuntime(fn.Runtime), VerifyJwt: fn.VerifyJWT})
	}
	return out, nil
}

// RefreshFunctions reloads the registry from the catalog.
func (f *Functions) RefreshFunctions(ctx context.Context, _ functions.RefreshFunctionsRequestObject) (functions.RefreshFunctionsResponseObject, error) {
	n, err := f.registry.Reload(ctx)
	if err != nil {
		return nil, err
	}
	return functions.RefreshFunctions200JSONResponse{Functions: n}, nil
}

var errStreamed = errors.New("invocations are served by the streaming invoker")

// InvokeFunctionGet is served by InvokeRoutes; the strict server never calls it.
func (f *Functions) InvokeFunctionGet(context.Context, functions.InvokeFunctionGetRequestObject) (functions.InvokeFunctionGetResponseObject, error) {
	return nil, httperr.Internal(errStreamed)
}

// InvokeFunctionPost is served by InvokeRoutes; the strict server never calls it.
func (f *Functions) InvokeFunctionPost(context.Context, functions.InvokeFunctionPostRequestObject) (functions.InvokeFunctionPostResponseObject, error) {
	return nil, httperr.Internal(errStreamed)
}

// InvokeFunctionPut is served by InvokeRoutes; the strict server never calls it.
func (f *Functions) InvokeFunctionPut(context.Context, functions.InvokeFunctionPutRequestObject) (functions.InvokeFunctionPutResponseObject, error) {
	return nil, httperr.Internal(errStreamed)
}

// InvokeFunctionPatch is served by InvokeRoutes; the strict server never calls it.
func (f *Functions) InvokeFunctionPatch(context.Context, functions.InvokeFunctionPatchRequestObject) (functions.InvokeFunctionPatchResponseObject, error) {
	return nil, httperr.Internal(errStreamed)
}

// InvokeFunctionDelete is served by InvokeRoutes; the strict server never calls it.
func (f *Functions) InvokeFunctionDelete(context.Context, functions.InvokeFunctionDeleteRequestObject) (functions.InvokeFunctionDeleteResponseObject, error) {
	return nil, httperr.Internal(errStreamed)
}

// InvokeRoutes replaces the generated invoke operations of si with the
// streaming invoker.
func InvokeRoutes(si functions.ServerInterface, inv *runtimes.Invoker) functions.ServerInterface {
	return invokeRoutes{ServerInterface: si, inv: inv}
}

type invokeRoutes struct {
	functions.ServerInterface
	inv *runtimes.Invoker
}

func (i invokeRoutes) InvokeFunctionGet(w http.ResponseWriter, r *http.Request, name string) {
	i.inv.Serve(w, r, name)
}

func (i invokeRoutes) InvokeFunctionPost(w http.ResponseWriter, r *http.Request, name string) {
	i.inv.Serve(w, r, name)
}

func (i invokeRoutes) InvokeFunctionPut(w http.ResponseWriter, r *http.Request, name string) {
	i.inv.Serve(w, r, name)
}

func (i invokeRoutes) InvokeFunctionPatch(w http.ResponseWriter, r *http.Request, name string) {
	i.inv.Serve(w, r, name)
}

func (i invokeRoutes) InvokeFunctionDelete(w http.ResponseWriter, r *http.Request, name string) {
	i.inv.Serve(w, r, name)
}
