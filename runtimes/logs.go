package runtimes

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgstack/pgstack/gen/db"
)

// LogEntry is one invocation's record.
type LogEntry struct {
	Function  string
	RequestID string
	Method    string
	Status    int
	Duration  time.Duration
	Error     string
	Console   string
}

// logQueue bounds the invocation records waiting to be written.
const logQueue = 4096

// Logs writes invocation records to pgstack.edge_function_logs off the
// request path. When the queue is full records are dropped and counted, so a
// slow database never slows invocations down.
type Logs struct {
	queries *db.Queries
	log     *slog.Logger
	ch      chan LogEntry
	dropped atomic.Int64
}

// NewLogs starts the writer; it stops when done is closed or the owner pool
// is gone.
func NewLogs(owner *pgxpool.Pool, log *slog.Logger, done <-chan struct{}) *Logs {
	l := &Logs{queries: db.New(owner), log: log, ch: make(chan LogEntry, logQueue)}
	go l.write(owner, done)
	return l
}

// Record queues e.
func (l *Logs) Record(e LogEntry) {
	select {
	case l.ch <- e:
	default:
		if l.dropped.Add(1)%1000 == 1 {
			l.log.Warn("function log queue full: invocation records dropped", "dropped", l.dropped.Load())
		}
	}
}

// logBatch is the most records written in one COPY.
const logBatch = 512

// write takes what is queued, up to logBatch records, and writes it with one
// COPY, so the log costs the database one round trip per batch, not per
// invocation.
func (l *Logs) write(owner *pgxpool.Pool, done <-chan struct{}) {
	ctx := context.Background()
	batch := make([]db.InsertEdgeFunctionLogsParams, 0, logBatch)
	for {
		batch = batch[:0]
		select {
		case <-done:
			return
		case e := <-l.ch:
			batch = append(batch, logParams(e))
		}
	drain:
		for len(batch) < logBatch {
			select {
			case e := <-l.ch:
				batch = append(batch, logParams(e))
			default:
				break drain
			}
		}
		if _, err := l.queries.InsertEdgeFunctionLogs(ctx, batch); err != nil {
			c, aerr := owner.Acquire(ctx)
			if aerr != nil && (isClosed(aerr) || isFatalConnectError(aerr)) {
				return
			}
			if c != nil {
				c.Release()
			}
			l.log.Warn("write function logs", "records", len(batch), "error", err)
		}
	}
}

func logParams(e LogEntry) db.InsertEdgeFunctionLogsParams {
	return db.InsertEdgeFunctionLogsParams{
		FunctionName: e.Function, RequestID: e.RequestID, Method: e.Method,
		Status: int32(e.Status), DurationMs: float64(e.Duration.Microseconds()) / 1000,
		Error: optional(e.Error), Console: optional(e.Console),
	}
}

func isClosed(err error) bool { return err != nil && err.Error() == errClosedPool.Error() }
