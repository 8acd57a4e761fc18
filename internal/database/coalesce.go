package database

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// coalescer sends the pipelined transactions of concurrent requests to
// PostgreSQL together. A worker takes the first waiting transaction and every
// other one already queued (up to maxBatch), and writes them to one
// connection as one pipeline: each transaction is its own caller setup and
// statements closed by its own Sync, so each is its own implicit transaction
// that commits or fails alone, exactly as if it had been sent by itself.
//
// Under load this turns many round trips into one write and one wake-up of
// the backend, which is most of what a short request costs PostgreSQL and
// this process; an idle server sends every transaction at once, alone. The
// price is head-of-line blocking inside a batch: a slow statement delays the
// transactions sent behind it on the same connection (statement_timeout
// bounds it), and a request whose client goes away is not cancelled once it
// was sent. A transaction still queued when every worker has been stuck on
// its batch for stallAfter is sent alone on a connection of its own, as is
// one that finds the queue full, so a few slow statements cannot hold up the
// queue.
type coalescer struct {
	pool       *pgxpool.Pool
	jobs       chan *job
	maxBatch   int
	stallAfter time.Duration
	workers    sync.WaitGroup
	// busySince is when each worker sent its current batch (UnixNano), 0
	// while it waits for work.
	busySince []atomic.Int64

	mu     sync.RWMutex // held for writing only to close jobs
	closed bool

	states *connStates

	batches, transactions, stalledAlone, fullAlone atomic.Uint64
}

// PipelineStats counts what the request pool's coalescing did since Open.
// Transactions/Batches is the mean number of transactions per pipeline.
type PipelineStats struct {
	Batches      uint64 // pipelines sent
	Transactions uint64 // transactions they carried
	// Transactions sent alone on a connection of their own: taken back from
	// the queue because every worker was stuck (Stalled), or never queued
	// because the queue was full (QueueFull).
	Stalled, QueueFull uint64
}

// PipelineStats returns the coalescing counters (all zero when
// DB_PIPELINE_DEPTH=1).
func (d *DB) PipelineStats() PipelineStats {
	c := d.coalesce
	if c == nil {
		return PipelineStats{}
	}
	return PipelineStats{Batches: c.batches.Load(), Transactions: c.transactions.Load(),
		Stalled: c.stalledAlone.Load(), QueueFull: c.fullAlone.Load()}
}

// job is one pipelined transaction waiting for a worker.
type job struct {
	ctx   context.Context
	stmts []Statement // the caller setup first
	state atomic.Int32
	err   error
	done  chan struct{}
}

// A job is queued until a worker takes it or its submitter takes it back
// (to send it alone, or because its context ended).
const (
	jobQueued int32 = iota
	jobTaken
	jobTakenBack
)

// queueSize is how many transactions wait for a worker before more are sent
// alone: enough for every request a busy server holds at once.
const queueSize = 1024

// stmtCacheSize bounds the statements a coalescer keeps prepared on one
// connection; the least recently used are deallocated.
const stmtCacheSize = 256

func newCoalescer(pool *pgxpool.Pool, states *connStates, workers, maxBatch int, stallAfter time.Duration) *coalescer {
	c := &coalescer{
		pool:       pool,
		jobs:       make(chan *job, queueSize),
		maxBatch:   maxBatch,
		stallAfter: stallAfter,
		busySince:  make([]atomic.Int64, workers),
		states:     states,
	}
	for w := range workers {
		c.workers.Add(1)
		go c.work(&c.busySince[w])
	}
	return c
}

// errClosed is what a transaction submitted after Close gets.
var errClosed = errors.New("database is closed")

