package handlers

import (
	"context"
	"time"

	"github.com/pgstack/pgstack/gen/api/admin"
	"github.com/pgstack/pgstack/internal/requestlog"
)

// healthBudget bounds the database check so a stuck database reads as down.
const healthBudget = 2 * time.Second

// GetHealth answers 200 once the database answers, 503 otherwise.
func (a *Admin) GetHealth(ctx context.Context, _ admin.GetHealthRequestObject) (admin.GetHealthResponseObject, error) {
	ctx, cancel := context.WithTimeout(ctx, healthBudget)
	defer cancel()
	if err := a.db.Ping(ctx); err != nil {
		requestlog.Logger(ctx).Warn("health check: database does not answer", "error", err)
		return admin.GetHealth503JSONResponse{Status: admin.Unavailable}, nil
	}
	return admin.GetHealth200JSONResponse{Status: admin.Ok}, nil
}
