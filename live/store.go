package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrUnavailable means the database has no pg_reactive.
var ErrUnavailable = errors.New("live queries are unavailable: the pg_reactive extension is not installed in this database")

// store runs pg_reactive's SQL functions. Subscribers' queries run inside
// them, under the subscriber's role with its claims bound as parameters
// (pgr._eval: set_config('role', ...), set_config('request.jwt.claims', ...)),
// the same setup as database.AsCaller.
type store struct {
	pool *pgxpool.Pool
}

// attachment is a stream joined by a subscriber.
type attachment struct {
	Stream  int64
	Epoch   string
	V       int64
	Key     []string
	Columns []string
	Rows    json.RawMessage
}

func (st *store) available(ctx context.Context) (bool, error) {
	var ok bool
	err := st.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_reactive')`).Scan(&ok)
	return ok, err
}

func (st *store) attach(ctx context.Context, query string, params json.RawMessage, role string, claims json.RawMessage, holder string) (attachment, error) {
	var a attachment
	var rows []byte
	err := st.pool.QueryRow(ctx, `SELECT stream, epoch, v, key_cols, columns, rows FROM pgr.attach($1, $2::jsonb, $3, $4::jsonb, $5)`,
		query, string(params), role, string(claims), holder).Scan(&a.Stream, &a.Epoch, &a.V, &a.Key, &a.Columns, &rows)
	a.Rows = rows
	return a, err
}

func (st *store) detach(ctx context.Context, stream int64, holder string, n int) error {
	_, err := st.pool.Exec(ctx, `SELECT pgr.detach($1, $2, $3)`, stream, holder, n)
	return err
}

// loggedDelta is one row of pgr.delta_log.
type loggedDelta struct {
	V       int64
	Epoch   string
	Payload json.RawMessage
}

func (st *store) deltas(ctx context.Context, stream, since int64) ([]loggedDelta, error) {
	rows, err := st.pool.Query(ctx, `SELECT v, epoch, payload FROM pgr.deltas($1, $2)`, stream, since)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (loggedDelta, error) {
		var d loggedDelta
		var p []byte
		err := r.Scan(&d.V, &d.Epoch, &p)
		d.Payload = p
		return d, err
	})
}

// errStreamGone means the stream no longer exists (collected, or the query
// was re-registered).
var errStreamGone = errors.New("stream no longer exists")

func (st *store) snapshot(ctx context.Context, stream int64) (epoch string, v int64, rows json.RawMessage, err error) {
	var b []byte
	err = st.pool.QueryRow(ctx, `SELECT epoch, v, rows FROM pgr.snapshot($1)`, stream).Scan(&epoch, &v, &b)
	if errors.Is(err, pgx.ErrNoRows) {
		err = errStreamGone
	}
	return epoch, v, b, err
}

type head struct {
	Stream int64
	Epoch  string
	V      int64
	Error  *string
}

func (st *store) heads(ctx context.Context, streams []int64) ([]head, error) {
	rows, err := st.pool.Query(ctx, `SELECT stream, epoch, v, error FROM pgr.heads($1)`, streams)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[head])
}

func (st *store) touch(ctx context.Context, holder string) error {
	_, err := st.pool.Exec(ctx, `SELECT pgr.touch($1)`, holder)
	return err
}

func (st *store) release(ctx context.Context, holder string) error {
	_, err := st.pool.Exec(ctx, `SELECT pgr.release($1)`, holder)
	return err
}

func (st *store) gc(ctx context.Context) error {
	_, err := st.pool.Exec(ctx, `SELECT pgr.gc()`)
	return err
}

// pending reports whether changes wait for a refresh tick (one round trip,
// no transaction: an idle tick costs only this).
func (st *store) pending(ctx context.Context) (bool, error) {
	var ok bool
	err := st.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pgr.dirty)`).Scan(&ok)
	return ok, err
}

// workerRunning reports whether pg_reactive's background worker refreshes
// this database.
func (st *store) workerRunning(ctx context.Context) (bool, error) {
	var ok bool
	err := st.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity
		WHERE backend_type = 'pg_reactive refresher' AND datname = current_database())`).Scan(&ok)
	return ok, err
}

// refresh runs one tick of the refresher: pgr.refresh() in a REPEATABLE READ
// transaction. It returns the number of deltas emitted (-1: another
// refresher holds the lock). A serialization failure means a concurrent
// attach or refresh won; the next tick redoes the work.
func (st *store) refresh(ctx context.Context) (int, error) {
	var n int
	err := pgx.BeginTxFunc(ctx, st.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT pgr.refresh()`).Scan(&n)
	})
	if isSerialization(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("refresh live queries: %w", err)
	}
	return n, nil
}

func isSerialization(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}
