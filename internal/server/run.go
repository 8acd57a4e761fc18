package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/pgstack/pgstack/internal/config"
	"github.com/pgstack/pgstack/internal/database"
)

// RunOptions configures Run.
type RunOptions struct {
	Version string
	Log     *slog.Logger
	// OnReady is called once the server listens, with its address.
	OnReady func(addr net.Addr)
}

// Run migrates the database, opens the pools and serves until ctx ends.
func Run(ctx context.Context, cfg *config.Config, o RunOptions) error {
	if err := database.Migrate(ctx, cfg.DatabaseURL, o.Log); err != nil {
		return err
	}
	db, err := database.Open(ctx, database.Options{
		DatabaseURL:           cfg.DatabaseURL,
		AuthenticatorPassword: cfg.AuthenticatorPassword,
		Secret:                cfg.JWTSecret,
		PoolSize:              cfg.DBPoolSize,
		PipelineDepth:         cfg.DBPipelineDepth,
		StatementTimeout:      cfg.StatementTimeout,
	})
	if err != nil {
		return err
	}
	defer db.Close()

	keys, err := NewKeys(cfg)
	if err != nil {
		return err
	}
	srv, err := New(Deps{Config: cfg, DB: db, Keys: keys, Log: o.Log, Version: o.Version})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s (LISTEN_ADDR): %w", cfg.ListenAddr, err)
	}
	o.Log.Info("pgstack listening", "addr", "http://"+ln.Addr().String())
	if o.OnReady != nil {
		o.OnReady(ln.Addr())
	}
	return srv.Serve(ctx, ln)
}
