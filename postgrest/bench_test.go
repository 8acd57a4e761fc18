package postgrest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgstack/pgstack/internal/config"
	"github.com/pgstack/pgstack/internal/database"
	"github.com/pgstack/pgstack/internal/identity"
	"github.com/pgstack/pgstack/internal/jwt"
	"github.com/pgstack/pgstack/internal/pgtest"
	"github.com/pgstack/pgstack/internal/server"
)

const benchConcurrency = 32

// benchRows is the size of the RLS-protected table the reads hit.
const benchRows = 10000

// BenchmarkREST runs a load generator at concurrency 32 against
//
//	(a) GET /rest/v1/items?id=eq.<n> with a user JWT, RLS on
//	(b) a single-row POST /rest/v1/items
//	(c) a 2-level embed
//	(d) the floor: SELECT row_to_json(t) FROM items t WHERE id = $1 sent
//	    straight through a pgx pool (one round trip, no HTTP, no role switch)
//
// plus three rows that locate the cost: (a) through the router without a
// network (httptest recorder), the HTTP stack alone (a 404 through the same
// middleware and network) and the caller pipeline alone (role and claims
// setup plus the floor's statement, no HTTP).
//
// in the same process, interleaving the four in rounds so they see the same
// machine load, and reports req/s, p50 and p99 of each and (a)/(d).
func BenchmarkREST(b *testing.B) {
	ctx := context.Background()
	tdb := pgtest.NewDB(b)
	sql, err := os.ReadFile("testdata/schema.sql")
	if err != nil {
		b.Fatal(err)
	}
	tdb.Exec(b, string(sql))
	tdb.Exec(b, `CREATE TABLE public.items (id serial PRIMARY KEY, user_id uuid NOT NULL DEFAULT auth.uid(),
		name text NOT NULL, price numeric NOT NULL DEFAULT 0);
		ALTER TABLE public.items ENABLE ROW LEVEL SECURITY;
		CREATE POLICY owner_only ON public.items FOR ALL TO authenticated
		  USING ((SELECT auth.uid()) = user_id) WITH CHECK ((SELECT auth.uid()) = user_id);
		INSERT INTO public.items (user_id, name, price)
		  SELECT '`+alice+`', 'item ' || i, i FROM generate_series(1, `+strconv.Itoa(benchRows)+`) i;
		ANALYZE public.items;`)

	cfg, err := config.Load(config.ModeServe, func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	cfg.DatabaseURL, cfg.JWTSecret = tdb.URL, pgtest.JWTSecret
	db, err := database.Open(ctx, database.Options{DatabaseURL: tdb.URL, AuthenticatorPassword: pgtest.AuthenticatorPassword,
		PoolSize: cfg.DBPoolSize, StatementTimeout: cfg.StatementTimeout})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(db.Close)
	keys := jwt.New(cfg.JWTSecret, nil)
	srv, err := server.New(server.Deps{Config: cfg, DB: db, Keys: keys, Version: "bench",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	b.Cleanup(hs.Close)
	anonKey, _ := keys.APIKey(jwt.RoleAnon)
	token, _ := keys.Sign(map[string]any{"role": "authenticated", "sub": alice, "exp": time.Now().Add(time.Hour).Unix()})

	// The floor: a pgx pool of the same size as the request pool.
	floorCfg, err := pgxpool.ParseConfig(tdb.URL)
	if err != nil {
		b.Fatal(err)
	}
	floorCfg.MaxConns = int32(cfg.DBPoolSize)
	floor, err := pgxpool.NewWithConfig(ctx, floorCfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(floor.Close)

	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: 2 * benchConcurrency, MaxIdleConnsPerHost: 2 * benchConcurrency,
		DialContext: (&net.Dialer{}).DialContext,
	}}
	get := func(url string) error {
		req, _ := http.NewRequest(http.MethodGet, hs.URL+url, nil)
		req.Header.Set("apikey", anonKey)
		req.Header.Set("Authorization", "Bearer "+token)
		return send(client, req, http.StatusOK)
	}
	var posted atomic.Int64
	scenarios := []struct {
		name string
		op   func() error
	}{
		{"a-get-rls", func() error { return get("/rest/v1/items?id=eq." + strconv.Itoa(1+rand.IntN(benchRows))) }},
		{"b-post", func() error {
			n := posted.Add(1)
			req, _ := http.NewRequest(http.MethodPost, hs.URL+"/rest/v1/items",
				bytes.NewReader([]byte(`{"name":"new `+strconv.FormatInt(n, 10)+`","price":1}`)))
			req.Header.Set("apikey", anonKey)
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			return send(client, req, http.StatusCreated)
		}},
		{"c-embed-2-levels", func() error {
			return get("/rest/v1/directors?select=last_name,films(title,roles(character,actors(first_name)))&id=eq." + strconv.Itoa(1+rand.IntN(3)))
		}},
		{"a-direct-no-network", func() error {
			req := httptest.NewRequest(http.MethodGet, "/rest/v1/items?id=eq."+strconv.Itoa(1+rand.IntN(benchRows)), nil)
			req.Header.Set("apikey", anonKey)
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, req)
			if rec.Code != 200 {
				return fmt.Errorf("status %d", rec.Code)
			}
			return nil
		}},
		{"http-only-404", func() error {
			req, _ := http.NewRequest(http.MethodGet, hs.URL+"/nope", nil)
			return send(client, req, 404)
		}},
		{"caller-pipeline", func() error {
			return db.Pipeline(ctx, database.Caller{Identity: identity.Identity{Role: "authenticated", Claims: []byte(`{"role":"authenticated","sub":"` + alice + `"}`)}, ReadOnly: true},
				database.Commit, nil, database.Statement{SQL: "SELECT row_to_json(t) FROM public.items t WHERE id = $1", Args: []any{strconv.Itoa(1 + rand.IntN(benchRows))}})
		}},
		{"d-pgx-floor", func() error {
			var out []byte
			return floor.QueryRow(ctx, "SELECT row_to_json(t) FROM public.items t WHERE id = $1", 1+rand.IntN(benchRows)).Scan(&out)
		}},
	}
	// REST_BENCH_ONLY=<name> keeps one scenario and the floor (profiling).
	if only := os.Getenv("REST_BENCH_ONLY"); only != "" {
		scenarios = slices.DeleteFunc(scenarios, func(s struct {
			name string
			op   func() error
		}) bool {
			return s.name != only && s.name != "d-pgx-floor"
		})
	}
	// Warm up connections and prepared statements.
	for _, s := range scenarios {
		if _, err := load(s.op, time.Second/2); err != nil {
			b.Fatalf("%s: %v", s.name, err)
		}
	}
	lat := make([][]time.Duration, len(scenarios))
	elapsed := make([]time.Duration, len(scenarios))
	b.ResetTimer()
	const rounds = 3
	for range rounds {
		for i, s := range scenarios {
			t0 := time.Now()
			l, err := load(s.op, time.Second)
			if err != nil {
				b.Fatalf("%s: %v", s.name, err)
			}
			elapsed[i] += time.Since(t0)
			lat[i] = append(lat[i], l...)
		}
	}
	b.StopTimer()
	rps := make([]float64, len(scenarios))
	for i, s := range scenarios {
		slices.Sort(lat[i])
		rps[i] = float64(len(lat[i])) / elapsed[i].Seconds()
		p50 := lat[i][len(lat[i])/2]
		p99 := lat[i][len(lat[i])*99/100]
		b.ReportMetric(rps[i], s.name+"-req/s")
		b.ReportMetric(float64(p50.Microseconds())/1000, s.name+"-p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, s.name+"-p99-ms")
		fmt.Printf("%-18s %9.0f req/s   p50 %7.2f ms   p99 %7.2f ms\n", s.name, rps[i],
			float64(p50.Microseconds())/1000, float64(p99.Microseconds())/1000)
	}
	last := len(rps) - 1
	b.ReportMetric(rps[0]/rps[last], "a/d")
	fmt.Printf("(a)/(d) = %.2f\n", rps[0]/rps[last])
}

// send performs req and checks its status, draining the body.
func send(c *http.Client, req *http.Request, want int) error {
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: status %d", req.Method, req.URL, res.StatusCode)
	}
	return err
}

// load runs op from benchConcurrency goroutines for d and returns every
// operation's latency.
func load(op func() error, d time.Duration) ([]time.Duration, error) {
	var (
		mu       sync.Mutex
		all      []time.Duration
		firstErr error
		wg       sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	for range benchConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if err := op(); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return all, firstErr
}
