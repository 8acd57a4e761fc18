// Command pgstack runs pgStack: `pgstack start` on an embedded PostgreSQL,
// `pgstack serve` in production, and the tools around them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout io.Writer) error
}

func commands() []command {
	return []command{
		{"start", "Run on an embedded PostgreSQL kept in .pgstack/ (the development default)", runStart},
		{"serve", "Run against DATABASE_URL (production)", runServe},
		{"migrate", "Apply pending platform migrations to DATABASE_URL and exit", runMigrate},
		{"functions", "Edge functions: new, deploy, list, delete, serve (see pgstack functions)", runFunctions},
		{"gen", "Generate code from the database: gen types typescript (see pgstack gen --help)", runGen},
		{"keys", "Print the anon and service-role API keys for JWT_SECRET", runKeys},
		{"healthcheck", "Exit 0 if the server at LISTEN_ADDR answers GET /health with 200", runHealthcheck},
		{"version", "Print the version", func(_ context.Context, _ []string, out io.Writer) error {
			_, err := fmt.Fprintln(out, "pgstack", version)
			return err
		}},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout)
		if errors.Is(err, flag.ErrHelp) {
			printHelp(stdout)
			return 0
		}
		if err != nil {
			fmt.Fprintf(stderr, "pgstack %s: %v\n", c.name, err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "pgstack: unknown command %q\n\n", args[0])
	printHelp(stderr)
	return 2
}
