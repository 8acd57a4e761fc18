// Package embedded is the default of `pgstack start`: a PostgreSQL cluster
// under .pgstack/ made from the server binaries on the machine, and the
// secrets that go with it, kept across restarts.
package embedded

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/pgstack/pgstack/internal/pgcluster"
)

// DefaultDir is where `pgstack start` keeps its cluster and secrets.
const DefaultDir = ".pgstack"

// stateFile holds the generated secrets, readable by the owner only.
const stateFile = "state.json"

// State is what the first start generates and later starts reuse.
type State struct {
	JWTSecret         string `json:"jwt_secret"`
	SuperuserPassword string `json:"superuser_password"`
}

// LoadState reads dir's state, creating it with fresh secrets if absent.
func LoadState(dir string) (State, error) {
	path := filepath.Join(dir, stateFile)
	b, err := os.ReadFile(path)
	if err == nil {
		var s State
		if err := json.Unmarshal(b, &s); err != nil {
			return State{}, fmt.Errorf("read %s: %w", path, err)
		}
		if s.JWTSecret == "" || s.SuperuserPassword == "" {
			return State{}, fmt.Errorf("read %s: secrets missing; delete %s to start over", path, dir)
		}
		return s, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return State{}, fmt.Errorf("read %s: %w", path, err)
	}
	s := State{JWTSecret: randomSecret(48), SuperuserPassword: randomSecret(24)}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return State{}, fmt.Errorf("create %s: %w", dir, err)
	}
	b, _ = json.MarshalIndent(s, "", "  ")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return State{}, fmt.Errorf("write %s: %w", path, err)
	}
	return s, nil
}

func randomSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// Database is the running embedded cluster.
type Database struct {
	State   State
	cluster *pgcluster.Cluster
}

// Start creates the cluster in dir on first use and starts it.
func Start(ctx context.Context, dir string, log *slog.Logger) (*Database, error) {
	state, err := LoadState(dir)
	if err != nil {
		return nil, err
	}
	// pg_reactive (live queries), when installed, is preloaded and its
	// background worker refreshes the live queries of the one database.
	c, err := pgcluster.New(pgcluster.Options{Dir: dir, Log: log, Preload: []string{"pg_reactive"},
		Settings: map[string]string{"pg_reactive.database": "postgres"}})
	if err != nil {
		return nil, err
	}
	if !c.Initialized() {
		log.Info("creating a PostgreSQL cluster", "dir", dir, "binaries", c.BinDir())
		if err := c.Init(ctx, state.SuperuserPassword); err != nil {
			return nil, err
		}
	}
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	log.Info("postgres started", "port", c.Port(), "log", c.LogPath())
	return &Database{State: state, cluster: c}, nil
}

// URL is the superuser connection over the private unix socket.
func (d *Database) URL() string { return d.cluster.URL("postgres") }

// TCPURL is the superuser connection over 127.0.0.1, for psql and other tools.
func (d *Database) TCPURL() string {
	return d.cluster.TCPURL(pgcluster.Superuser, d.State.SuperuserPassword, "postgres")
}

// Stop shuts PostgreSQL down and waits for it to exit.
func (d *Database) Stop(ctx context.Context) error { return d.cluster.Stop(ctx) }