// do queues stmts as one transaction and waits until it ran; alone runs the
// same transaction by itself, for when the queue is full or the workers are
// stalled.
func (c *coalescer) do(ctx context.Context, stmts []Statement, alone func() error) error {
	j := &job{ctx: ctx, stmts: stmts, done: make(chan struct{})}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return errClosed
	}
	select {
	case c.jobs <- j:
	default:
		// The queue is full: the workers are behind (or stalled), and this
		// transaction takes a connection of its own rather than wait.
		c.mu.RUnlock()
		c.fullAlone.Add(1)
		return alone()
	}
	c.mu.RUnlock()
	// A worker that takes the job always finishes it.
	stall := time.NewTimer(c.stallAfter)
	defer stall.Stop()
	for {
		select {
		case <-j.done:
			return j.err
		case <-ctx.Done():
			if j.state.CompareAndSwap(jobQueued, jobTakenBack) {
				return ctx.Err()
			}
		case <-stall.C:
			if c.stalled() && j.state.CompareAndSwap(jobQueued, jobTakenBack) {
				c.stalledAlone.Add(1)
				return alone()
			}
			stall.Reset(c.stallAfter)
			continue
		}
		<-j.done
		return j.err
	}
}

// stalled says whether every worker has been on its batch for stallAfter.
func (c *coalescer) stalled() bool {
	limit := time.Now().Add(-c.stallAfter).UnixNano()
	for i := range c.busySince {
		if since := c.busySince[i].Load(); since == 0 || since > limit {
			return false
		}
	}
	return true
}

// close stops the workers after they finished every queued transaction.
func (c *coalescer) close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.jobs)
	}
	c.mu.Unlock()
	c.workers.Wait()
}

func (c *coalescer) work(busySince *atomic.Int64) {
	defer c.workers.Done()
	batch := make([]*job, 0, c.maxBatch)
	take := func(j *job) {
		// A job its submitter took back is no longer this worker's.
		if j.state.CompareAndSwap(jobQueued, jobTaken) {
			batch = append(batch, j)
		}
	}
	for j := range c.jobs {
		batch = batch[:0]
		take(j)
	fill:
		for len(batch) < c.maxBatch {
			select {
			case j, ok := <-c.jobs:
				if !ok {
					break fill
				}
				take(j)
			default:
				break fill
			}
		}
		if len(batch) > 0 {
			c.batches.Add(1)
			c.transactions.Add(uint64(len(batch)))
			busySince.Store(time.Now().UnixNano())
			c.run(batch)
			busySince.Store(0)
		}
		clear(batch)
	}
}

func (j *job) finish(err error) {
	j.err = err
	close(j.done)
}

// run sends one batch on one connection.
func (c *coalescer) run(batch []*job) {
	send := make([]*job, 0, len(batch))
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.finish(err)
			continue
		}
		send = append(send, j)
	}
	if len(send) == 0 {
		return
	}
	// The jobs' contexts only gate the queue: once sent, a transaction runs
	// to its end (statement_timeout bounds it).
	ctx := context.Background()
	conn, err := c.pool.Acquire(ctx)
	if err != nil {
		for _, j := range send {
			j.finish(fmt.Errorf("acquire connection: %w", err))
		}
		return
	}
	defer conn.Release()
	pc := conn.Conn().PgConn()
	sc := c.states.get(pc).stmts
	send = sc.prepare(ctx, pc, send)
	if len(send) > 0 {
		sc.execute(ctx, conn.Conn(), send)
	}
}

// stmtCache is the statements prepared on one connection, least recently
// used last. Only the connection's current holder touches it.
type stmtCache struct {
	entries map[string]*list.Element // SQL -> *cachedStmt
	lru     list.List
	next    int
	stale   []string // names to deallocate with the next preparation
}

type cachedStmt struct {
	sql string
	sd  *pgconn.StatementDescription
}

func newStmtCache() *stmtCache { return &stmtCache{entries: map[string]*list.Element{}} }

// reset forgets every statement, after the connection deallocated them all.
func (sc *stmtCache) reset() {
	clear(sc.entries)
	sc.lru.Init()
	sc.stale = sc.stale[:0]
}

func (sc *stmtCache) get(sql string) *pgconn.StatementDescription {
	if e, ok := sc.entries[sql]; ok {
		sc.lru.MoveToFront(e)
		return e.Value.(*cachedStmt).sd
	}
	return nil
}

func (sc *stmtCache) drop(sql string) {
	if e, ok := sc.entries[sql]; ok {
		cs := sc.lru.Remove(e).(*cachedStmt)
		delete(sc.entries, sql)
		sc.stale = append(sc.stale, cs.sd.Name)
	}
}

