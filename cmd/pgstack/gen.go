package main

import (
	"context"
	"io"

	"github.com/pgstack/pgstack/internal/config"
	"github.com/pgstack/pgstack/internal/typegen"
)

func runGen(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := loadConfig(config.ModeServe)
	if err != nil {
		return err
	}
	return typegen.Run(ctx, args, typegen.Env{ServiceRoleKey: cfg.ServiceRoleKey, Out: stdout})
}
