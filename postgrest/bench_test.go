package postgrest_test

import (
	"bufio"
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
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
// plus rows that locate the cost: (a) on a server that sends every
// transaction alone (DB_PIPELINE_DEPTH=1, no coalescing of concurrent
// requests), (a) through the router without a network (httptest recorder),
// the HTTP stack alone (a 404 through the same middleware and network, and
// one from a net/http server with no middleware) and the caller pipeline
// alone (role and claims setup plus the floor's statement, no HTTP).
//
// All run in the same process, interleaving them in rounds so they see the same
// machine load, and reports req/s, p50 and p99 of each and (a)/(d), with the
// CPU time each request costs PostgreSQL and this process: on this 2-core
// machine the two share the cores, so the sum bounds the throughput.
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
	keys := jwt.New(cfg.JWTSecret, nil)
	// serve starts a server on its own pools; depth is DB_PIPELINE_DEPTH.
	serve := func(depth int) (*database.DB, *server.Server, *rawClient) {
		db, err := database.Open(ctx, database.Options{DatabaseURL: tdb.URL, AuthenticatorPassword: pgtest.AuthenticatorPassword,
			PoolSize: cfg.DBPoolSize, StatementTimeout: cfg.StatementTimeout, PipelineDepth: depth})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(db.Close)
		srv, err := server.New(server.Deps{Config: cfg, DB: db, Keys: keys, Version: "bench",
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		hs := httptest.NewServer(srv.Handler())
		b.Cleanup(hs.Close)
		return db, srv, &rawClient{addr: hs.Listener.Addr().String(), conns: make(chan *rawConn, 2*benchConcurrency)}
	}
	db, srv, client := serve(cfg.DBPipelineDepth)
	_, _, aloneClient := serve(1)
	// A net/http server with no middleware at all: what HTTP alone costs.
	bare := httptest.NewServer(http.NotFoundHandler())
	b.Cleanup(bare.Close)
	bareClient := &rawClient{addr: bare.Listener.Addr().String(), conns: make(chan *rawConn, 2*benchConcurrency)}
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

	auth := "apikey: " + anonKey + "\r\nAuthorization: Bearer " + token + "\r\n"
	get := func(url string) error {
		return client.do("GET "+url+" HTTP/1.1\r\nHost: bench\r\n"+auth+"\r\n", http.StatusOK)
	}
	var posted atomic.Int64
	scenarios := []struct {
		name string
		op   func() error
	}{
		{"a-get-rls", func() error { return get("/rest/v1/items?id=eq." + strconv.Itoa(1+rand.IntN(benchRows))) }},
		{"a-alone", func() error {
			return aloneClient.do("GET /rest/v1/items?id=eq."+strconv.Itoa(1+rand.IntN(benchRows))+" HTTP/1.1\r\nHost: bench\r\n"+auth+"\r\n", http.StatusOK)
		}},
		{"b-post", func() error {
			body := `{"name":"new ` + strconv.FormatInt(posted.Add(1), 10) + `","price":1}`
			return client.do("POST /rest/v1/items HTTP/1.1\r\nHost: bench\r\n"+auth+
				"Content-Type: application/json\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body, http.StatusCreated)
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
			return client.do("GET /nope HTTP/1.1\r\nHost: bench\r\n\r\n", http.StatusNotFound)
		}},
		{"http-bare-404", func() error {
			return bareClient.do("GET /nope HTTP/1.1\r\nHost: bench\r\n\r\n", http.StatusNotFound)
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
	// CPU time charged to each scenario: PostgreSQL's (every server process)
	// and this process's (server, load generator and pgx together).
	pgCPU := make([]time.Duration, len(scenarios))
	goCPU := make([]time.Duration, len(scenarios))
	b.ResetTimer()
	const rounds = 3
	for range rounds {
		for i, s := range scenarios {
			t0, pg0, go0 := time.Now(), tdb.ServerCPU(), processCPU()
			l, err := load(s.op, time.Second)
			if err != nil {
				b.Fatalf("%s: %v", s.name, err)
			}
			elapsed[i] += time.Since(t0)
			pgCPU[i] += tdb.ServerCPU() - pg0
			goCPU[i] += processCPU() - go0
			lat[i] = append(lat[i], l...)
		}
	}
	b.StopTimer()
	rps := make([]float64, len(scenarios))
	cpu := map[string]float64{} // total CPU per request, µs, by scenario
	for i, s := range scenarios {
		slices.Sort(lat[i])
		n := float64(len(lat[i]))
		rps[i] = n / elapsed[i].Seconds()
		p50 := lat[i][len(lat[i])/2]
		p99 := lat[i][len(lat[i])*99/100]
		pgUS, goUS := float64(pgCPU[i].Microseconds())/n, float64(goCPU[i].Microseconds())/n
		cpu[s.name] = pgUS + goUS
		b.ReportMetric(rps[i], s.name+"-req/s")
		b.ReportMetric(float64(p50.Microseconds())/1000, s.name+"-p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, s.name+"-p99-ms")
		b.ReportMetric(pgUS, s.name+"-pg-cpu-us/req")
		b.ReportMetric(goUS, s.name+"-go-cpu-us/req")
		fmt.Printf("%-20s %9.0f req/s   p50 %7.2f ms   p99 %7.2f ms   cpu/req: postgres %5.1f us, go %5.1f us\n",
			s.name, rps[i], float64(p50.Microseconds())/1000, float64(p99.Microseconds())/1000, pgUS, goUS)
	}
	if last := len(rps) - 1; scenarios[0].name == "a-get-rls" {
		b.ReportMetric(rps[0]/rps[last], "a/d")
		fmt.Printf("(a)/(d) = %.2f\n", rps[0]/rps[last])
	}
	// (a) does at least what the 404 does (HTTP, middleware, load
	// generator) and what caller-pipeline does (role and claims setup plus a
	// statement as cheap as the floor's, coalesced). With both cores busy,
	// throughput goes as 1/CPU per request, so the floor's CPU over the sum
	// of those two is about the best (a)/(d) any handler could reach here.
	if web, caller, floor := cpu["http-only-404"], cpu["caller-pipeline"], cpu["d-pgx-floor"]; web > 0 && caller > 0 {
		b.ReportMetric(floor/(web+caller), "a/d-bound")
		fmt.Printf("(a)/(d) bound from its parts = %.2f (floor %.0f us of CPU per request; 404 %.0f us + caller pipeline %.0f us)\n",
			floor/(web+caller), floor, web, caller)
	}
}

// rawClient is the load generator's HTTP/1.1 client: keep-alive
// connections, requests written as prepared bytes and responses read just
// far enough to check the status and skip the body, so the generator spends
// little of the machine the server needs (as wrk would; net/http's client
// costs about as much CPU as the server it measures).
type rawClient struct {
	addr  string
	conns chan *rawConn
}

type rawConn struct {
	c net.Conn
	r *bufio.Reader
}

func (rc *rawClient) do(req string, want int) error {
	var c *rawConn
	select {
	case c = <-rc.conns:
	default:
		conn, err := net.Dial("tcp", rc.addr)
		if err != nil {
			return err
		}
		c = &rawConn{c: conn, r: bufio.NewReaderSize(conn, 16<<10)}
	}
	status, err := c.roundTrip(req)
	if err != nil {
		c.c.Close()
		return err
	}
	select {
	case rc.conns <- c:
	default:
		c.c.Close()
	}
	if status != want {
		return fmt.Errorf("%s: status %d, want %d", strings.SplitN(req, "\r\n", 2)[0], status, want)
	}
	return nil
}

// roundTrip writes req and reads one response, returning its status.
func (c *rawConn) roundTrip(req string) (int, error) {
	if _, err := io.WriteString(c.c, req); err != nil {
		return 0, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, err
	}
	length, chunked := 0, false
	for {
		h, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(h) <= 2 {
			break
		}
		name, value, _ := strings.Cut(strings.TrimSpace(string(h)), ":")
		switch strings.ToLower(name) {
		case "content-length":
			length, _ = strconv.Atoi(strings.TrimSpace(value))
		case "transfer-encoding":
			chunked = strings.Contains(strings.ToLower(value), "chunked")
		}
	}
	if !chunked {
		_, err = c.r.Discard(length)
		return status, err
	}
	for {
		h, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(h)), 16, 64)
		if err != nil {
			return 0, err
		}
		if _, err := c.r.Discard(int(n) + 2); err != nil {
			return 0, err
		}
		if n == 0 {
			return status, nil
		}
	}
}

// processCPU is the CPU time this process has used (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
