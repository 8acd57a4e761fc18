// Package config loads pgStack's configuration from the environment. It is the
// only package that reads environment variables; everything else receives a
// *Config built here.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Mode says how the binary was started; a few defaults differ between the
// embedded development default and production.
type Mode int

const (
	// ModeServe is production: `pgstack serve`.
	ModeServe Mode = iota
	// ModeStart is the embedded default: `pgstack start`.
	ModeStart
)

// MinJWTSecretLength is the shortest accepted JWT_SECRET (HS256 wants 256 bits).
const MinJWTSecretLength = 32

// Config is the whole configuration of one pgStack process.
type Config struct {
	Mode Mode

	DatabaseURL           string
	AuthenticatorPassword string
	DBPoolSize            int
	StatementTimeout      time.Duration

	JWTSecret string
	JWTExpiry time.Duration

	ListenAddr         string
	MaxBodySize        int64
	CORSAllowedOrigins []string

	RESTSchemas       []string
	EnableSQLEndpoint bool
	EdgeRuntimeURL    string
	SiteURL           string
	ServiceRoleKey    string

	LogLevel string

	// Live queries (/live/v1).
	LiveHeartbeatInterval time.Duration
	LiveRefreshInterval   time.Duration
	LiveMaxSubscriptions  int
}

// Var documents one environment variable. Vars is the single list behind
// `pgstack --help`, the README table and Load.
type Var struct {
	Name    string
	Default string
	Help    string
}

// Vars lists every environment variable pgStack reads, in the order --help shows them.
var Vars = []Var{
	{"DATABASE_URL", "", "PostgreSQL connection string of an owner/superuser role; migrations run through it. Required by serve; unset under start (embedded cluster)."},
	{"JWT_SECRET", "", "HS256 secret (at least 32 characters) that signs and verifies tokens. Required by serve; generated and kept in .pgstack/ under start."},
	{"LISTEN_ADDR", "127.0.0.1:8080", "host:port the HTTP server listens on."},
	{"JWT_EXPIRY", "3600", "Lifetime of issued access tokens, in seconds."},
	{"AUTHENTICATOR_PASSWORD", "", "Password of the authenticator role the request pool logs in as. Unset: pgStack derives one from JWT_SECRET and sets it."},
	{"DB_POOL_SIZE", "10", "Maximum connections of the request pool."},
	{"STATEMENT_TIMEOUT", "8s", "statement_timeout applied to every client transaction (Go duration)."},
	{"MAX_BODY_SIZE", "1048576", "Largest accepted request body, in bytes (413 beyond)."},
	{"CORS_ALLOWED_ORIGINS", "*", "Comma-separated origins allowed by CORS."},
	{"REST_SCHEMAS", "public", "Comma-separated schemas exposed at /rest/v1."},
	{"ENABLE_SQL_ENDPOINT", "false (true under start)", "Serve POST /api/sql to the service role."},
	{"EDGE_RUNTIME_URL", "", "Base URL of a Supabase edge-runtime sidecar for deno functions."},
	{"SITE_URL", "http://localhost:3000", "URL of the application, used in e-mail links and redirects."},
	{"SERVICE_ROLE_KEY", "", "Service-role key the CLI uses to call the admin API."},
	{"LOG_LEVEL", "info", "debug, info, warn or error."},
	{"LIVE_HEARTBEAT_INTERVAL", "15s", "How often live-query clients get a heartbeat with their streams' versions (Go duration)."},
	{"LIVE_REFRESH_INTERVAL", "10ms", "How often the server runs a pg_reactive refresh tick, coalescing the changes in between; 0 leaves it to pg_reactive's background worker."},
	{"LIVE_MAX_SUBSCRIPTIONS", "100", "Live-query subscriptions allowed per WebSocket connection."},
}

