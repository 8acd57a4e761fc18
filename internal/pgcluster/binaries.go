package pgcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNoBinaries is returned when no PostgreSQL server binaries are found.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, postgres) not found in `pg_config --bindir`, PATH, " +
	"/usr/lib/postgresql/*/bin or /usr/local/pgsql/bin: install the server, e.g. `apt-get install postgresql` " +
	"(Debian/Ubuntu), `dnf install postgresql-server` (Fedora) or `brew install postgresql@16` (macOS), " +
	"or set DATABASE_URL to use an existing server")

// FindBinDir returns the directory holding initdb and postgres: the one
// `pg_config --bindir` names, else one on PATH, else the newest
// /usr/lib/postgresql/<version>/bin, else /usr/local/pgsql/bin.
func FindBinDir() (string, error) {
	return findBinDir(exec.LookPath, "/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin")
}

func findBinDir(lookPath func(string) (string, error), versionedGlob, fallback string) (string, error) {
	if pgConfig, err := lookPath("pg_config"); err == nil {
		if out, err := exec.Command(pgConfig, "--bindir").Output(); err == nil {
			if dir := strings.TrimSpace(string(out)); hasServer(dir) {
				return dir, nil
			}
		}
	}
	if initdb, err := lookPath("initdb"); err == nil {
		if dir := filepath.Dir(initdb); hasServer(dir) {
			return dir, nil
		}
	}
	versioned, _ := filepath.Glob(versionedGlob)
	sort.Slice(versioned, func(i, j int) bool { return majorOf(versioned[i]) > majorOf(versioned[j]) })
	for _, dir := range append(versioned, fallback) {
		if hasServer(dir) {
			return dir, nil
		}
	}
	return "", ErrNoBinaries
}

func hasServer(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// majorOf returns the version number in /usr/lib/postgresql/<version>/bin.
func majorOf(binDir string) float64 {
	v, err := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	if err != nil {
		return -1
	}
	return v
}

// Version returns the server version of the binaries in binDir, e.g. "15.18".
func Version(binDir string) (string, error) {
	out, err := exec.Command(filepath.Join(binDir, "postgres"), "--version").Output()
	if err != nil {
		return "", fmt.Errorf("postgres --version: %w", err)
	}
	fields := strings.Fields(string(out))
	if len(fields) == 0 {
		return "", fmt.Errorf("postgres --version printed nothing")
	}
	return fields[len(fields)-1], nil
}

// LibDir returns the server's library directory (`pg_config --pkglibdir` of
// the binaries in use, else <bindir>/../lib as Debian lays it out).
func (c *Cluster) LibDir() string {
	if out, err := exec.Command(filepath.Join(c.binDir, "pg_config"), "--pkglibdir").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); dir != "" {
			return dir
		}
	}
	return filepath.Join(filepath.Dir(c.binDir), "lib")
}

// InstalledLibraries returns those of names whose shared library is installed
// in the server's library directory.
func (c *Cluster) InstalledLibraries(names []string) []string {
	var found []string
	if len(names) == 0 {
		return nil
	}
	dir := c.LibDir()
	for _, name := range names {
		if _, err := os.Stat(filepath.Join(dir, name+".so")); err == nil {
			found = append(found, name)
		}
	}
	return found
}
