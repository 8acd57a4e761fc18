// Package postgrest is pgStack's PostgREST-compatible REST API: a request is
// parsed (parse.go, headers.go), planned against the schema cache (schema.go,
// plan.go, call.go), rendered as one SQL statement (sql.go), run in one
// pipelined transaction as the caller, and answered (respond.go) with the
// body PostgreSQL built.
package postgrest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgstack/pgstack/internal/database"
	"github.com/pgstack/pgstack/internal/httperr"
	"github.com/pgstack/pgstack/internal/identity"
	"github.com/pgstack/pgstack/internal/jwt"
	"github.com/pgstack/pgstack/internal/requestlog"
)

// Handler serves /rest/v1. Mount it with the prefix stripped.
type Handler struct {
	DB     *database.DB
	Schema *Schema
	// MaxRows caps the rows of every read node (REST_MAX_ROWS); 0 is no cap.
	MaxRows int64
	// Aggregates allows aggregate functions in select (REST_AGGREGATES).
	Aggregates bool
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h.serve(w, r); err != nil {
		WriteError(w, r, err)
	}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) error {
	cache := h.Schema.Current()
	if cache == nil {
		return newError(http.StatusServiceUnavailable, CodeSchemaCacheMissing, "Could not query the database for the schema cache. Retrying.")
	}
	path := strings.Trim(r.URL.Path, "/")
	segs := strings.Split(path, "/")
	if path == "" {
		return h.root(w, r, cache)
	}
	rpc := false
	switch {
	case len(segs) == 1:
	case len(segs) == 2 && segs[0] == "rpc":
		rpc = true
		segs = segs[1:]
	default:
		return newError(http.StatusNotFound, CodePath, "Invalid path specified in request URL")
	}
	resource := segs[0]

	write := r.Method != http.MethodGet && r.Method != http.MethodHead
	profile := r.Header.Get("Accept-Profile")
	if write {
		profile = r.Header.Get("Content-Profile")
	}
	profile = strings.TrimSpace(profile)

	if r.Method == http.MethodOptions {
		return h.options(w, cache, profile, resource, rpc)
	}

	media, err := ParseAccept(r.Header.Get("Accept"), false)
	if err != nil {
		return err
	}
	prefs, err := ParsePrefer(r.Header)
	if err != nil {
		return err
	}
	q, err := ParseQuery(r.URL.RawQuery, rpc && (r.Method == http.MethodGet || r.Method == http.MethodHead))
	if err != nil {
		return err
	}
	req := &Request{Method: r.Method, Resource: resource, RPC: rpc, Profile: profile, Query: q, Prefs: prefs,
		Media: media, ContentType: r.Header.Get("Content-Type")}
	if r.Method == http.MethodGet {
		if lower, upper, ok := ParseRangeHeader(r.Header.Get("Range")); ok {
			req.RangeLower, req.RangeUpper = lower, upper
		}
	}
	if write && r.Body != nil {
		if req.Body, err = io.ReadAll(r.Body); err != nil {
			return err
		}
	}
	plan, err := Planner{Cache: cache, MaxRows: h.MaxRows, Aggregates: h.Aggregates}.Plan(req)
	if err != nil {
		return err
	}
	st := BuildSQL(plan)
	res, err := h.execute(r, plan, st)
	if err != nil {
		return err
	}
	shownProfile := ""
	if profile != "" || len(cache.Schemas) > 1 {
		shownProfile = plan.Schema
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		w.Header().Set("Content-Location", contentLocation(r.URL.Path, r.URL.RawQuery))
	}
	return Respond(w, plan, res, shownProfile)
}

// execute runs the plan's statement in one pipelined transaction as the
// caller and returns its row.
func (h *Handler) execute(r *http.Request, p *Plan, st Statement) (*Result, error) {
	caller := database.CallerFromRequest(r)
	caller.ReadOnly = p.ReadOnly
	caller.Settings = []database.Setting{{Name: "search_path", Value: searchPath(p.Schema)}}
	if p.Prefs.Timezone != "" {
		caller.Settings = append(caller.Settings, database.Setting{Name: "timezone", Value: p.Prefs.Timezone})
	}
	res := &Result{}
	var planRows []byte
	var stmts []database.Statement
	stmts = append(stmts, database.Statement{SQL: st.SQL, Args: st.Args, Scan: func(rows pgx.Rows) error {
		if !rows.Next() {
			return errors.New("statement returned no row")
		}
		return rows.Scan(&res.Total, &res.PageTotal, &res.Body, &res.ResponseHeaders, &res.ResponseStatus,
			&res.Inserted, &res.Location)
	}})
	if st.CountSQL != "" {
		stmts = append(stmts, database.Statement{SQL: st.CountSQL, Args: st.CountArgs, Scan: func(rows pgx.Rows) error {
			if rows.Next() {
				return rows.Scan(&planRows)
			}
			return nil
		}})
	}
	ending := database.Commit
	if p.Action == ActionCall {
		// A function may take any time: it must not hold up the requests
		// it would share a pipeline with.
		ending = database.CommitAlone
	}
	var checkErr *Error
	if NeedsDecision(p) {
		ending = database.Decide
	}
	err := h.DB.Pipeline(r.Context(), caller, ending, func() bool {
		checkErr = Check(p, res)
		return checkErr == nil && p.Prefs.Tx != "rollback"
	}, stmts...)
	if err != nil {
		return nil, asError(err, caller.Identity.Role == jwt.RoleAnon)
	}
	if st.CountSQL != "" {
		var plans []struct {
			Plan struct {
				Rows float64 `json:"Plan Rows"`
			} `json:"Plan"`
		}
		if json.Unmarshal(planRows, &plans) == nil && len(plans) > 0 {
			res.Total = CountTotal(p, res.Total, int64(plans[0].Plan.Rows))
		}
	}
	if checkErr != nil {
		return nil, checkErr
	}
	if ending != database.Decide {
		if e := Check(p, res); e != nil {
			return nil, e
		}
	}
	return res, nil
}

