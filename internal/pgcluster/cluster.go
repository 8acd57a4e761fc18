// Package pgcluster runs a private PostgreSQL cluster from the server binaries
// already on the machine. `pgstack start` keeps one under .pgstack/; the test
// harness starts one per test process. As root, the server runs as an
// unprivileged user (PostgreSQL refuses to run as root).
package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Superuser is the bootstrap superuser of clusters made here.
const Superuser = "postgres"

// Options configures a cluster.
type Options struct {
	// Dir holds the cluster: data/, run/ (the unix socket) and postgres.log.
	Dir string
	// BinDir holds initdb and postgres; empty means FindBinDir.
	BinDir string
	// Settings are passed to the server as -c name=value.
	Settings map[string]string
	// Preload names libraries for shared_preload_libraries; each is preloaded
	// only when it is installed in the server's library directory, so a
	// server without it still starts.
	Preload []string
	// NoSync makes initdb skip fsync (tests).
	NoSync bool
	Log    *slog.Logger
}

// Cluster is one PostgreSQL cluster and, once started, its server process.
type Cluster struct {
	opts      Options
	binDir    string
	dataDir   string
	socketDir string
	logPath   string
	owner     *syscall.Credential // nil unless running as root

	port    int
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// New prepares a cluster in opts.Dir; nothing is started.
func New(opts Options) (*Cluster, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("cluster directory: %w", err)
	}
	opts.Dir = dir
	binDir := opts.BinDir
	if binDir == "" {
		if binDir, err = FindBinDir(); err != nil {
			return nil, err
		}
	}
	c := &Cluster{
		opts:      opts,
		binDir:    binDir,
		dataDir:   filepath.Join(dir, "data"),
		socketDir: socketDir(dir),
		logPath:   filepath.Join(dir, "postgres.log"),
	}
	if os.Geteuid() == 0 {
		if c.owner, err = unprivilegedUser(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// socketDir is dir/run unless that path is too long for a unix socket
// (sun_path is 108 bytes including ".s.PGSQL.<port>").
func socketDir(dir string) string {
	d := filepath.Join(dir, "run")
	if len(d)+len("/.s.PGSQL.65535") < 100 {
		return d
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("pgstack-%d-%x", os.Getuid(), fnv32(dir)))
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

// unprivilegedUser is the account the server runs as when pgStack is root:
// "postgres" where it exists (distribution packages create it), else "nobody".
func unprivilegedUser() (*syscall.Credential, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
	}
	return nil, errors.New("running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as: create one or run as a regular user")
}

// BinDir returns the directory of the server binaries in use.
func (c *Cluster) BinDir() string { return c.binDir }

// Port returns the server's port (valid after Start).
func (c *Cluster) Port() int { return c.port }

// LogPath returns the server log file.
func (c *Cluster) LogPath() string { return c.logPath }

// Initialized reports whether the data directory already holds a cluster.
func (c *Cluster) Initialized() bool {
	_, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION"))
	return err == nil
}

// Init creates the cluster with superuser password (used for TCP logins;
// unix-socket logins in the private socket directory are trusted).
func (c *Cluster) Init(ctx context.Context, password string) error {
	if err := c.prepareDirs(); err != nil {
		return err
	}
	pwfile := filepath.Join(c.opts.Dir, "initdb.pw")
	if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
		return fmt.Errorf("write password file: %w", err)
	}
	defer os.Remove(pwfile)
	if err := c.chown(pwfile); err != nil {
		return err
	}
	args := []string{"-D", c.dataDir, "-U", Superuser, "-E", "UTF8", "--no-locale",
		"--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile=" + pwfile}
	if c.opts.NoSync {
		args = append(args, "--no-sync")
	}
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, "initdb"), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.owner}
	cmd.Dir = c.opts.Dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("initdb: %w: %s", err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

func (c *Cluster) prepareDirs() error {
	mode := os.FileMode(0o700)
	if c.owner != nil {
		mode = 0o711 // the server's user must be able to traverse it
	}
	if err := os.MkdirAll(c.opts.Dir, mode); err != nil {
		return fmt.Errorf("create %s: %w", c.opts.Dir, err)
	}
	if c.owner != nil {
		if err := os.Chmod(c.opts.Dir, mode); err != nil {
			return fmt.Errorf("chmod %s: %w", c.opts.Dir, err)
		}
		if err := reachable(c.opts.Dir, c.owner); err != nil {
			return err
		}
	}
	for _, d := range []string{c.dataDir, c.socketDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
		if err := c.chown(d); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) chown(path string) error {
	if c.owner == nil {
		return nil
	}
	if err := os.Chown(path, int(c.owner.Uid), int(c.owner.Gid)); err != nil {
		return fmt.Errorf("chown %s: %w", path, err)
	}
	return nil
}

// reachable checks that the server's user may traverse every ancestor of dir.
func reachable(dir string, cred *syscall.Credential) error {
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("stat %s: %w", d, err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if ok {
			perm := fi.Mode().Perm()
			var search bool
			switch {
			case st.Uid == cred.Uid:
				search = perm&0o100 != 0
			case st.Gid == cred.Gid:
				search = perm&0o010 != 0
			default:
				search = perm&0o001 != 0
			}
			if !search {
				return fmt.Errorf("PostgreSQL runs as uid %d, which cannot enter %s (mode %v) to reach %s: "+
					"run pgstack as a regular user, or from a directory other users can traverse", cred.Uid, d, perm, dir)
			}
		}
		if d == "/" || d == "." {
			return nil
		}
	}
}

// Start starts the server on a free local port and waits until it accepts
// connections. The server gets SIGINT (fast shutdown) if this process dies.
func (c *Cluster) Start(ctx context.Context) error {
	if err := c.prepareDirs(); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	logFile, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open server log: %w", err)
	}
	defer logFile.Close()

	args := []string{"-D", c.dataDir, "-p", strconv.Itoa(port), "-k", c.socketDir,
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_permissions=0700"}
	for k, v := range c.opts.Settings {
		args = append(args, "-c", k+"="+v)
	}
	if libs := c.InstalledLibraries(c.opts.Preload); len(libs) > 0 {
		args = append(args, "-c", "shared_preload_libraries="+strings.Join(libs, ","))
	}
	cmd := exec.Command(filepath.Join(c.binDir, "postgres"), args...)
	cmd.Dir = c.dataDir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: c.owner,
		Setpgid:    true, // Ctrl-C reaches pgstack, which stops the server in order
		Pdeathsig:  syscall.SIGINT,
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	c.cmd, c.port, c.exited = cmd, port, make(chan struct{})
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	if err := c.waitReady(ctx); err != nil {
		_ = c.Stop(context.Background())
		return err
	}
	c.opts.Log.Debug("postgres started", "port", port, "data", c.dataDir)
	return nil
}

// waitReady polls until the server accepts a connection, the process exits,
// or ctx ends (then the log tail explains why).
func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	backoff := 10 * time.Millisecond
	for {
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(cctx, c.URL("postgres"))
		ccancel()
		if err == nil {
			_ = conn.Close(ctx)
			return nil
		}
		select {
		case <-c.exited:
			return fmt.Errorf("postgres exited during start-up (%v); log %s:\n%s", c.waitErr, c.logPath, c.logTail())
		case <-ctx.Done():
			return fmt.Errorf("postgres did not accept connections: %w; log %s:\n%s", err, c.logPath, c.logTail())
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 200*time.Millisecond)
	}
}

func (c *Cluster) logTail() string {
	b, _ := os.ReadFile(c.logPath)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Stop shuts the server down: fast shutdown, then immediate, then kill, each
// after a grace period. It returns once the process is gone.
func (c *Cluster) Stop(ctx context.Context) error {
	if c.cmd == nil {
		return nil
	}
	steps := []struct {
		sig   syscall.Signal
		grace time.Duration
	}{{syscall.SIGINT, 30 * time.Second}, {syscall.SIGQUIT, 5 * time.Second}, {syscall.SIGKILL, 5 * time.Second}}
	for _, s := range steps {
		_ = c.cmd.Process.Signal(s.sig)
		select {
		case <-c.exited:
			c.cmd = nil
			return nil
		case <-time.After(s.grace):
		case <-ctx.Done():
			_ = c.cmd.Process.Kill()
			<-c.exited
			c.cmd = nil
			return ctx.Err()
		}
	}
	return errors.New("postgres did not exit")
}

// URL returns a connection string for dbname as the superuser over the unix socket.
func (c *Cluster) URL(dbname string) string {
	q := url.Values{"host": {c.socketDir}, "port": {strconv.Itoa(c.port)}, "sslmode": {"disable"}}
	return (&url.URL{Scheme: "postgres", User: url.User(Superuser), Host: "localhost", Path: "/" + dbname, RawQuery: q.Encode()}).String()
}

// TCPURL returns a connection string for dbname as user over TCP on
// 127.0.0.1, where logins need the password (SCRAM).
func (c *Cluster) TCPURL(user, password, dbname string) string {
	return (&url.URL{Scheme: "postgres", User: url.UserPassword(user, password),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)), Path: "/" + dbname}).String()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
