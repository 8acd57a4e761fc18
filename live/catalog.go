package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrQueryNotFound means no live query has the requested name.
var ErrQueryNotFound = errors.New("live query not found")

// Catalog reads pg_reactive's registry for the admin API.
type Catalog struct {
	pool *pgxpool.Pool
}

// NewCatalog reads through pool (the owner pool).
func NewCatalog(pool *pgxpool.Pool) *Catalog { return &Catalog{pool: pool} }

// QueryInfo is one registered live query.
type QueryInfo struct {
	Name, SQL            string
	Key, Columns, Tables []string
	// ClaimPaths are the claims that decide a cohort; nil means all claims.
	ClaimPaths           []string
	Cohorts, Subscribers int64
	CreatedAt            time.Time
}

// CohortInfo is one stream of a live query.
type CohortInfo struct {
	Stream              int64
	Params, Claims      map[string]any
	Role, Epoch         string
	Version             int64
	Error               *string
	Subscribers, Rows   int64
	CreatedAt, LastUsed time.Time
}

func (c *Catalog) available(ctx context.Context) error {
	ok, err := (&store{pool: c.pool}).available(ctx)
	if err != nil {
		return fmt.Errorf("look up pg_reactive: %w", err)
	}
	if !ok {
		return ErrUnavailable
	}
	return nil
}

// Queries lists the registered live queries by name.
func (c *Catalog) Queries(ctx context.Context) ([]QueryInfo, error) {
	if err := c.available(ctx); err != nil {
		return nil, err
	}
	rows, err := c.pool.Query(ctx, `SELECT name, sql, key_cols, columns, tables, claim_paths, cohorts, subscribers, created_at
		FROM pgr.queries ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list live queries: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (QueryInfo, error) {
		var q QueryInfo
		err := r.Scan(&q.Name, &q.SQL, &q.Key, &q.Columns, &q.Tables, &q.ClaimPaths, &q.Cohorts, &q.Subscribers, &q.CreatedAt)
		return q, err
	})
}

// Cohorts lists the streams of the live query name, newest first.
func (c *Catalog) Cohorts(ctx context.Context, name string) ([]CohortInfo, error) {
	if err := c.available(ctx); err != nil {
		return nil, err
	}
	var exists bool
	if err := c.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pgr.query WHERE name = $1)`, name).Scan(&exists); err != nil {
		return nil, fmt.Errorf("look up live query: %w", err)
	}
	if !exists {
		return nil, ErrQueryNotFound
	}
	rows, err := c.pool.Query(ctx, `SELECT stream, params, role, claims_key, epoch, v, error, subscribers, rows, created_at, last_used
		FROM pgr.cohorts WHERE query = $1 ORDER BY stream DESC`, name)
	if err != nil {
		return nil, fmt.Errorf("list cohorts: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (CohortInfo, error) {
		var ch CohortInfo
		var params, claims []byte
		if err := r.Scan(&ch.Stream, &params, &ch.Role, &claims, &ch.Epoch, &ch.Version, &ch.Error,
			&ch.Subscribers, &ch.Rows, &ch.CreatedAt, &ch.LastUsed); err != nil {
			return ch, err
		}
		if err := json.Unmarshal(params, &ch.Params); err != nil {
			return ch, err
		}
		return ch, json.Unmarshal(claims, &ch.Claims)
	})
}
