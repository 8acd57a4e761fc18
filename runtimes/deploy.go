package runtimes

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgstack/pgstack/gen/db"
)

// Deploy is what an operator deploys.
type Deploy struct {
	Name        string
	Runtime     string
	VerifyJWT   bool
	Source      string
	UpstreamURL string
}

// Deployer validates, stores and removes functions. Every change goes
// through the catalog table, whose trigger makes every replica reload.
type Deployer struct {
	Owner    *pgxpool.Pool
	Registry *Registry
}

// Deploy validates the function for its runtime, creates its database
// function for plv8/plpython, stores it and reloads the registry. A
// *DeployError says what is wrong with the function.
func (d *Deployer) Deploy(ctx context.Context, in Deploy) (Function, error) {
	if !ValidName(in.Name) {
		return Function{}, deployErrorf("function names are 1-63 letters, digits, '_' or '-', starting with a letter or digit")
	}
	disp, ok := d.Registry.Dispatcher(in.Runtime)
	if !ok {
		return Function{}, deployErrorf("unknown runtime %q (want one of %s)", in.Runtime, strings.Join(Names, ", "))
	}
	if in.Runtime == HTTP {
		if err := ValidateUpstreamURL(in.UpstreamURL); err != nil {
			return Function{}, err
		}
	} else if in.UpstreamURL != "" {
		return Function{}, deployErrorf("upstream_url is only for runtime http")
	}
	fn := Function{Name: in.Name, Runtime: in.Runtime, VerifyJWT: in.VerifyJWT, Source: in.Source, UpstreamURL: in.UpstreamURL}
	if _, err := disp.Prepare(ctx, fn); err != nil {
		return Function{}, err
	}
	var stored Function
	err := pgx.BeginTxFunc(ctx, d.Owner, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if ext := Extension(in.Runtime); ext != "" {
			if err := createInDatabase(ctx, tx, in.Runtime, fn); err != nil {
				return err
			}
		}
		row, err := db.New(tx).UpsertEdgeFunction(ctx, db.UpsertEdgeFunctionParams{
			Name: in.Name, Runtime: in.Runtime, VerifyJwt: in.VerifyJWT,
			Source: optional(in.Source), UpstreamUrl: optional(in.UpstreamURL),
		})
		if err != nil {
			return fmt.Errorf("store function %s: %w", in.Name, err)
		}
		stored = FromRow(row)
		return nil
	})
	if err != nil {
		return Function{}, err
	}
	if _, err := d.Registry.Reload(ctx); err != nil {
		return Function{}, err
	}
	return stored, nil
}

// Delete removes a function and its database function.
func (d *Deployer) Delete(ctx context.Context, name string) error {
	err := pgx.BeginTxFunc(ctx, d.Owner, pgx.TxOptions{}, func(tx pgx.Tx) error {
		row, err := db.New(tx).DeleteEdgeFunction(ctx, name)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("delete function %s: %w", name, err)
		}
		if Extension(row.Runtime) != "" {
			if _, err := tx.Exec(ctx, DropFunctionSQL(name)); err != nil {
				return fmt.Errorf("drop %s: %w", SQLName(name), err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = d.Registry.Reload(ctx)
	return err
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// EnsureInDatabase creates pgstack.fn_<name> unless it already has the
// function's source in the runtime's language.
func EnsureInDatabase(ctx context.Context, owner *pgxpool.Pool, runtime string, fn Function) error {
	stmts, err := CreateFunctionSQL(runtime, fn.Name, fn.Source)
	if err != nil {
		return err
	}
	cur, err := db.New(owner).InDatabaseFunctionSource(ctx, "fn_"+fn.Name)
	if err == nil && cur.Language == Extension(runtime) && strings.Contains(stmts[0], cur.Prosrc) {
		return nil
	}
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("read %s: %w", SQLName(fn.Name), err)
	}
	return pgx.BeginTxFunc(ctx, owner, pgx.TxOptions{}, func(tx pgx.Tx) error {
		return createInDatabase(ctx, tx, runtime, fn)
	})
}

// createInDatabase installs the language if needed (400 naming the
// extension when the server does not have it) and creates the function.
func createInDatabase(ctx context.Context, tx pgx.Tx, runtime string, fn Function) error {
	ext := Extension(runtime)
	var available bool
	if err := tx.QueryRow(ctx,
		"SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = $1)", ext).Scan(&available); err != nil {
		return fmt.Errorf("check extension %s: %w", ext, err)
	}
	if !available {
		return deployErrorf("runtime %s needs the PostgreSQL extension %s, which this database server does not have "+
			"(install it on the server, e.g. the db/Dockerfile image)", runtime, ext)
	}
	if _, err := tx.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS "+pgx.Identifier{ext}.Sanitize()); err != nil {
		return fmt.Errorf("create extension %s: %w", ext, err)
	}
	stmts, err := CreateFunctionSQL(runtime, fn.Name, fn.Source)
	if err != nil {
		return err
	}
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s); err != nil {
			return deployErrorf("creating %s failed: %v", SQLName(fn.Name), sqlError(err))
		}
	}
	return nil
}
