package database

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// BeginAsCaller opens a transaction on the request pool set up exactly as
// AsCaller sets it up (the caller's role, claims and request GUCs), with
// timeout as its statement_timeout (0: the server's STATEMENT_TIMEOUT). It is
// for callers whose statements arrive one at a time over a longer span, such
// as an edge function's db.query calls; the caller commits or rolls back.
func (d *DB) BeginAsCaller(ctx context.Context, c Caller, timeout time.Duration) (pgx.Tx, error) {
	sql, args, err := d.setup(c, timeout, false)
	if err != nil {
		return nil, err
	}
	tx, err := d.Requests.BeginTx(ctx, txOptions(c))
	if err != nil {
		return nil, fmt.Errorf("begin caller transaction: %w", err)
	}
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("set up caller transaction: %w", err)
	}
	return tx, nil
}
