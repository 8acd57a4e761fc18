package database

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgstack/pgstack/internal/jwt"
)

// BeginAsCaller opens a transaction on the request pool set up exactly as
// AsCaller sets it up (the caller's role, claims and request GUCs), with
// timeout as its statement_timeout (0: the server's STATEMENT_TIMEOUT). It is
// for callers whose statements arrive one at a time over a longer span, such
// as an edge function's db.query calls; the caller commits or rolls back.
func (d *DB) BeginAsCaller(ctx context.Context, c Caller, timeout time.Duration) (pgx.Tx, error) {
	if !jwt.ValidRole(c.Identity.Role) {
		return nil, fmt.Errorf("run as caller: role %q is not allowed", c.Identity.Role)
	}
	if timeout <= 0 {
		timeout = d.statementTimeout
	}
	claims := string(c.Identity.Claims)
	if claims == "" {
		claims = "{}"
	}
	headers, err := headersJSON(c.Headers)
	if err != nil {
		return nil, err
	}
	mode := pgx.ReadWrite
	if c.ReadOnly {
		mode = pgx.ReadOnly
	}
	tx, err := d.Requests.BeginTx(ctx, pgx.TxOptions{AccessMode: mode})
	if err != nil {
		return nil, fmt.Errorf("begin caller transaction: %w", err)
	}
	if _, err := tx.Exec(ctx, setupSQL, c.Identity.Role, claims, c.Method, c.Path, headers,
		strconv.FormatInt(timeout.Milliseconds(), 10)); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("set up caller transaction: %w", err)
	}
	return tx, nil
}
