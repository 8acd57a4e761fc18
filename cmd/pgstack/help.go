package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/pgstack/pgstack/internal/config"
)

func printHelp(w io.Writer) {
	fmt.Fprint(w, `pgstack: a PostgreSQL-native backend (auth, REST, live queries, edge functions) in one binary.

Usage:
  pgstack <command> [flags]

Commands:
`)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	fmt.Fprintf(tw, "  help\tShow this help\n")
	tw.Flush()
	fmt.Fprint(w, `
Flags:
  start --dir DIR   where the embedded cluster and its secrets live (default .pgstack)
  keys  --dir DIR   read JWT_SECRET from DIR/state.json when it is not set

Environment:
`)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, v := range config.Vars {
		def := v.Default
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", v.Name, def, v.Help)
	}
	tw.Flush()
}
