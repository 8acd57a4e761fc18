package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/pgstack/pgstack/internal/config"
	"github.com/pgstack/pgstack/internal/database"
	"github.com/pgstack/pgstack/internal/embedded"
	"github.com/pgstack/pgstack/internal/jwt"
	"github.com/pgstack/pgstack/internal/server"
)

func newLogger(cfg *config.Config, out io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Mode == config.ModeStart {
		return slog.New(slog.NewTextHandler(out, opts))
	}
	return slog.New(slog.NewJSONHandler(out, opts))
}

func loadConfig(mode config.Mode) (*config.Config, error) {
	return config.Load(mode, os.LookupEnv)
}

func runServe(ctx context.Context, args []string, _ io.Writer) error {
	if err := flag.NewFlagSet("serve", flag.ContinueOnError).Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(config.ModeServe)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	return server.Run(ctx, cfg, server.RunOptions{Version: version, Log: newLogger(cfg, os.Stderr)})
}

func runMigrate(ctx context.Context, args []string, _ io.Writer) error {
	if err := flag.NewFlagSet("migrate", flag.ContinueOnError).Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(config.ModeServe)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return errors.New("DATABASE_URL is required")
	}
	return database.Migrate(ctx, cfg.DatabaseURL, newLogger(cfg, os.Stderr))
}

func runKeys(_ context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	dir := fs.String("dir", embedded.DefaultDir, "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(config.ModeServe)
	if err != nil {
		return err
	}
	secret := cfg.JWTSecret
	if secret == "" {
		if _, err := os.Stat(*dir); err != nil {
			return errors.New("JWT_SECRET is not set and there is no " + *dir + " to read it from")
		}
		state, err := embedded.LoadState(*dir)
		if err != nil {
			return err
		}
		secret = state.JWTSecret
	}
	if len(secret) < config.MinJWTSecretLength {
		return fmt.Errorf("JWT_SECRET: want at least %d characters", config.MinJWTSecretLength)
	}
	anon, service, err := apiKeys(jwt.New(secret, nil))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "anon key:         %s\nservice_role key: %s\n", anon, service)
	return err
}

func apiKeys(keys *jwt.Keys) (anon, service string, err error) {
	if anon, err = keys.APIKey(jwt.RoleAnon); err != nil {
		return "", "", err
	}
	if service, err = keys.APIKey(jwt.RoleServiceRole); err != nil {
		return "", "", err
	}
	return anon, service, nil
}

func runHealthcheck(ctx context.Context, args []string, _ io.Writer) error {
	if err := flag.NewFlagSet("healthcheck", flag.ContinueOnError).Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(config.ModeServe)
	if err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("LISTEN_ADDR: %w", err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/health", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /health: %s", res.Status)
	}
	return nil
}
