package database

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgstack/pgstack/internal/jwt"
)

// Statement is one statement of a pipelined caller transaction: its SQL, its
// arguments and how to read its single result row.
type Statement struct {
	SQL  string
	Args []any
	// Scan reads the statement's rows; nil discards them.
	Scan func(pgx.Rows) error
}

// Ending says how a pipelined transaction ends.
type Ending int

const (
	// Commit commits in the same round trip as the statements.
	Commit Ending = iota
	// Decide leaves the transaction open until decide has seen the results:
	// one more round trip, for requests that may roll back (singular writes,
	// max-affected, Prefer: tx=rollback).
	Decide
)

// Pipeline runs stmts as the caller in one transaction, sending BEGIN, the
// caller setup, the statements and (with Commit) COMMIT as one pgx batch, so
// a request costs one network round trip once its statements are prepared on
// the connection. The semantics are AsCaller's: the role and claims are set
// before any statement runs, and only the roles the authenticator may switch
// to are accepted. With Decide, decide is called after the statements ran
// and returns whether to commit; any error rolls back.
func (d *DB) Pipeline(ctx context.Context, c Caller, ending Ending, decide func() bool, stmts ...Statement) error {
	if !jwt.ValidRole(c.Identity.Role) {
		return fmt.Errorf("run as caller: role %q is not allowed", c.Identity.Role)
	}
	claims := string(c.Identity.Claims)
	if claims == "" {
		claims = "{}"
	}
	headers, err := headersJSON(c.Headers)
	if err != nil {
		return err
	}
	conn, err := d.Requests.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()

	begin := "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE"
	if c.ReadOnly {
		begin = "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY"
	}
	b := &pgx.Batch{}
	b.Queue(begin)
	b.Queue(setupSQL, c.Identity.Role, claims, c.Method, c.Path, headers,
		strconv.FormatInt(d.statementTimeout.Milliseconds(), 10))
	for _, s := range stmts {
		b.Queue(s.SQL, s.Args...)
	}
	if ending == Commit {
		b.Queue("COMMIT")
	}

	runErr := func() error {
		br := conn.SendBatch(ctx, b)
		defer br.Close()
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("set up caller transaction: %w", err)
		}
		for _, s := range stmts {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			if s.Scan != nil {
				err = s.Scan(rows)
			}
			rows.Close()
			if err == nil {
				err = rows.Err()
			}
			if err != nil {
				return err
			}
		}
		if ending == Commit {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("commit: %w", err)
			}
		}
		return br.Close()
	}()

	pc := conn.Conn().PgConn()
	if runErr != nil {
		// A failed statement leaves the transaction aborted; end it so the
		// connection goes back to the pool clean.
		if pc.TxStatus() != 'I' && !pc.IsClosed() {
			if _, err := conn.Exec(context.WithoutCancel(ctx), "ROLLBACK"); err != nil {
				return errors.Join(runErr, fmt.Errorf("rollback: %w", err))
			}
		}
		return runErr
	}
	if ending == Decide {
		end := "ROLLBACK"
		if decide == nil || decide() {
			end = "COMMIT"
		}
		if _, err := conn.Exec(ctx, end); err != nil {
			return fmt.Errorf("%s: %w", end, err)
		}
	}
	return nil
}

// PgError returns the PostgreSQL error inside err, if any.
func PgError(err error) (*pgconn.PgError, bool) {
	var pgErr *pgconn.PgError
	ok := errors.As(err, &pgErr)
	return pgErr, ok
}
