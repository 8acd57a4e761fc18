package database

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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
	// Commit commits in the same round trip as the statements (the
	// pipeline's implicit transaction).
	Commit Ending = iota
	// Decide leaves the transaction open until decide has seen the results:
	// one more round trip, for requests that may roll back (singular writes,
	// max-affected, Prefer: tx=rollback).
	Decide
	// CommitAlone is Commit on a connection of its own, never coalesced with
	// other requests' transactions: for calls of user code (RPC), whose
	// duration nobody knows, so a slow one delays no other request and stays
	// cancellable when its client goes away.
	CommitAlone
)

// Pipeline runs stmts as the caller in one transaction, sending the caller
// setup and the statements together, so a request costs one network round
// trip once its statements are prepared on the connection. With Commit, the
// transaction goes through the coalescer when there is one: under load it
// shares that round trip with other requests' transactions (see coalescer);
// CommitAlone never does.
// The semantics are AsCaller's: the role and claims are set before any
// statement runs, and only the roles the authenticator may switch to are
// accepted. With Decide, decide is called after the statements ran and
// returns whether to commit; any error rolls back.
//
// The first time a statement runs on a connection, it is prepared before the
// transaction runs, so its parse analysis runs as the authenticator: a
// statement may only name schemas the authenticator has USAGE on (see
// GrantSchemaUsage). Privileges and row level security are checked when it
// executes, as the caller; a prepared plan is re-planned when the role
// differs from the one it was planned for.
func (d *DB) Pipeline(ctx context.Context, c Caller, ending Ending, decide func() bool, stmts ...Statement) error {
	explicit := ending == Decide
	setup, args, err := d.setup(c, 0, c.ReadOnly && !explicit)
	if err != nil {
		return err
	}
	if ending == Commit && d.coalesce != nil {
		all := append([]Statement{{SQL: setup, Args: args}}, stmts...)
		return d.coalesce.do(ctx, all, func() error {
			return d.pipeline(ctx, c.ReadOnly, ending, decide, setup, args, stmts)
		})
	}
	return d.pipeline(ctx, c.ReadOnly, ending, decide, setup, args, stmts)
}

// pipeline sends one caller transaction on a connection of its own.
func (d *DB) pipeline(ctx context.Context, readOnly bool, ending Ending, decide func() bool,
	setup string, args []any, stmts []Statement) error {
	explicit := ending == Decide
	conn, err := d.Requests.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()

	// With Commit the transaction is the pipeline's implicit one: every
	// statement up to the batch's single Sync runs in one transaction that
	// commits at the Sync, or rolls back entirely if a statement fails. That
	// saves the BEGIN and COMMIT statements. Decide needs an explicit block.
	b := &pgx.Batch{}
	if explicit {
		begin := "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE"
		if readOnly {
			begin = "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY"
		}
		b.Queue(begin)
	}
	b.Queue(setup, args...)
	for _, s := range stmts {
		b.Queue(s.SQL, s.Args...)
	}

	runErr := func() error {
		br := conn.SendBatch(ctx, b)
		defer br.Close()
		if explicit {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("begin: %w", err)
			}
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

// GrantSchemaUsage lets the authenticator look up names in schemas (USAGE
// only: no table privileges), so statements naming them can be prepared
// before the role switch of a pipelined transaction. Schemas that do not
// exist (yet) are skipped.
func (d *DB) GrantSchemaUsage(ctx context.Context, schemas []string) error {
	rows, err := d.Owner.Query(ctx, `SELECT nspname::text FROM pg_catalog.pg_namespace
		WHERE nspname = ANY($1) AND NOT has_schema_privilege($2, oid, 'USAGE')`, schemas, AuthenticatorRole)
	if err != nil {
		return fmt.Errorf("check schema usage of %s: %w", AuthenticatorRole, err)
	}
	missing, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("check schema usage of %s: %w", AuthenticatorRole, err)
	}
	for _, s := range missing {
		if _, err := d.Owner.Exec(ctx, fmt.Sprintf("GRANT USAGE ON SCHEMA %s TO %s",
			pgx.Identifier{s}.Sanitize(), pgx.Identifier{AuthenticatorRole}.Sanitize())); err != nil {
			return fmt.Errorf("grant usage on schema %s to %s: %w", s, AuthenticatorRole, err)
		}
	}
	return nil
}