// Load reads the configuration from getenv (os.LookupEnv in main) and applies
// defaults. It fails on values that do not parse, naming the variable;
// Validate checks what a mode requires.
func Load(mode Mode, getenv func(string) (string, bool)) (*Config, error) {
	c := &Config{
		Mode:               mode,
		DBPoolSize:         10,
		StatementTimeout:   8 * time.Second,
		JWTExpiry:          time.Hour,
		ListenAddr:         "127.0.0.1:8080",
		MaxBodySize:        1 << 20,
		CORSAllowedOrigins: []string{"*"},
		RESTSchemas:        []string{"public"},
		EnableSQLEndpoint:  mode == ModeStart,
		SiteURL:            "http://localhost:3000",
		LogLevel:           "info",

		LiveHeartbeatInterval: 15 * time.Second,
		LiveRefreshInterval:   10 * time.Millisecond,
		LiveMaxSubscriptions:  100,
	}
	get := func(name string) (string, bool) {
		v, ok := getenv(name)
		v = strings.TrimSpace(v)
		return v, ok && v != ""
	}
	var errs []error
	str := func(name string, dst *string) {
		if v, ok := get(name); ok {
			*dst = v
		}
	}
	integer := func(name string, dst *int64, min int64) {
		if v, ok := get(name); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < min {
				errs = append(errs, fmt.Errorf("%s: want an integer >= %d, got %q", name, min, v))
				return
			}
			*dst = n
		}
	}
	list := func(name string, dst *[]string) {
		if v, ok := get(name); ok {
			var out []string
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
			*dst = out
		}
	}

	str("DATABASE_URL", &c.DatabaseURL)
	str("AUTHENTICATOR_PASSWORD", &c.AuthenticatorPassword)
	str("JWT_SECRET", &c.JWTSecret)
	str("LISTEN_ADDR", &c.ListenAddr)
	str("EDGE_RUNTIME_URL", &c.EdgeRuntimeURL)
	str("SITE_URL", &c.SiteURL)
	str("SERVICE_ROLE_KEY", &c.ServiceRoleKey)
	str("LOG_LEVEL", &c.LogLevel)
	list("CORS_ALLOWED_ORIGINS", &c.CORSAllowedOrigins)
	list("REST_SCHEMAS", &c.RESTSchemas)

	expiry := int64(c.JWTExpiry / time.Second)
	integer("JWT_EXPIRY", &expiry, 30)
	c.JWTExpiry = time.Duration(expiry) * time.Second
	pool := int64(c.DBPoolSize)
	integer("DB_POOL_SIZE", &pool, 1)
	c.DBPoolSize = int(pool)
	integer("MAX_BODY_SIZE", &c.MaxBodySize, 1)

	if v, ok := get("STATEMENT_TIMEOUT"); ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("STATEMENT_TIMEOUT: want a duration such as 8s, got %q", v))
		} else {
			c.StatementTimeout = d
		}
	}
	duration := func(name string, dst *time.Duration, min time.Duration) {
		if v, ok := get(name); ok {
			d, err := time.ParseDuration(v)
			if err != nil || d < min {
				errs = append(errs, fmt.Errorf("%s: want a duration >= %s such as 15s, got %q", name, min, v))
				return
			}
			*dst = d
		}
	}
	duration("LIVE_HEARTBEAT_INTERVAL", &c.LiveHeartbeatInterval, time.Second)
	duration("LIVE_REFRESH_INTERVAL", &c.LiveRefreshInterval, 0)
	maxSubs := int64(c.LiveMaxSubscriptions)
	integer("LIVE_MAX_SUBSCRIPTIONS", &maxSubs, 1)
	c.LiveMaxSubscriptions = int(maxSubs)

	if v, ok := get("ENABLE_SQL_ENDPOINT"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("ENABLE_SQL_ENDPOINT: want true or false, got %q", v))
		} else {
			c.EnableSQLEndpoint = b
		}
	}
	return c, errors.Join(errs...)
}

// Validate checks that the configuration can run: required variables are set
// and values are well formed. Each error names its variable.
func (c *Config) Validate() error {
	var errs []error
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("DATABASE_URL is required (a postgres:// connection string)"))
	} else if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		errs = append(errs, errors.New("DATABASE_URL: want a postgres:// or postgresql:// URL"))
	}
	if c.JWTSecret == "" {
		errs = append(errs, errors.New("JWT_SECRET is required (generate one with: openssl rand -base64 48)"))
	} else if len(c.JWTSecret) < MinJWTSecretLength {
		errs = append(errs, fmt.Errorf("JWT_SECRET: want at least %d characters, got %d", MinJWTSecretLength, len(c.JWTSecret)))
	}
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		errs = append(errs, fmt.Errorf("LISTEN_ADDR: want host:port, got %q", c.ListenAddr))
	}
	if c.EdgeRuntimeURL != "" {
		if u, err := url.Parse(c.EdgeRuntimeURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("EDGE_RUNTIME_URL: want an http(s) URL, got %q", c.EdgeRuntimeURL))
		}
	}
	if u, err := url.Parse(c.SiteURL); err != nil || u.Scheme == "" || u.Host == "" {
		errs = append(errs, fmt.Errorf("SITE_URL: want an absolute URL, got %q", c.SiteURL))
	}
	for _, s := range c.RESTSchemas {
		if !isIdentifier(s) {
			errs = append(errs, fmt.Errorf("REST_SCHEMAS: %q is not a schema name", s))
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("LOG_LEVEL: want debug, info, warn or error, got %q", c.LogLevel))
	}
	return errors.Join(errs...)
}

func isIdentifier(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'):
		case i > 0 && (r >= '0' && r <= '9' || r == '$'):
		default:
			return false
		}
	}
	return true
}
