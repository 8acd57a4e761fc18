package functionscli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/pgstack/pgstack/runtimes"
)

// settle is how long serve waits after the last change of a function before
// redeploying it (editors write files in several steps).
const settle = 150 * time.Millisecond

// serve deploys every function under the directory, then watches it and
// redeploys a function whenever a file of it changes, until ctx ends.
func (o *options) serve(ctx context.Context) error {
	o.env.Out = &lockedWriter{w: o.env.Out}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %s: %w", o.dir, err)
	}
	defer w.Close()
	if err := w.Add(o.dir); err != nil {
		return fmt.Errorf("watch %s: %w", o.dir, err)
	}
	entries, err := os.ReadDir(o.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() && runtimes.ValidName(e.Name()) {
			if err := w.Add(filepath.Join(o.dir, e.Name())); err != nil {
				return err
			}
			o.redeploy(ctx, e.Name())
		}
	}
	fmt.Fprintf(o.env.Out, "watching %s (runtime %s); Ctrl-C stops\n", o.dir, o.runtime)

	var mu sync.Mutex
	timers := map[string]*time.Timer{}
	for {
		select {
		case <-ctx.Done():
			mu.Lock()
			for _, t := range timers {
				t.Stop()
			}
			mu.Unlock()
			return nil
		case err := <-w.Errors:
			fmt.Fprintf(o.env.Out, "watch error: %v\n", err)
		case ev := <-w.Events:
			name := o.functionOf(ev.Name)
			if name == "" {
				continue
			}
			if ev.Has(fsnotify.Create) && filepath.Dir(ev.Name) == filepath.Clean(o.dir) {
				_ = w.Add(ev.Name) // a new function directory
			}
			mu.Lock()
			if t, ok := timers[name]; ok {
				t.Reset(settle)
			} else {
				timers[name] = time.AfterFunc(settle, func() { o.redeploy(ctx, name) })
			}
			mu.Unlock()
		}
	}
}

// functionOf maps a changed path to the function it belongs to.
func (o *options) functionOf(path string) string {
	rel, err := filepath.Rel(o.dir, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return ""
	}
	name := strings.Split(filepath.ToSlash(rel), "/")[0]
	if !runtimes.ValidName(name) {
		return ""
	}
	return name
}

func (o *options) redeploy(ctx context.Context, name string) {
	if ctx.Err() != nil {
		return
	}
	if _, err := os.Stat(filepath.Join(o.dir, name)); err != nil {
		return // removed: leave the deployed function alone
	}
	fn, err := o.deployOne(ctx, name, o.runtime)
	if err != nil {
		fmt.Fprintf(o.env.Out, "%s: %v\n", name, err)
		return
	}
	fmt.Fprintf(o.env.Out, "deployed %s (%s) at %s\n", fn.Name, fn.Runtime, fn.UpdatedAt.Format(time.TimeOnly))
}

// lockedWriter serialises output written from the redeploy timers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
