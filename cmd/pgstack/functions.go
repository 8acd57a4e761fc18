package main

import (
	"context"
	"io"

	"github.com/pgstack/pgstack/internal/config"
	"github.com/pgstack/pgstack/internal/functionscli"
)

func runFunctions(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := loadConfig(config.ModeServe)
	if err != nil {
		return err
	}
	return functionscli.Run(ctx, args, functionscli.Env{ServiceRoleKey: cfg.ServiceRoleKey, Out: stdout})
}
