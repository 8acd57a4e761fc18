package main

import (
	"context"
	"io"
	"os"

	"github.com/pgstack/pgstack/internal/config"
	"github.com/pgstack/pgstack/internal/embedded"
	"github.com/pgstack/pgstack/internal/jwt"
	"github.com/pgstack/pgstack/internal/typegen"
)

func runGen(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := loadConfig(config.ModeServe)
	if err != nil {
		return err
	}
	return typegen.Run(ctx, args, typegen.Env{ServiceRoleKey: cfg.ServiceRoleKey, LocalServiceRoleKey: localServiceKey, Out: stdout})
}

// localServiceKey is the service-role key of the server `pgstack start` runs
// from this directory (as `supabase gen types --local` needs no key), or ""
// when there is none.
func localServiceKey() string {
	if _, err := os.Stat(embedded.DefaultDir); err != nil {
		return ""
	}
	state, err := embedded.LoadState(embedded.DefaultDir)
	if err != nil || len(state.JWTSecret) < config.MinJWTSecretLength {
		return ""
	}
	key, err := jwt.New(state.JWTSecret, nil).APIKey(jwt.RoleServiceRole)
	if err != nil {
		return ""
	}
	return key
}
