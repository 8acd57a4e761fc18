package handlers

import (
	"context"
	"errors"

	"github.com/pgstack/pgstack/gen/api/admin"
	"github.com/pgstack/pgstack/internal/httperr"
	"github.com/pgstack/pgstack/live"
)

// WithLive gives the admin API the live-query catalog.
func (a *Admin) WithLive(c *live.Catalog) *Admin {
	a.live = c
	return a
}

func liveUnavailable() admin.LiveUnavailableJSONResponse {
	return admin.LiveUnavailableJSONResponse{Code: httperr.CodeUnavailable, Message: live.ErrUnavailable.Error()}
}

// ListLiveQueries lists the registered live queries.
func (a *Admin) ListLiveQueries(ctx context.Context, _ admin.ListLiveQueriesRequestObject) (admin.ListLiveQueriesResponseObject, error) {
	qs, err := a.live.Queries(ctx)
	if errors.Is(err, live.ErrUnavailable) {
		return admin.ListLiveQueries503JSONResponse{LiveUnavailableJSONResponse: liveUnavailable()}, nil
	}
	if err != nil {
		return nil, err
	}
	out := make(admin.ListLiveQueries200JSONResponse, 0, len(qs))
	for _, q := range qs {
		item := admin.LiveQuery{Name: q.Name, Sql: q.SQL, Key: q.Key, Columns: q.Columns, Tables: q.Tables,
			Cohorts: q.Cohorts, Subscribers: q.Subscribers, CreatedAt: q.CreatedAt}
		if q.ClaimPaths != nil {
			item.ClaimPaths = &q.ClaimPaths
		}
		out = append(out, item)
	}
	return out, nil
}

// ListLiveCohorts lists the cohorts of one live query.
func (a *Admin) ListLiveCohorts(ctx context.Context, req admin.ListLiveCohortsRequestObject) (admin.ListLiveCohortsResponseObject, error) {
	cs, err := a.live.Cohorts(ctx, req.Name)
	switch {
	case errors.Is(err, live.ErrUnavailable):
		return admin.ListLiveCohorts503JSONResponse{LiveUnavailableJSONResponse: liveUnavailable()}, nil
	case errors.Is(err, live.ErrQueryNotFound):
		return admin.ListLiveCohorts404JSONResponse{Code: httperr.CodeNotFound, Message: "no live query is registered under this name"}, nil
	case err != nil:
		return nil, err
	}
	out := make(admin.ListLiveCohorts200JSONResponse, 0, len(cs))
	for _, c := range cs {
		out = append(out, admin.LiveCohort{Stream: c.Stream, Params: c.Params, Role: c.Role, Claims: c.Claims,
			Epoch: c.Epoch, Version: c.Version, Error: c.Error, Subscribers: c.Subscribers, Rows: c.Rows,
			CreatedAt: c.CreatedAt, LastUsed: c.LastUsed})
	}
	return out, nil
}
