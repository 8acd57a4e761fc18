package postgrest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgstack/pgstack/internal/httperr"
)

// PostgREST error codes (PGRSTxxx). Clients match on them.
const (
	CodeParse              = "PGRST100"
	CodeRPCMethod          = "PGRST101"
	CodeBody               = "PGRST102"
	CodeRange              = "PGRST103"
	CodePutFilters         = "PGRST105"
	CodeSchema             = "PGRST106"
	CodeMediaType          = "PGRST107"
	CodeNotEmbedded        = "PGRST108"
	CodePutLimit           = "PGRST114"
	CodePutPayload         = "PGRST115"
	CodeSingular           = "PGRST116"
	CodeMethod             = "PGRST117"
	CodeRelatedOrder       = "PGRST118"
	CodeEmbedFilter        = "PGRST120"
	CodePreferences        = "PGRST122"
	CodeAggregates         = "PGRST123"
	CodeMaxAffected        = "PGRST124"
	CodePath               = "PGRST125"
	CodeMaxAffectedRPC     = "PGRST128"
	CodeNoRelationship     = "PGRST200"
	CodeAmbiguousRelation  = "PGRST201"
	CodeNoFunction         = "PGRST202"
	CodeAmbiguousFunction  = "PGRST203"
	CodeNoColumn           = "PGRST204"
	CodeNoTable            = "PGRST205"
	CodeJWTDecode          = "PGRST301"
	CodeJWTClaims          = "PGRST303"
	CodeSchemaCacheMissing = "PGRST002"
	CodeInternal           = "PGRSTX00"
)

// Error is an error in PostgREST's wire format: {code, details, hint,
// message}. Details is usually a string and sometimes a JSON array
// (PGRST201). The cause is for logs only.
type Error struct {
	Status  int
	Code    string
	Message string
	Details any
	Hint    any
	// Headers are added to the response (WWW-Authenticate on 401).
	Headers map[string]string
	cause   error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.Status, e.Code, e.Message, e.cause)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.cause }

func newError(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) withDetails(d any) *Error { e.Details = d; return e }
func (e *Error) withHint(h any) *Error    { e.Hint = h; return e }

// parseError is PGRST100 with the part that failed to parse.
func parseError(what, value, details string) *Error {
	return newError(http.StatusBadRequest, CodeParse, "\"failed to parse %s (%s)\"", what, value).withDetails(details)
}

func bodyError(format string, args ...any) *Error {
	return newError(http.StatusBadRequest, CodeBody, format, args...)
}

// body is the JSON shape of every /rest/v1 error. Null details and hints are
// serialised as null, never left out.
type body struct {
	Code    string `json:"code"`
	Details any    `json:"details"`
	Hint    any    `json:"hint"`
	Message string `json:"message"`
}

func (e *Error) body() body {
	return body{Code: e.Code, Details: e.Details, Hint: e.Hint, Message: e.Message}
}

// FromPg maps a PostgreSQL error to PostgREST's HTTP status (mapSQLtoHTTP),
// keeping the server's message, detail and hint. anon says whether the
// caller is the anonymous role (42501 is 401 for anon, 403 otherwise).
func FromPg(pgErr *pgconn.PgError, anon bool) *Error {
	e := &Error{Status: pgStatus(pgErr, anon), Code: pgErr.Code, Message: pgErr.Message, cause: pgErr}
	if pgErr.Detail != "" {
		e.Details = pgErr.Detail
	}
	if pgErr.Hint != "" {
		e.Hint = pgErr.Hint
	}
	if e.Status == http.StatusUnauthorized {
		e.Headers = map[string]string{"WWW-Authenticate": "Bearer"}
	}
	if pgErr.Code == "PGRST" {
		raised(e, pgErr)
	}
	return e
}

// raised applies RAISE SQLSTATE 'PGRST' USING message = '{code, message,
// details, hint}', detail = '{status, headers}'.
func raised(e *Error, pgErr *pgconn.PgError) {
	var m struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details any    `json:"details"`
		Hint    any    `json:"hint"`
	}
	var d struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
	}
	if json.Unmarshal([]byte(pgErr.Message), &m) != nil || json.Unmarshal([]byte(pgErr.Detail), &d) != nil ||
		d.Status < 100 || d.Status > 599 {
		*e = Error{Status: http.StatusInternalServerError, Code: "PGRST121",
			Message: "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error", cause: pgErr}
		return
	}
	*e = Error{Status: d.Status, Code: m.Code, Message: m.Message, Details: m.Details, Hint: m.Hint, Headers: d.Headers, cause: pgErr}
}

func pgStatus(e *pgconn.PgError, anon bool) int {
	code := e.Code
	class := code[:min(2, len(code))]
	switch code {
	case "23503", "23505":
		return http.StatusConflict
	case "25006":
		return http.StatusMethodNotAllowed
	case "21000":
		if strings.HasSuffix(e.Message, "requires a WHERE clause") {
			return http.StatusBadRequest
		}
		return http.StatusInternalServerError
	case "22023":
		if strings.HasPrefix(e.Message, "role ") && strings.HasSuffix(e.Message, "does not exist") {
			return http.StatusUnauthorized
		}
		return http.StatusBadRequest
	case "53400":
		return http.StatusInternalServerError
	case "57P01":
		return http.StatusServiceUnavailable
	case "P0001":
		return http.StatusBadRequest
	case "42883":
		if strings.HasPrefix(e.Message, "function xmlagg(") {
			return http.StatusNotAcceptable
		}
		return http.StatusNotFound
	case "42P01":
		return http.StatusNotFound
	case "42P17":
		return http.StatusInternalServerError
	case "42501":
		if anon {
			return http.StatusUnauthorized
		}
		return http.StatusForbidden
	}
	if strings.HasPrefix(code, "PT") && len(code) == 5 {
		if n, err := strconv.Atoi(code[2:]); err == nil && n >= 100 && n <= 599 {
			return n
		}
	}
	switch class {
	case "08", "53":
		return http.StatusServiceUnavailable
	case "0L", "0P", "28":
		return http.StatusForbidden
	case "09", "25", "2D", "38", "39", "3B", "40", "54", "55", "57", "58", "F0", "HV", "XX", "P0":
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// asError turns any error of the translator or the database into an *Error.
func asError(err error, anon bool) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return FromPg(pgErr, anon)
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeBody,
			Message: fmt.Sprintf("request body is larger than %d bytes", tooLarge.Limit), cause: err}
	}
	// Errors raised before the translator (body limit, panics) in PostgREST's shape.
	var platform *httperr.Error
	if errors.As(err, &platform) {
		e := &Error{Status: platform.Status, Code: platform.Code, Message: platform.Message, cause: err}
		switch {
		case platform.Status == http.StatusRequestEntityTooLarge:
			e.Code = CodeBody
		case platform.Status >= 500:
			e.Code = CodeInternal
		}
		return e
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal server error", cause: err}
}