// prepare makes sure every statement of jobs is prepared on pc, preparing
// the missing ones in one round trip, and returns the jobs that can run:
// a job whose statement fails to prepare is finished with that error.
func (sc *stmtCache) prepare(ctx context.Context, pc *pgconn.PgConn, jobs []*job) []*job {
	var fresh []string
	for _, j := range jobs {
		for _, s := range j.stmts {
			if sc.get(s.SQL) == nil && !slices.Contains(fresh, s.SQL) {
				fresh = append(fresh, s.SQL)
			}
		}
	}
	if len(fresh) == 0 {
		return jobs
	}
	for sc.lru.Len()+len(fresh) > stmtCacheSize && sc.lru.Len() > 0 {
		sc.drop(sc.lru.Back().Value.(*cachedStmt).sql)
	}
	names := make([]string, len(fresh))
	p := pc.StartPipeline(ctx)
	for _, name := range sc.stale {
		p.SendDeallocate(name)
	}
	if len(sc.stale) > 0 {
		p.SendPipelineSync()
	}
	for i, sql := range fresh {
		sc.next++
		names[i] = "pgstack_" + strconv.Itoa(sc.next)
		p.SendPrepare(names[i], sql, nil)
		p.SendPipelineSync()
	}
	failed := map[string]error{}
	err := p.Flush()
	if err == nil && len(sc.stale) > 0 {
		err = readToSync(p, nil)
	}
	if err == nil {
		sc.stale = sc.stale[:0]
	}
	for i, sql := range fresh {
		if err != nil {
			failed[sql] = err
			continue
		}
		var res any
		res, err = p.GetResults()
		if _, isPg := PgError(err); isPg {
			// Parse may have created the statement before Describe failed.
			sc.stale = append(sc.stale, names[i])
			failed[sql], err = err, readToSync(p, nil)
			continue
		}
		if err != nil {
			failed[sql] = err
			continue
		}
		sd, ok := res.(*pgconn.StatementDescription)
		if !ok {
			err = fmt.Errorf("prepare: unexpected result %T", res)
			failed[sql] = err
			continue
		}
		sd.Name, sd.SQL = names[i], sql
		sc.entries[sql] = sc.lru.PushFront(&cachedStmt{sql: sql, sd: sd})
		err = readToSync(p, nil)
	}
	if cerr := p.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		// The connection is broken (a statement's own error is a *PgError
		// and was consumed above): nothing can run on it.
		for _, j := range jobs {
			j.finish(err)
		}
		return nil
	}
	ready := jobs[:0]
	for _, j := range jobs {
		var jerr error
		for i, s := range j.stmts {
			if e, ok := failed[s.SQL]; ok {
				jerr = wrapStatementError(i, e)
				break
			}
		}
		if jerr != nil {
			j.finish(jerr)
			continue
		}
		ready = append(ready, j)
	}
	return ready
}

// readToSync reads the results up to the next Sync; the first statement
// error among them is returned through firstErr when it is not nil.
func readToSync(p *pgconn.Pipeline, firstErr *error) error {
	for {
		res, err := p.GetResults()
		if err != nil {
			if _, ok := PgError(err); ok {
				if firstErr != nil && *firstErr == nil {
					*firstErr = err
				}
				continue
			}
			return err
		}
		switch r := res.(type) {
		case *pgconn.PipelineSync:
			return nil
		case *pgconn.ResultReader:
			if _, err := r.Close(); err != nil {
				if _, ok := PgError(err); !ok {
					return err
				}
				if firstErr != nil && *firstErr == nil {
					*firstErr = err
				}
			}
		case nil:
			return errors.New("pipeline: results ended before Sync")
		}
	}
}

func wrapStatementError(i int, err error) error {
	if i == 0 {
		return fmt.Errorf("set up caller transaction: %w", err)
	}
	return err
}

// encoded is one statement's bind values, copied out of the query builder.
type encoded struct {
	name          string
	values        [][]byte
	paramFormats  []int16
	resultFormats []int16
}