// CountTotal is the total of a read with a planner estimate: planned for
// count=planned; for count=estimated the exact count, which counts at most
// max-rows + 1 rows, unless it passed max-rows, then the larger of it and
// the estimate (PostgREST's estimated count).
func CountTotal(p *Plan, exact *int64, planned int64) *int64 {
	if p.Prefs.Count == "estimated" && exact != nil && (*exact <= p.MaxRows || *exact > planned) {
		return exact
	}
	return &planned
}

// contentLocation is the request path with its query parameters sorted by
// key, as PostgREST echoes it on reads.
func contentLocation(path, rawQuery string) string {
	if rawQuery == "" {
		return path
	}
	parts := strings.Split(rawQuery, "&")
	sort.SliceStable(parts, func(i, j int) bool {
		ki, _, _ := strings.Cut(parts[i], "=")
		kj, _, _ := strings.Cut(parts[j], "=")
		return ki < kj
	})
	return path + "?" + strings.Join(parts, "&")
}

func searchPath(schema string) string {
	if schema == "public" {
		return pgx.Identifier{schema}.Sanitize()
	}
	return pgx.Identifier{schema}.Sanitize() + ", " + pgx.Identifier{"public"}.Sanitize()
}

func (h *Handler) options(w http.ResponseWriter, c *Cache, profile, resource string, rpc bool) error {
	schema := c.Schemas[0]
	if profile != "" {
		schema = profile
	}
	allow := "OPTIONS,GET,HEAD,POST"
	if rpc {
		fs := c.Functions(schema, resource)
		if len(fs) == 0 {
			return newError(http.StatusNotFound, CodeNoFunction, "Could not find the function %s.%s in the schema cache", schema, resource)
		}
		if fs[0].Volatility == 'v' {
			allow = "OPTIONS,POST"
		}
	} else {
		t, ok := c.Table(schema, resource)
		if !ok {
			return newError(http.StatusNotFound, CodeNoTable, "Could not find the table '%s.%s' in the schema cache", schema, resource)
		}
		allow = allowed(t)
	}
	w.Header().Set("Allow", allow)
	w.WriteHeader(http.StatusOK)
	return nil
}

// WriteError renders err in PostgREST's format: translator errors, database
// errors (SQLSTATE mapped to HTTP) and identity failures (PGRST301/303).
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	anon := identity.From(r.Context()).Role == jwt.RoleAnon
	e := identityError(err)
	if e == nil {
		e = asError(err, anon)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		e = &Error{Status: http.StatusGatewayTimeout, Code: "PGRST003", Message: "The request was cancelled or timed out", cause: err}
	}
	log := requestlog.Logger(r.Context())
	if e.Status >= 500 {
		log.LogAttrs(r.Context(), slog.LevelError, "request failed", slog.Int("status", e.Status),
			slog.String("code", e.Code), slog.Any("error", e.cause))
	} else {
		log.LogAttrs(r.Context(), slog.LevelDebug, "request rejected", slog.Int("status", e.Status),
			slog.String("code", e.Code), slog.String("message", e.Message))
	}
	for k, v := range e.Headers {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(e.body())
}

// identityError maps a token failure of identity.Resolve to PostgREST's
// codes; nil if err is not one.
func identityError(err error) *Error {
	var msg, code string
	switch {
	case errors.Is(err, jwt.ErrExpired):
		code, msg = CodeJWTClaims, "JWT expired"
	case errors.Is(err, jwt.ErrNotValidYet):
		code, msg = CodeJWTClaims, "JWT not yet valid"
	case errors.Is(err, jwt.ErrAlgorithm):
		code, msg = CodeJWTDecode, "Wrong or unsupported encoding algorithm"
	case errors.Is(err, jwt.ErrSignature):
		code, msg = CodeJWTDecode, "JWT cryptographic operation failed"
	case errors.Is(err, jwt.ErrRole):
		code, msg = CodeJWTClaims, "JWT role is not allowed"
	case errors.Is(err, jwt.ErrMalformed):
		code, msg = CodeJWTDecode, "JWT is malformed"
	default:
		var he *httperr.Error
		if errors.As(err, &he) && he.Code == httperr.CodeInvalidToken {
			code, msg = CodeJWTDecode, "Authorization header must be: Bearer <token>"
		} else {
			return nil
		}
	}
	return &Error{Status: http.StatusUnauthorized, Code: code, Message: msg, cause: err,
		Headers: map[string]string{"WWW-Authenticate": `Bearer error="invalid_token", error_description="` + msg + `"`}}
}
