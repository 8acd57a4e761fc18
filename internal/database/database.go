// Package database owns pgStack's two connection pools: the owner pool
// (DATABASE_URL: migrations, the platform's own queries) and the request pool,
// which logs in as `authenticator` and can only switch to anon, authenticated
// and service_role — every client statement runs there, through AsCaller.
package database

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgstack/pgstack/gen/db"
)

// AuthenticatorRole is the login role of the request pool.
const AuthenticatorRole = "authenticator"

// Options configures Open.
type Options struct {
	DatabaseURL string
	// AuthenticatorPassword, when set, is the operator-managed password of the
	// authenticator role. When empty, one is derived from Secret and set.
	AuthenticatorPassword string
	// Secret derives the authenticator password (JWT_SECRET).
	Secret           string
	PoolSize         int
	StatementTimeout time.Duration
	// CoalesceWorkers is how many request connections at most carry
	// coalesced transactions at once (see coalescer); 0 chooses (see
	// coalesceWorkers). Tests set it.
	CoalesceWorkers int
	// PipelineDepth is the most transactions of concurrent requests sent to
	// PostgreSQL as one pipeline (DB_PIPELINE_DEPTH); 0 means 16, and 1
	// sends every transaction alone.
	PipelineDepth int
}

// DB is the pair of pools and the generated queries over the owner pool.
type DB struct {
	Owner    *pgxpool.Pool
	Requests *pgxpool.Pool
	Queries  *db.Queries

	statementTimeout time.Duration
	coalesce         *coalescer
	states           *connStates

	mu      sync.Mutex
	onClose []func()
}

// Open connects both pools. Migrations must have run (Migrate) so the
// authenticator role exists.
func Open(ctx context.Context, o Options) (*DB, error) {
	ownerCfg, err := pgxpool.ParseConfig(o.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	// The owner pool serves the platform's own work, auth included, so it is
	// sized like the request pool.
	if o.PoolSize > 0 {
		ownerCfg.MaxConns = int32(o.PoolSize)
	}
	owner, err := pgxpool.NewWithConfig(ctx, ownerCfg)
	if err != nil {
		return nil, fmt.Errorf("connect owner pool: %w", err)
	}

	password := o.AuthenticatorPassword
	if password == "" {
		password = DeriveAuthenticatorPassword(o.Secret)
		if err := SetAuthenticatorPassword(ctx, owner, password); err != nil {
			owner.Close()
			return nil, err
		}
	}

	reqCfg, err := pgxpool.ParseConfig(o.DatabaseURL)
	if err != nil {
		owner.Close()
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	reqCfg.ConnConfig.User = AuthenticatorRole
	reqCfg.ConnConfig.Password = password
	reqCfg.ConnConfig.RuntimeParams["application_name"] = "pgstack"
	if o.PoolSize > 0 {
		reqCfg.MaxConns = int32(o.PoolSize)
	}
	states := newConnStates()
	reqCfg.PrepareConn = states.prepare
	reqCfg.BeforeClose = states.forget
	requests, err := pgxpool.NewWithConfig(ctx, reqCfg)
	if err != nil {
		owner.Close()
		return nil, fmt.Errorf("connect request pool: %w", err)
	}
	if err := requests.Ping(ctx); err != nil {
		owner.Close()
		requests.Close()
		return nil, fmt.Errorf("connect as %s: %w", AuthenticatorRole, err)
	}
	var co *coalescer
	depth := o.PipelineDepth
	if depth == 0 {
		depth = 16
	}
	if depth > 1 {
		workers := coalesceWorkers(o.CoalesceWorkers, int(reqCfg.MaxConns))
		co = newCoalescer(requests, states, workers, depth, 20*time.Millisecond)
	}
	return &DB{Owner: owner, Requests: requests, Queries: db.New(owner), statementTimeout: o.StatementTimeout,
		coalesce: co, states: states}, nil
}

// coalesceWorkers is how many connections carry coalesced transactions:
// as many as this process has cores, at least two, at most the pool. Fewer
// workers make bigger batches; the cores bound how many statements
// PostgreSQL runs at once on a shared machine anyway.
func coalesceWorkers(n, poolSize int) int {
	if n > 0 {
		return min(n, poolSize)
	}
	return min(poolSize, max(2, runtime.GOMAXPROCS(0)))
}

// OnClose registers f to run when Close is called, before the pools close:
// background work bound to the database (listeners) stops there.
func (d *DB) OnClose(f func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.onClose = append(d.onClose, f)
}

// Close stops what OnClose registered, then closes both pools.
func (d *DB) Close() {
	d.mu.Lock()
	hooks := d.onClose
	d.onClose = nil
	d.mu.Unlock()
	for i := len(hooks) - 1; i >= 0; i-- {
		hooks[i]()
	}
	if d.coalesce != nil {
		d.coalesce.close()
	}
	d.Requests.Close()
	d.Owner.Close()
}

// Ping checks that the database answers through the request pool.
func (d *DB) Ping(ctx context.Context) error {
	return d.Requests.Ping(ctx)
}

// DeriveAuthenticatorPassword derives the authenticator's password from the
// JWT secret, so every replica sharing the secret computes the same one.
func DeriveAuthenticatorPassword(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("pgstack authenticator password"))
	return hex.EncodeToString(m.Sum(nil))
}

// SetAuthenticatorPassword stores password for the authenticator role as a
// SCRAM-SHA-256 verifier computed here, so the clear text never reaches the
// server or its statement log.
func SetAuthenticatorPassword(ctx context.Context, owner *pgxpool.Pool, password string) error {
	verifier, err := scramVerifier(password)
	if err != nil {
		return err
	}
	// Replicas starting together would fail each other's ALTER ROLE with
	// "tuple concurrently updated": serialise them under the migration lock.
	return pgx.BeginFunc(ctx, owner, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLockID)); err != nil {
			return fmt.Errorf("take migration lock: %w", err)
		}
		// ALTER ROLE takes no parameters; the verifier is base64 and '$'/':' only.
		if _, err := tx.Exec(ctx, fmt.Sprintf(`ALTER ROLE %s WITH LOGIN PASSWORD '%s'`,
			pgx.Identifier{AuthenticatorRole}.Sanitize(), verifier)); err != nil {
			return fmt.Errorf("set %s password: %w", AuthenticatorRole, err)
		}
		return nil
	})
}

// scramVerifier returns the SCRAM-SHA-256 verifier of password (RFC 5802,
// PostgreSQL's stored format).
func scramVerifier(password string) (string, error) {
	const iterations = 4096
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return "", fmt.Errorf("derive key: %w", err)
	}
	mac := func(key []byte, msg string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	serverKey := mac(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iterations, b64(salt), b64(storedKey[:]), b64(serverKey)), nil
}
