package database

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgstack/pgstack/internal/identity"
	"github.com/pgstack/pgstack/internal/jwt"
)

// Caller is everything a client transaction is set up with.
type Caller struct {
	Identity identity.Identity
	Method   string
	Path     string
	// Headers become request.headers (lower-cased names), without the
	// credentials headers, which never leave the proxy.
	Headers  http.Header
	ReadOnly bool
	// Settings are more transaction-local settings (search_path, timezone),
	// applied after the role by the same statement.
	Settings []Setting
}

// Setting is one set_config(name, value, true).
type Setting struct{ Name, Value string }

// CallerFromRequest builds the Caller of an HTTP request whose identity was
// resolved by identity.Middleware.
func CallerFromRequest(r *http.Request) Caller {
	return Caller{
		Identity: identity.From(r.Context()),
		Method:   r.Method,
		Path:     r.URL.Path,
		Headers:  r.Header,
		ReadOnly: r.Method == http.MethodGet || r.Method == http.MethodHead,
	}
}

// setupSQL switches to the caller's role and sets the request GUCs, all local
// to the transaction, in one round trip. set_config('role', ...) is SET LOCAL
// ROLE with a bound value.
const setupSQL = `SELECT set_config('role', $1, true),
	set_config('request.jwt.claims', $2, true),
	set_config('request.method', $3, true),
	set_config('request.path', $4, true),
	set_config('request.headers', $5, true),
	set_config('statement_timeout', $6, true)`

// AsCaller runs fn in a transaction on the request pool as the caller: the
// role is switched and the claims set before fn sees the transaction, so RLS
// applies to everything fn runs. fn's error rolls back; nil commits.
func (d *DB) AsCaller(ctx context.Context, c Caller, fn func(pgx.Tx) error) error {
	sql, args, err := d.setup(c, 0, false)
	if err != nil {
		return err
	}
	return pgx.BeginTxFunc(ctx, d.Requests, txOptions(c), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, sql, args...); err != nil {
			return fmt.Errorf("set up caller transaction: %w", err)
		}
		return fn(tx)
	})
}

func txOptions(c Caller) pgx.TxOptions {
	if c.ReadOnly {
		return pgx.TxOptions{AccessMode: pgx.ReadOnly}
	}
	return pgx.TxOptions{AccessMode: pgx.ReadWrite}
}

// setup checks the caller's role and returns the statement that sets up a
// caller transaction, with its arguments. timeout is the statement_timeout
// (0: STATEMENT_TIMEOUT); readOnly adds transaction_read_only for
// transactions without a BEGIN (pipelined implicit transactions).
func (d *DB) setup(c Caller, timeout time.Duration, readOnly bool) (string, []any, error) {
	if !jwt.ValidRole(c.Identity.Role) {
		return "", nil, fmt.Errorf("run as caller: role %q is not allowed", c.Identity.Role)
	}
	claims := string(c.Identity.Claims)
	if claims == "" {
		claims = "{}"
	}
	headers, err := headersJSON(c.Headers)
	if err != nil {
		return "", nil, err
	}
	if timeout <= 0 {
		timeout = d.statementTimeout
	}
	args := []any{c.Identity.Role, claims, c.Method, c.Path, headers, strconv.FormatInt(timeout.Milliseconds(), 10)}
	if len(c.Settings) == 0 && !readOnly {
		return setupSQL, args, nil
	}
	var b strings.Builder
	b.WriteString(setupSQL)
	settings := c.Settings
	if readOnly {
		settings = append(settings[:len(settings):len(settings)], Setting{"transaction_read_only", "on"})
	}
	for _, s := range settings {
		args = append(args, s.Name, s.Value)
		fmt.Fprintf(&b, ",\n\tset_config($%d, $%d, true)", len(args)-1, len(args))
	}
	return b.String(), args, nil
}

func headersJSON(h http.Header) (string, error) {
	m := make(map[string]string, len(h))
	for name, values := range h {
		lower := strings.ToLower(name)
		switch lower {
		case "authorization", "apikey", "cookie":
			continue
		}
		m[lower] = strings.Join(values, ", ")
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode request headers: %w", err)
	}
	return string(b), nil
}
