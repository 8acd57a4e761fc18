package typegen

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pgstack/pgstack/gen/api/admin"
	"github.com/pgstack/pgstack/internal/functionscli"
)

// Usage is the help of `pgstack gen`.
const Usage = `Usage:
  pgstack gen types typescript [--schema S ...] [--url URL] [--service-role-key KEY]

Prints the TypeScript types of the database, in the shape of
` + "`supabase gen types typescript`" + `, for createClient<Database>() from supabase-js:

  pgstack gen types typescript > src/database.types.ts

It reads GET /api/schema of the server at --url (default ` + functionscli.DefaultURL + `) with
--service-role-key (or SERVICE_ROLE_KEY; ` + "`pgstack keys`" + ` prints it). Run in the
directory of a ` + "`pgstack start`" + ` with a loopback --url, it needs no key: it uses the
key of that server's .pgstack/.
--schema (repeatable, or comma-separated) names the schemas; default: the server's REST_SCHEMAS.
` + "`--lang typescript`" + ` is accepted in place of the typescript argument.
`

// Env is what the command receives from main.
type Env struct {
	// ServiceRoleKey is SERVICE_ROLE_KEY from the environment ("" if unset).
	ServiceRoleKey string
	// LocalServiceRoleKey, if set, returns the key of the server `pgstack
	// start` runs from the working directory ("" if none). It is used only
	// for a loopback --url, so that key never leaves the machine.
	LocalServiceRoleKey func() string
	Out                 io.Writer
	HTTP                *http.Client
}

// Run runs `pgstack gen <args>`.
func Run(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	base := fs.String("url", functionscli.DefaultURL, "")
	key := fs.String("service-role-key", "", "")
	lang := fs.String("lang", "", "")
	var schemas []string
	fs.Func("schema", "", func(v string) error {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				schemas = append(schemas, s)
			}
		}
		return nil
	})
	var positional []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				_, err = fmt.Fprint(env.Out, Usage)
				return err
			}
			return fmt.Errorf("%w\n\n%s", err, Usage)
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if *lang != "" {
		positional = append(positional, *lang)
	}
	switch {
	case len(positional) == 0:
		fmt.Fprint(env.Out, Usage)
		return errors.New("missing subcommand")
	case positional[0] != "types":
		return fmt.Errorf("unknown subcommand %q\n\n%s", positional[0], Usage)
	case len(positional) == 1:
		return fmt.Errorf("gen types needs a language: typescript\n\n%s", Usage)
	case len(positional) > 2 || positional[1] != "typescript":
		return fmt.Errorf("gen types: unsupported language %q (supported: typescript)", strings.Join(positional[1:], " "))
	}
	if *key == "" {
		*key = env.ServiceRoleKey
	}
	if *key == "" && env.LocalServiceRoleKey != nil && loopback(*base) {
		*key = env.LocalServiceRoleKey()
	}
	if env.HTTP == nil {
		env.HTTP = &http.Client{Timeout: 60 * time.Second}
	}
	db, err := fetch(ctx, env.HTTP, *base, *key, schemas)
	if err != nil {
		return err
	}
	_, err = io.WriteString(env.Out, TypeScript(db))
	return err
}

// loopback reports whether rawURL names this machine.
func loopback(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// fetch reads GET /api/schema.
func fetch(ctx context.Context, client *http.Client, base, key string, schemas []string) (admin.DatabaseSchema, error) {
	var out admin.DatabaseSchema
	path := "/api/schema"
	if len(schemas) > 0 {
		path += "?" + url.Values{"schemas": {strings.Join(schemas, ",")}}.Encode()
	}
	err := functionscli.CallAdmin(ctx, client, base, key, http.MethodGet, path, nil, &out)
	return out, err
}
