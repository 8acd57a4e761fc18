package database

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/pgstack/pgstack/migrations"
)

// migrationLockID is the advisory lock that serialises migrations of replicas
// starting together.
const migrationLockID = 0x7067737461636b // "pgstack"

// versionTable keeps goose's bookkeeping out of the exposed public schema.
const versionTable = "pgstack.schema_migrations"

// Migrate applies pending platform migrations through the owner connection at
// databaseURL, under an advisory lock. Applied migrations are skipped, so it
// is safe on every start.
func Migrate(ctx context.Context, databaseURL string, log *slog.Logger) error {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()

	if err := bootstrap(ctx, db); err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS,
		goose.WithSessionLocker(locker),
		goose.WithTableName(versionTable),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	for _, r := range results {
		log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// bootstrap creates the schema that holds goose's version table. It is the
// only DDL outside the migration files. CREATE SCHEMA IF NOT EXISTS is not
// safe against a concurrent twin, so it runs under the migration lock too.
func bootstrap(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create schema pgstack: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLockID)); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS pgstack`); err != nil {
		return fmt.Errorf("create schema pgstack: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create schema pgstack: %w", err)
	}
	return nil
}
