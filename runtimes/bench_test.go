package runtimes_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
)

// benchConcurrency is how many invocations are in flight at once.
const benchConcurrency = 32

// benchBatch is how many requests one subject sends per iteration.
const benchBatch = 256

// BenchmarkInvoke measures invocations per second and p50/p99 latency of an
// embedded, a plpython and an http function at concurrency 32, through a
// real HTTP server on the full router, next to a plain Go handler mounted on
// the same router (the floor: middleware, routing and HTTP, no function).
// Each iteration runs one batch per subject, interleaved, so all see the
// same machine load; each subject's throughput is also reported as a
// fraction of the floor's.
func BenchmarkInvoke(b *testing.B) {
	e := newEnv(b)
	router, ok := e.Handler.(chi.Router)
	if !ok {
		b.Fatal("the server's handler is not a chi router")
	}
	router.Post("/bench/floor", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"hello":"Ada"}`)
	})
	upstream := newLocalServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"hello":"Ada"}`)
	}))
	deploy(b, e, map[string]any{"name": "b-embedded", "runtime": "embedded", "source": `function handler(r) { return {hello: r.body.name} }`})
	deploy(b, e, map[string]any{"name": "b-plpython", "runtime": "plpython", "source": `return {"hello": body["name"]}`})
	deploy(b, e, map[string]any{"name": "b-http", "runtime": "http", "upstream_url": upstream})
	base := e.Serve(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * benchConcurrency, MaxConnsPerHost: 2 * benchConcurrency}}

	subjects := []struct{ name, path string }{
		{"floor", "/bench/floor"},
		{"embedded", "/functions/v1/b-embedded"},
		{"plpython", "/functions/v1/b-plpython"},
		{"http", "/functions/v1/b-http"},
	}
	body := []byte(`{"name":"Ada"}`)
	one := func(path string) (time.Duration, error) {
		req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
		req.Header.Set("apikey", e.AnonKey)
		req.Header.Set("Content-Type", "application/json")
		t0 := time.Now()
		res, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("%s: %s", path, res.Status)
		}
		return time.Since(t0), nil
	}
	// batch sends benchBatch requests to path from benchConcurrency workers.
	batch := func(path string) ([]time.Duration, time.Duration, error) {
		lat := make([]time.Duration, benchBatch)
		next := make(chan int, benchBatch)
		for i := range benchBatch {
			next <- i
		}
		close(next)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		start := time.Now()
		for range benchConcurrency {
			wg.Go(func() {
				for i := range next {
					d, err := one(path)
					if err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
						return
					}
					lat[i] = d
				}
			})
		}
		wg.Wait()
		return lat, time.Since(start), firstErr
	}
	for _, s := range subjects { // warm up: pools, connections, runtimes
		if _, _, err := batch(s.path); err != nil {
			b.Fatal(err)
		}
	}

	lats := make([][]time.Duration, len(subjects))
	wall := make([]time.Duration, len(subjects))
	b.ResetTimer()
	for b.Loop() {
		for i, s := range subjects {
			l, d, err := batch(s.path)
			if err != nil {
				b.Fatal(err)
			}
			lats[i] = append(lats[i], l...)
			wall[i] += d
		}
	}
	b.StopTimer()
	floorRate := 0.0
	for i, s := range subjects {
		rate := float64(len(lats[i])) / wall[i].Seconds()
		slices.Sort(lats[i])
		p := func(q float64) float64 {
			return float64(lats[i][int(q*float64(len(lats[i])-1))].Microseconds()) / 1000
		}
		b.ReportMetric(rate, s.name+"-inv/s")
		b.ReportMetric(p(0.50), s.name+"-p50-ms")
		b.ReportMetric(p(0.99), s.name+"-p99-ms")
		if i == 0 {
			floorRate = rate
		} else {
			b.ReportMetric(rate/floorRate, s.name+"/floor")
		}
	}
}