// execute sends jobs as one pipeline, each closed by its own Sync, and
// reads each job's results as they arrive.
func (sc *stmtCache) execute(ctx context.Context, conn *pgx.Conn, jobs []*job) {
	tm := conn.TypeMap()
	var eqb pgx.ExtendedQueryBuilder
	binds := make([][]encoded, len(jobs))
	sendable := make([]bool, len(jobs))
	for i, j := range jobs {
		binds[i] = make([]encoded, len(j.stmts))
		sendable[i] = true
		for k, s := range j.stmts {
			sd := sc.get(s.SQL)
			if err := eqb.Build(tm, sd, s.Args); err != nil {
				j.finish(wrapStatementError(k, err))
				sendable[i] = false
				break
			}
			e := encoded{name: sd.Name, values: make([][]byte, len(eqb.ParamValues)),
				paramFormats: append([]int16(nil), eqb.ParamFormats...), resultFormats: append([]int16(nil), eqb.ResultFormats...)}
			for v, b := range eqb.ParamValues {
				if b != nil {
					e.values[v] = append([]byte(nil), b...)
				}
			}
			binds[i][k] = e
		}
	}
	pc := conn.PgConn()
	p := pc.StartPipeline(ctx)
	for i := range jobs {
		if !sendable[i] {
			continue
		}
		for _, e := range binds[i] {
			p.SendQueryPrepared(e.name, e.values, e.paramFormats, e.resultFormats)
		}
		p.SendPipelineSync()
	}
	connErr := p.Flush()
	for i, j := range jobs {
		if !sendable[i] {
			continue
		}
		if connErr != nil {
			j.finish(connErr)
			continue
		}
		var jerr error
		jerr, connErr = readJob(p, tm, j)
		if connErr != nil && jerr == nil {
			jerr = connErr
		}
		if pgErr, ok := PgError(jerr); ok && (pgErr.Code == "0A000" || pgErr.Code == "26000") {
			// "cached plan must not change result type" (the schema changed
			// under a prepared statement) or a statement that is gone:
			// prepare them again next time.
			for _, s := range j.stmts {
				sc.drop(s.SQL)
			}
		}
		j.finish(jerr)
	}
	// Every result was read; a Close error means the connection is broken,
	// and the pool drops a closed connection when it is released.
	_ = p.Close()
}

// readJob reads one job's results through its Sync: the job's own error,
// and an error that broke the connection.
func readJob(p *pgconn.Pipeline, tm *pgtype.Map, j *job) (jobErr, connErr error) {
	for k, s := range j.stmts {
		res, err := p.GetResults()
		if err != nil {
			if _, ok := PgError(err); ok {
				// PostgreSQL skips the rest of the transaction.
				return wrapStatementError(k, err), readToSync(p, nil)
			}
			return nil, err
		}
		rr, ok := res.(*pgconn.ResultReader)
		if !ok {
			return nil, fmt.Errorf("pipeline: unexpected result %T", res)
		}
		rows := pgx.RowsFromResultReader(tm, rr)
		if s.Scan != nil {
			err = scan(s.Scan, rows)
		}
		rows.Close()
		// A statement error shows as rows ending early; it explains whatever
		// Scan made of that.
		if rerr := rows.Err(); rerr != nil {
			if _, ok := PgError(rerr); ok || err == nil {
				err = rerr
			}
		}
		if err != nil {
			if _, ok := PgError(err); ok {
				return wrapStatementError(k, err), readToSync(p, nil)
			}
			// The client failed to read the rows: the transaction still
			// ends at its Sync (as with a batch), its error is the job's.
			return err, readToSync(p, nil)
		}
	}
	// An error at commit (a deferred constraint) arrives before the Sync.
	var commitErr error
	if err := readToSync(p, &commitErr); err != nil {
		return nil, err
	}
	return commitErr, nil
}

// scan runs a statement's Scan on a worker, where a panic would take the
// whole process down rather than the one request: it becomes the job's error.
func scan(f func(pgx.Rows) error, rows pgx.Rows) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("reading the rows panicked: %v", p)
		}
	}()
	return f(rows)
}
