package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/pgstack/pgstack/internal/config"
	"github.com/pgstack/pgstack/internal/embedded"
	"github.com/pgstack/pgstack/internal/jwt"
	"github.com/pgstack/pgstack/internal/server"
)

func runStart(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("start", flag.ContinueOnError)
	dir := fs.String("dir", embedded.DefaultDir, "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(config.ModeStart)
	if err != nil {
		return err
	}
	log := newLogger(cfg, os.Stderr)

	psqlURL := ""
	if cfg.DatabaseURL == "" {
		db, err := embedded.Start(ctx, *dir, log)
		if err != nil {
			return err
		}
		defer func() {
			// ctx is done by now; stopping PostgreSQL gets its own budget.
			sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := db.Stop(sctx); err != nil {
				log.Error("stop postgres", "error", err)
				return
			}
			log.Info("postgres stopped")
		}()
		cfg.DatabaseURL = db.URL()
		psqlURL = db.TCPURL()
		if cfg.JWTSecret == "" {
			cfg.JWTSecret = db.State.JWTSecret
		}
	} else if cfg.JWTSecret == "" {
		state, err := embedded.LoadState(*dir)
		if err != nil {
			return err
		}
		cfg.JWTSecret = state.JWTSecret
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	anon, service, err := apiKeys(jwt.New(cfg.JWTSecret, nil))
	if err != nil {
		return err
	}
	return server.Run(ctx, cfg, server.RunOptions{
		Version: version,
		Log:     log,
		OnReady: func(addr net.Addr) {
			base := "http://" + addr.String()
			fmt.Fprintf(stdout, "\npgStack is running.\n\n"+
				"  API URL:          %s\n"+
				"  REST:             %s/rest/v1\n"+
				"  Auth:             %s/auth/v1\n"+
				"  Studio:           %s/studio\n", base, base, base, base)
			if psqlURL != "" {
				fmt.Fprintf(stdout, "  Database:         %s\n", psqlURL)
			}
			fmt.Fprintf(stdout, "  anon key:         %s\n  service_role key: %s\n\nPress Ctrl-C to stop.\n\n", anon, service)
		},
	})
}
