package handlers

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgstack/pgstack/gen/api/admin"
	"github.com/pgstack/pgstack/gen/db"
	"github.com/pgstack/pgstack/internal/httperr"
	"github.com/pgstack/pgstack/internal/sqlrun"
	"github.com/pgstack/pgstack/runtimes"
)

// FunctionsAdmin is the functions part of the admin API: deploy, list, read,
// delete, logs, and POST /api/sql.
type FunctionsAdmin struct {
	Deployer   *runtimes.Deployer
	Queries    *db.Queries
	Owner      *pgxpool.Pool
	SQLEnabled bool
}

// ListEdgeFunctions lists the catalog without sources.
func (a *Admin) ListEdgeFunctions(ctx context.Context, _ admin.ListEdgeFunctionsRequestObject) (admin.ListEdgeFunctionsResponseObject, error) {
	rows, err := a.functions.Queries.ListEdgeFunctions(ctx)
	if err != nil {
		return nil, err
	}
	out := make(admin.ListEdgeFunctions200JSONResponse, 0, len(rows))
	for _, row := range rows {
		fn := edgeFunction(runtimes.FromRow(row), row.CreatedAt.Time)
		fn.Source = nil
		out = append(out, fn)
	}
	return out, nil
}

// DeployEdgeFunction creates or replaces a function.
func (a *Admin) DeployEdgeFunction(ctx context.Context, req admin.DeployEdgeFunctionRequestObject) (admin.DeployEdgeFunctionResponseObject, error) {
	b := req.Body
	in := runtimes.Deploy{Name: b.Name, Runtime: string(b.Runtime), VerifyJWT: b.VerifyJwt == nil || *b.VerifyJwt}
	if b.Source != nil {
		in.Source = *b.Source
	}
	if b.UpstreamUrl != nil {
		in.UpstreamURL = *b.UpstreamUrl
	}
	fn, err := a.functions.Deployer.Deploy(ctx, in)
	var de *runtimes.DeployError
	if errors.As(err, &de) {
		return nil, httperr.BadRequest("invalid_function", "%s", de.Message)
	}
	if err != nil {
		return nil, err
	}
	row, err := a.functions.Queries.GetEdgeFunction(ctx, fn.Name)
	if err != nil {
		return nil, err
	}
	return admin.DeployEdgeFunction200JSONResponse(edgeFunction(fn, row.CreatedAt.Time)), nil
}

// GetEdgeFunction returns one function with its source.
func (a *Admin) GetEdgeFunction(ctx context.Context, req admin.GetEdgeFunctionRequestObject) (admin.GetEdgeFunctionResponseObject, error) {
	row, err := a.functions.Queries.GetEdgeFunction(ctx, req.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, httperr.NotFound(httperr.CodeNotFound, "function %s not found", req.Name)
	}
	if err != nil {
		return nil, err
	}
	return admin.GetEdgeFunction200JSONResponse(edgeFunction(runtimes.FromRow(row), row.CreatedAt.Time)), nil
}

// DeleteEdgeFunction deletes a function.
func (a *Admin) DeleteEdgeFunction(ctx context.Context, req admin.DeleteEdgeFunctionRequestObject) (admin.DeleteEdgeFunctionResponseObject, error) {
	err := a.functions.Deployer.Delete(ctx, req.Name)
	if errors.Is(err, runtimes.ErrNotFound) {
		return nil, httperr.NotFound(httperr.CodeNotFound, "function %s not found", req.Name)
	}
	if err != nil {
		return nil, err
	}
	return admin.DeleteEdgeFunction204Response{}, nil
}

// ListEdgeFunctionLogs returns a function's latest invocations.
func (a *Admin) ListEdgeFunctionLogs(ctx context.Context, req admin.ListEdgeFunctionLogsRequestObject) (admin.ListEdgeFunctionLogsResponseObject, error) {
	limit := 100
	if req.Params.Limit != nil {
		limit = min(max(*req.Params.Limit, 1), 1000)
	}
	rows, err := a.functions.Queries.ListEdgeFunctionLogs(ctx, db.ListEdgeFunctionLogsParams{FunctionName: req.Name, MaxRows: int32(limit)})
	if err != nil {
		return nil, err
	}
	out := make(admin.ListEdgeFunctionLogs200JSONResponse, 0, len(rows))
	for _, r := range rows {
		out = append(out, admin.EdgeFunctionLog{Id: r.ID, FunctionName: r.FunctionName, RequestId: r.RequestID,
			Method: r.Method, Status: int(r.Status), DurationMs: r.DurationMs, Error: r.Error, Console: r.Console,
			CreatedAt: r.CreatedAt.Time})
	}
	return out, nil
}

// RunSql runs operator SQL when ENABLE_SQL_ENDPOINT is true.
func (a *Admin) RunSql(ctx context.Context, req admin.RunSqlRequestObject) (admin.RunSqlResponseObject, error) {
	if !a.functions.SQLEnabled {
		return nil, httperr.NotFound(httperr.CodeNotFound, "the SQL endpoint is disabled (set ENABLE_SQL_ENDPOINT=true)")
	}
	res, err := sqlrun.Run(ctx, a.functions.Owner, req.Body.Query)
	var se *sqlrun.StatementError
	if errors.As(err, &se) {
		return nil, httperr.BadRequest("sql_error", "%s", se.PgErr.Message).WithDetails("SQLSTATE " + se.PgErr.Code)
	}
	if err != nil {
		return nil, err
	}
	return admin.RunSql200JSONResponse{Command: res.Command, Rows: res.Rows}, nil
}

func edgeFunction(fn runtimes.Function, created time.Time) admin.EdgeFunction {
	out := admin.EdgeFunction{CreatedAt: created, Name: fn.Name, Runtime: admin.EdgeFunctionRuntime(fn.Runtime), VerifyJwt: fn.VerifyJWT, UpdatedAt: fn.UpdatedAt}
	if fn.Source != "" {
		out.Source = &fn.Source
	}
	if fn.UpstreamURL != "" {
		out.UpstreamUrl = &fn.UpstreamURL
	}
	return out
}
