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

	"github.com/pgstack/pgstack/internal/jwt"
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
	DBPipelineDepth       int
	StatementTimeout      time.Duration

	JWTSecret string
	JWTExpiry time.Duration

	ListenAddr         string
	MaxBodySize        int64
	CORSAllowedOrigins []string

	RESTSchemas       []string
	RESTMaxRows       int64
	RESTAggregates    bool
	EnableSQLEndpoint bool
	EdgeRuntimeURL    string
	FunctionTimeout   time.Duration
	SiteURL           string
	ServiceRoleKey    string

	LogLevel string

	// Live queries (/live/v1).
	LiveHeartbeatInterval time.Duration
	LiveRefreshInterval   time.Duration
	LiveMaxSubscriptions  int

	Auth Auth
}

// Auth is the configuration of /auth/v1.
type Auth struct {
	// JWTSigningKey is a PEM private key (EC P-256 or RSA) that signs access
	// tokens with ES256/RS256; empty: HS256 with JWTSecret.
	JWTSigningKey string
	// ExternalURL is the public base URL of this server, used in e-mail links.
	ExternalURL  string
	URIAllowList []string

	MailerAutoconfirm bool
	MailerOTPExpiry   time.Duration
	// SecureEmailChange confirms an e-mail change at both addresses.
	SecureEmailChange bool
	DisableSignup     bool
	AnonymousUsers    bool

	PasswordMinLength int
	BcryptCost        int

	RefreshTokenReuseInterval time.Duration

	SMTPHost         string
	SMTPPort         int
	SMTPUser         string
	SMTPPass         string
	SMTPAdminEmail   string
	SMTPSenderName   string
	SMTPMaxFrequency time.Duration

	// RateLimitHeader names the header a trusted proxy sets to the client IP;
	// per-IP limits apply only when it is set.
	RateLimitHeader         string
	RateLimitTokenRefresh   int // per 5 minutes and IP
	RateLimitOTP            int // per 5 minutes and IP
	RateLimitVerify         int // per 5 minutes and IP
	RateLimitAnonymousUsers int // per hour and IP
	RateLimitEmailSent      int // per hour, whole server
	RateLimitPerEmail       int // per 5 minutes and e-mail address
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
	{"DB_POOL_SIZE", "10", "Maximum connections of each pool: the request pool and the owner pool (auth, admin)."},
	{"DB_PIPELINE_DEPTH", "16", "Most transactions of concurrent requests sent to PostgreSQL together on one connection, each still its own transaction; 1 sends each alone."},
	{"STATEMENT_TIMEOUT", "8s", "statement_timeout applied to every client transaction (Go duration)."},
	{"MAX_BODY_SIZE", "1048576", "Largest accepted request body, in bytes (413 beyond)."},
	{"CORS_ALLOWED_ORIGINS", "*", "Comma-separated origins allowed by CORS."},
	{"REST_SCHEMAS", "public", "Comma-separated schemas exposed at /rest/v1."},
	{"REST_AGGREGATES", "false", "Allow count(), sum(), avg(), min() and max() in /rest/v1 select (PostgREST's db-aggregates-enabled)."},
	{"REST_MAX_ROWS", "0 (no cap)", "Most rows a /rest/v1 read or RPC returns per resource, embeds included (PostgREST's db-max-rows; Supabase uses 1000)."},
	{"ENABLE_SQL_ENDPOINT", "false (true under start)", "Serve POST /api/sql to the service role."},
	{"EDGE_RUNTIME_URL", "", "Base URL of a Supabase edge-runtime sidecar for deno functions."},
	{"FUNCTION_TIMEOUT", "5s", "Longest run of one edge-function invocation on the embedded, plv8 and plpython runtimes (Go duration); 504 beyond."},
	{"SITE_URL", "http://localhost:3000", "URL of the application, used in e-mail links and redirects."},
	{"SERVICE_ROLE_KEY", "", "Service-role key the CLI uses to call the admin API."},
	{"LOG_LEVEL", "info", "debug, info, warn or error."},
	{"API_EXTERNAL_URL", "http://LISTEN_ADDR", "Public base URL of this server, used in the links of auth e-mails."},
	{"URI_ALLOW_LIST", "", "Comma-separated URLs (or prefixes ending in *) that auth redirect_to may point to, besides SITE_URL."},
	{"JWT_SIGNING_KEY", "", "PEM private key (EC P-256 or RSA) to sign access tokens with ES256/RS256, published at /auth/v1/.well-known/jwks.json. Unset: HS256 with JWT_SECRET."},
	{"MAILER_AUTOCONFIRM", "false (true under start)", "Confirm e-mail addresses at sign-up without sending a confirmation mail."},
	{"MAILER_OTP_EXP", "86400", "Lifetime of e-mailed links and one-time codes, in seconds."},
	{"MAILER_SECURE_EMAIL_CHANGE_ENABLED", "true", "Confirm an e-mail change at the old address as well as the new one."},
	{"DISABLE_SIGNUP", "false", "Refuse new sign-ups (admins can still create users)."},
	{"ENABLE_ANONYMOUS_USERS", "false (true under start)", "Allow anonymous sign-ins."},
	{"PASSWORD_MIN_LENGTH", "6", "Shortest accepted password (at least 6)."},
	{"PASSWORD_HASH_COST", "10", "bcrypt cost of new password hashes (4-16)."},
	{"REFRESH_TOKEN_REUSE_INTERVAL", "10", "Seconds during which a used refresh token may be used again (concurrent clients) before reuse revokes the session."},
	{"SMTP_HOST", "", "SMTP server for auth e-mails. Unset: links are written to the log (start) or mail is not sent (serve)."},
	{"SMTP_PORT", "587", "SMTP port (465: implicit TLS; otherwise STARTTLS when offered)."},
	{"SMTP_USER", "", "SMTP user name."},
	{"SMTP_PASS", "", "SMTP password."},
	{"SMTP_ADMIN_EMAIL", "", "Sender address of auth e-mails (required with SMTP_HOST)."},
	{"SMTP_SENDER_NAME", "", "Sender name of auth e-mails."},
	{"SMTP_MAX_FREQUENCY", "60", "Seconds between two e-mails of one kind to one user."},
	{"RATE_LIMIT_HEADER", "", "Header a trusted proxy sets to the client IP (e.g. X-Real-IP). Per-IP rate limits apply only when set."},
	{"RATE_LIMIT_TOKEN_REFRESH", "150", "Sign-ins and refreshes per 5 minutes and IP."},
	{"RATE_LIMIT_OTP", "30", "Sign-ups, OTP, recovery and user updates per 5 minutes and IP."},
	{"RATE_LIMIT_VERIFY", "30", "Verifications per 5 minutes and IP."},
	{"RATE_LIMIT_ANONYMOUS_USERS", "30", "Anonymous sign-ins per hour and IP."},
	{"RATE_LIMIT_EMAIL_SENT", "30", "Auth e-mails per hour, for the whole server."},
	{"RATE_LIMIT_PER_EMAIL", "30", "Sign-in attempts and e-mail requests per 5 minutes and e-mail address."},
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
		DBPipelineDepth:    16,
		StatementTimeout:   8 * time.Second,
		JWTExpiry:          time.Hour,
		ListenAddr:         "127.0.0.1:8080",
		MaxBodySize:        1 << 20,
		CORSAllowedOrigins: []string{"*"},
		RESTSchemas:        []string{"public"},
		EnableSQLEndpoint:  mode == ModeStart,
		SiteURL:            "http://localhost:3000",
		FunctionTimeout:    5 * time.Second,
		LogLevel:           "info",
		Auth: Auth{
			MailerAutoconfirm:         mode == ModeStart,
			AnonymousUsers:            mode == ModeStart,
			MailerOTPExpiry:           24 * time.Hour,
			SecureEmailChange:         true,
			PasswordMinLength:         6,
			BcryptCost:                10,
			RefreshTokenReuseInterval: 10 * time.Second,
			SMTPPort:                  587,
			SMTPMaxFrequency:          time.Minute,
			RateLimitTokenRefresh:     150,
			RateLimitOTP:              30,
			RateLimitVerify:           30,
			RateLimitAnonymousUsers:   30,
			RateLimitEmailSent:        30,
			RateLimitPerEmail:         30,
		},

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
	depth := int64(c.DBPipelineDepth)
	integer("DB_PIPELINE_DEPTH", &depth, 1)
	c.DBPipelineDepth = int(depth)
	integer("MAX_BODY_SIZE", &c.MaxBodySize, 1)
	integer("REST_MAX_ROWS", &c.RESTMaxRows, 0)

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

	if v, ok := get("REST_AGGREGATES"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("REST_AGGREGATES: want true or false, got %q", v))
		} else {
			c.RESTAggregates = b
		}
	}
	if v, ok := get("FUNCTION_TIMEOUT"); ok {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("FUNCTION_TIMEOUT: want a positive duration such as 5s, got %q", v))
		} else {
			c.FunctionTimeout = d
		}
	}
	boolean := func(name string, dst *bool) {
		if v, ok := get(name); ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: want true or false, got %q", name, v))
				return
			}
			*dst = b
		}
	}
	boolean("ENABLE_SQL_ENDPOINT", &c.EnableSQLEndpoint)
	number := func(name string, dst *int, min, max int64) {
		n := int64(*dst)
		integer(name, &n, min)
		if n > max {
			errs = append(errs, fmt.Errorf("%s: want an integer <= %d, got %d", name, max, n))
			return
		}
		*dst = int(n)
	}
	seconds := func(name string, dst *time.Duration, min int64) {
		n := int64(*dst / time.Second)
		integer(name, &n, min)
		*dst = time.Duration(n) * time.Second
	}

	a := &c.Auth
	str("JWT_SIGNING_KEY", &a.JWTSigningKey)
	str("API_EXTERNAL_URL", &a.ExternalURL)
	list("URI_ALLOW_LIST", &a.URIAllowList)
	boolean("MAILER_AUTOCONFIRM", &a.MailerAutoconfirm)
	seconds("MAILER_OTP_EXP", &a.MailerOTPExpiry, 60)
	boolean("MAILER_SECURE_EMAIL_CHANGE_ENABLED", &a.SecureEmailChange)
	boolean("DISABLE_SIGNUP", &a.DisableSignup)
	boolean("ENABLE_ANONYMOUS_USERS", &a.AnonymousUsers)
	number("PASSWORD_MIN_LENGTH", &a.PasswordMinLength, 6, 72)
	number("PASSWORD_HASH_COST", &a.BcryptCost, 4, 16)
	seconds("REFRESH_TOKEN_REUSE_INTERVAL", &a.RefreshTokenReuseInterval, 0)
	str("SMTP_HOST", &a.SMTPHost)
	number("SMTP_PORT", &a.SMTPPort, 1, 65535)
	str("SMTP_USER", &a.SMTPUser)
	str("SMTP_PASS", &a.SMTPPass)
	str("SMTP_ADMIN_EMAIL", &a.SMTPAdminEmail)
	str("SMTP_SENDER_NAME", &a.SMTPSenderName)
	seconds("SMTP_MAX_FREQUENCY", &a.SMTPMaxFrequency, 0)
	str("RATE_LIMIT_HEADER", &a.RateLimitHeader)
	number("RATE_LIMIT_TOKEN_REFRESH", &a.RateLimitTokenRefresh, 1, 1<<30)
	number("RATE_LIMIT_OTP", &a.RateLimitOTP, 1, 1<<30)
	number("RATE_LIMIT_VERIFY", &a.RateLimitVerify, 1, 1<<30)
	number("RATE_LIMIT_ANONYMOUS_USERS", &a.RateLimitAnonymousUsers, 1, 1<<30)
	number("RATE_LIMIT_EMAIL_SENT", &a.RateLimitEmailSent, 0, 1<<30)
	number("RATE_LIMIT_PER_EMAIL", &a.RateLimitPerEmail, 1, 1<<30)
	if a.ExternalURL == "" {
		a.ExternalURL = "http://" + c.ListenAddr
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
	if u, err := url.Parse(c.Auth.ExternalURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("API_EXTERNAL_URL: want an http(s) URL, got %q", c.Auth.ExternalURL))
	}
	if c.Auth.SMTPHost != "" && c.Auth.SMTPAdminEmail == "" {
		errs = append(errs, errors.New("SMTP_ADMIN_EMAIL is required with SMTP_HOST (the sender address)"))
	}
	if c.Auth.JWTSigningKey != "" {
		if _, err := jwt.ParseSigningKey(c.Auth.JWTSigningKey); err != nil {
			errs = append(errs, fmt.Errorf("JWT_SIGNING_KEY: %w", err))
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
