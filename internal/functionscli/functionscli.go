// Package functionscli implements `pgstack functions`: scaffold, deploy,
// list, delete and serve (watch and redeploy) edge functions through the
// admin API, authenticated with the service-role key.
package functionscli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pgstack/pgstack/gen/api/admin"
	"github.com/pgstack/pgstack/runtimes"
)

// DefaultURL is the server the CLI talks to unless --url says otherwise.
const DefaultURL = "http://127.0.0.1:8080"

// DefaultDir is where functions live, as in a Supabase project.
const DefaultDir = "supabase/functions"

// Env is what the command receives from main.
type Env struct {
	// ServiceRoleKey is SERVICE_ROLE_KEY from the environment ("" if unset).
	ServiceRoleKey string
	Out            io.Writer
	HTTP           *http.Client
}

// Usage is the help of `pgstack functions`.
const Usage = `Usage:
  pgstack functions new <name> [--runtime embedded|deno|plpython|plv8] [--dir DIR]
  pgstack functions deploy <name> --runtime R [--no-verify-jwt] [--upstream-url URL] [--dir DIR]
  pgstack functions list
  pgstack functions delete <name>
  pgstack functions serve [--runtime R] [--no-verify-jwt] [--dir DIR]

deploy, list, delete and serve call the admin API: --url (default ` + DefaultURL + `)
and --service-role-key (or SERVICE_ROLE_KEY).
`

// Run runs one `pgstack functions` subcommand.
func Run(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		fmt.Fprint(env.Out, Usage)
		return errors.New("missing subcommand")
	}
	if env.HTTP == nil {
		env.HTTP = &http.Client{Timeout: 60 * time.Second}
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("functions "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := options{env: env}
	fs.StringVar(&o.url, "url", DefaultURL, "")
	fs.StringVar(&o.key, "service-role-key", "", "")
	fs.StringVar(&o.dir, "dir", DefaultDir, "")
	fs.StringVar(&o.runtime, "runtime", "", "")
	fs.StringVar(&o.upstream, "upstream-url", "", "")
	fs.BoolVar(&o.noVerifyJWT, "no-verify-jwt", false, "")
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return fmt.Errorf("%w\n\n%s", err, Usage)
	}
	if o.key == "" {
		o.key = env.ServiceRoleKey
	}
	name := ""
	needName := sub == "new" || sub == "deploy" || sub == "delete"
	if needName {
		if len(positional) != 1 {
			return fmt.Errorf("functions %s needs exactly one function name\n\n%s", sub, Usage)
		}
		name = positional[0]
		if !runtimes.ValidName(name) {
			return fmt.Errorf("%q is not a valid function name (letters, digits, '_' and '-', at most 63)", name)
		}
	} else if len(positional) > 0 {
		return fmt.Errorf("functions %s takes no arguments\n\n%s", sub, Usage)
	}
	switch sub {
	case "new":
		return o.scaffold(name)
	case "deploy":
		if o.runtime == "" {
			return errors.New("functions deploy needs --runtime (embedded, plv8, plpython, deno or http)")
		}
		return o.deploy(ctx, name)
	case "list":
		return o.list(ctx)
	case "delete":
		return o.delete(ctx, name)
	case "serve":
		if o.runtime == "" {
			o.runtime = runtimes.Embedded
		}
		return o.serve(ctx)
	}
	fmt.Fprint(env.Out, Usage)
	return fmt.Errorf("unknown subcommand %q", sub)
}

type options struct {
	env         Env
	url, key    string
	dir         string
	runtime     string
	upstream    string
	noVerifyJWT bool
}

// parseInterspersed parses flags placed before or after positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// entryFiles are the source files tried for each runtime, in order.
var entryFiles = map[string][]string{
	runtimes.Embedded: {"index.js", "index.ts"},
	runtimes.PLV8:     {"index.js", "index.ts"},
	runtimes.PLPython: {"index.py"},
	runtimes.Deno:     {"index.ts", "index.js"},
	runtimes.HTTP:     nil,
}

func (o *options) readSource(name, runtime string) (string, error) {
	files, ok := entryFiles[runtime]
	if !ok {
		return "", fmt.Errorf("unknown runtime %q (want one of %s)", runtime, strings.Join(runtimes.Names, ", "))
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(o.dir, name, f))
		if err == nil {
			return string(b), nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
	}
	if len(files) == 0 || runtime == runtimes.Deno {
		return "", nil // http has no source; deno's lives with the edge runtime
	}
	return "", fmt.Errorf("no %s in %s", strings.Join(files, " or "), filepath.Join(o.dir, name))
}

func (o *options) deploy(ctx context.Context, name string) error {
	fn, err := o.deployOne(ctx, name, o.runtime)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(o.env.Out, "deployed %s (%s) at %s/functions/v1/%s\n", fn.Name, fn.Runtime, strings.TrimSuffix(o.url, "/"), fn.Name)
	return err
}

func (o *options) deployOne(ctx context.Context, name, runtime string) (admin.EdgeFunction, error) {
	source, err := o.readSource(name, runtime)
	if err != nil {
		return admin.EdgeFunction{}, err
	}
	verify := !o.noVerifyJWT
	body := admin.EdgeFunctionDeploy{Name: name, Runtime: admin.EdgeFunctionRuntime(runtime), VerifyJwt: &verify}
	if source != "" {
		body.Source = &source
	}
	if o.upstream != "" {
		body.UpstreamUrl = &o.upstream
	}
	var fn admin.EdgeFunction
	err = o.do(ctx, http.MethodPost, "/api/functions", body, &fn)
	return fn, err
}

func (o *options) list(ctx context.Context) error {
	var fns []admin.EdgeFunction
	if err := o.do(ctx, http.MethodGet, "/api/functions", nil, &fns); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(o.env.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tRUNTIME\tVERIFY JWT\tUPDATED")
	for _, fn := range fns {
		fmt.Fprintf(tw, "%s\t%s\t%t\t%s\n", fn.Name, fn.Runtime, fn.VerifyJwt, fn.UpdatedAt.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

func (o *options) delete(ctx context.Context, name string) error {
	if err := o.do(ctx, http.MethodDelete, "/api/functions/"+url.PathEscape(name), nil, nil); err != nil {
		return err
	}
	_, err := fmt.Fprintf(o.env.Out, "deleted %s\n", name)
	return err
}

// do calls the admin API and decodes a 2xx JSON answer into out.
func (o *options) do(ctx context.Context, method, path string, in, out any) error {
	return CallAdmin(ctx, o.env.HTTP, o.url, o.key, method, path, in, out)
}

// CallAdmin calls pgStack's admin API at base with the service-role key,
// sending in (if not nil) as JSON and decoding a 2xx JSON answer into out
// (if not nil). Errors name the call and carry the API's message.
func CallAdmin(ctx context.Context, client *http.Client, base, key, method, path string, in, out any) error {
	if key == "" {
		return errors.New("no service-role key: pass --service-role-key or set SERVICE_ROLE_KEY (`pgstack keys` prints it)")
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(base, "/")+path, body)
	if err != nil {
		return fmt.Errorf("--url: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("reach pgStack at %s: %w", base, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		var e admin.Error
		if json.Unmarshal(b, &e) == nil && e.Message != "" {
			return fmt.Errorf("%s %s: %s (%s)", method, path, e.Message, res.Status)
		}
		return fmt.Errorf("%s %s: %s", method, path, res.Status)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: unexpected answer: %w", method, path, err)
		}
	}
	return nil
}
