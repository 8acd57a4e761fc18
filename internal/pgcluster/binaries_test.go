package pgcluster

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fakeServer(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"initdb", "postgres"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFindBinDir(t *testing.T) {
	root := t.TempDir()
	notFound := func(string) (string, error) { return "", errors.New("not found") }
	glob := filepath.Join(root, "lib", "*", "bin")

	_, err := findBinDir(notFound, glob, filepath.Join(root, "none"))
	if !errors.Is(err, ErrNoBinaries) || !strings.Contains(err.Error(), "apt-get install postgresql") {
		t.Errorf("nothing installed: err = %v, want ErrNoBinaries naming the package", err)
	}

	fakeServer(t, filepath.Join(root, "lib", "9.6", "bin"))
	fakeServer(t, filepath.Join(root, "lib", "15", "bin"))
	fakeServer(t, filepath.Join(root, "lib", "16", "bin"))
	if dir, err := findBinDir(notFound, glob, ""); err != nil || dir != filepath.Join(root, "lib", "16", "bin") {
		t.Errorf("versioned: %q, %v; want the newest", dir, err)
	}

	onPath := filepath.Join(root, "path")
	fakeServer(t, onPath)
	lookPath := func(name string) (string, error) {
		if name == "initdb" {
			return filepath.Join(onPath, name), nil
		}
		return "", errors.New("not found")
	}
	if dir, err := findBinDir(lookPath, glob, ""); err != nil || dir != onPath {
		t.Errorf("PATH: %q, %v; want the PATH directory before the versioned ones", dir, err)
	}
}
