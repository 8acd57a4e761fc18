// Package sqlrun runs operator SQL for POST /api/sql: one or more statements
// through the owner connection, in one implicit transaction (the simple
// query protocol), returning the last statement's rows as JSON values.
package sqlrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// MaxRows caps the rows returned.
const MaxRows = 10000

// Result is the last statement's outcome.
type Result struct {
	Command string
	Rows    []map[string]any
}

// StatementError is an error PostgreSQL reported for the SQL itself (a 400).
type StatementError struct{ PgErr *pgconn.PgError }

func (e *StatementError) Error() string { return e.PgErr.Message }

// Run runs query on the owner pool.
func Run(ctx context.Context, owner *pgxpool.Pool, query string) (Result, error) {
	conn, err := owner.Acquire(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	results, err := conn.Conn().PgConn().Exec(ctx, query).ReadAll()
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			return Result{}, &StatementError{PgErr: pgErr}
		}
		return Result{}, fmt.Errorf("run sql: %w", err)
	}
	out := Result{Rows: []map[string]any{}}
	if len(results) == 0 {
		return out, nil
	}
	last := results[len(results)-1]
	out.Command = last.CommandTag.String()
	m := conn.Conn().TypeMap()
	for i, raw := range last.Rows {
		if i == MaxRows {
			break
		}
		row := make(map[string]any, len(raw))
		for j, fd := range last.FieldDescriptions {
			row[fd.Name] = decode(m, fd, raw[j])
		}
		out.Rows = append(out.Rows, row)
	}
	return out, nil
}

func decode(m *pgtype.Map, fd pgconn.FieldDescription, raw []byte) any {
	if raw == nil {
		return nil
	}
	t, ok := m.TypeForOID(fd.DataTypeOID)
	if !ok {
		return string(raw)
	}
	v, err := t.Codec.DecodeValue(m, fd.DataTypeOID, fd.Format, raw)
	if err != nil {
		return string(raw)
	}
	switch x := v.(type) {
	case [16]byte:
		return fmt.Sprintf("%x-%x-%x-%x-%x", x[0:4], x[4:6], x[6:8], x[8:10], x[10:16])
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case nil, bool, string, int16, int32, int64, float32, float64, map[string]any, []any:
		return x
	}
	b, err := json.Marshal(v)
	if err != nil {
		return string(raw)
	}
	var j any
	if json.Unmarshal(b, &j) != nil {
		return string(raw)
	}
	return j
}
