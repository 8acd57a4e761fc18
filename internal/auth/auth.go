// Package auth is pgStack's GoTrue-compatible authentication: sign-up,
// sign-in, sessions with rotating refresh tokens, e-mail verification and
// recovery, PKCE, and user administration, over GoTrue's tables in schema
// auth. The HTTP surface is openapi/auth.yaml (handlers/auth*.go); this
// package owns the rules.
package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/pgstack/pgstack/gen/db"
	"github.com/pgstack/pgstack/internal/config"
	"github.com/pgstack/pgstack/internal/jwt"
)

// Audience is the aud of every user and access token.
const Audience = "authenticated"

// DefaultRole is the role of new users: the PostgreSQL role their requests
// run as.
const DefaultRole = jwt.RoleAuthenticated

// Options builds a Service.
type Options struct {
	Config *config.Config
	// Pool runs the auth queries: the owner pool (the API roles have no
	// privileges on schema auth).
	Pool   *pgxpool.Pool
	Keys   *jwt.Keys
	Mailer Mailer
	// Version is reported by GET /auth/v1/health.
	Version string
}

// Service implements the auth API.
type Service struct {
	cfg       config.Auth
	siteURL   string
	jwtExpiry time.Duration
	pool      *pgxpool.Pool
	q         *db.Queries
	keys      *jwt.Keys
	mailer    Mailer
	limits    *limits
	version   string
	hashSlots chan struct{}
	// lockTimeout bounds one wait for a session a concurrent refresh holds.
	lockTimeout time.Duration
	// dummyHash is compared against when there is no user or no password, so
	// a sign-in takes as long for an unknown e-mail as for a known one.
	dummyHash []byte
}

// New returns a Service.
func New(o Options) (*Service, error) {
	c := o.Config
	dummy, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), c.Auth.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("auth: hash: %w", err)
	}
	return &Service{
		cfg:         c.Auth,
		siteURL:     c.SiteURL,
		jwtExpiry:   c.JWTExpiry,
		pool:        o.Pool,
		q:           db.New(o.Pool),
		keys:        o.Keys,
		mailer:      o.Mailer,
		limits:      newLimits(c.Auth),
		version:     o.Version,
		dummyHash:   dummy,
		hashSlots:   make(chan struct{}, runtime.GOMAXPROCS(0)),
		lockTimeout: 5 * time.Second,
	}, nil
}

// Meta is what the auth service needs to know about the HTTP request.
type Meta struct {
	// IP is the client address from the trusted RATE_LIMIT_HEADER, or "".
	// Per-IP limits use only this.
	IP string
	// Peer is the address of the TCP peer (a proxy, when there is one),
	// recorded in the audit log when IP is unknown.
	Peer      string
	UserAgent string
	// Bearer reports whether the request sent Authorization (identity also
	// accepts a token in apikey alone).
	Bearer bool
}

type metaKey struct{}

// WithMeta returns ctx carrying m.
func WithMeta(ctx context.Context, m Meta) context.Context {
	return context.WithValue(ctx, metaKey{}, m)
}

func metaFrom(ctx context.Context) Meta {
	m, _ := ctx.Value(metaKey{}).(Meta)
	return m
}

// inTx runs fn in a transaction on the auth pool; fn's error rolls back.
func (s *Service) inTx(ctx context.Context, fn func(q *db.Queries) error) error {
	return transient(pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		return fn(s.q.WithTx(tx))
	}))
}

func notFound(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// Health is GET /health.
type Health struct{ Version, Name, Description string }

// Health reports the auth API as GoTrue does.
func (s *Service) Health() Health {
	return Health{Version: s.version, Name: "GoTrue", Description: "pgStack auth: a GoTrue-compatible user registration and authentication API"}
}

// Settings is GET /settings.
type Settings struct {
	External          map[string]bool
	DisableSignup     bool
	MailerAutoconfirm bool
}

// Settings reports which sign-in methods are enabled.
func (s *Service) Settings() Settings {
	return Settings{
		External: map[string]bool{
			"email": true, "phone": false, "anonymous_users": s.cfg.AnonymousUsers,
			"apple": false, "azure": false, "bitbucket": false, "discord": false, "facebook": false,
			"figma": false, "github": false, "gitlab": false, "google": false, "keycloak": false,
			"linkedin": false, "notion": false, "slack": false, "spotify": false, "twitch": false,
			"twitter": false, "workos": false, "zoom": false,
		},
		DisableSignup:     s.cfg.DisableSignup,
		MailerAutoconfirm: s.cfg.MailerAutoconfirm,
	}
}

// PublicKeys returns the JWKS of the access-token signing key.
func (s *Service) PublicKeys() []jwt.JWK { return s.keys.PublicKeys() }
