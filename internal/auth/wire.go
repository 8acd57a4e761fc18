package auth

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/pgstack/pgstack/internal/httperr"
	"github.com/pgstack/pgstack/internal/requestlog"
)

// APIVersionHeader selects GoTrue's error format.
const APIVersionHeader = "X-Supabase-Api-Version"

// apiVersion20240101 is the first version with the {code, message} format.
var apiVersion20240101 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// newFormat reports whether the request asked for the 2024-01-01 format.
func newFormat(r *http.Request) bool {
	v, err := time.Parse("2006-01-02", strings.TrimSpace(r.Header.Get(APIVersionHeader)))
	return err == nil && !v.Before(apiVersion20240101)
}

type weakPasswordBody struct {
	Message string   `json:"message,omitempty"`
	Reasons []string `json:"reasons"`
}

type newErrorBody struct {
	Code         string            `json:"code"`
	Message      string            `json:"message"`
	ErrorID      string            `json:"error_id,omitempty"`
	WeakPassword *weakPasswordBody `json:"weak_password,omitempty"`
}

type legacyErrorBody struct {
	Code         int               `json:"code"`
	ErrorCode    string            `json:"error_code,omitempty"`
	Msg          string            `json:"msg"`
	ErrorID      string            `json:"error_id,omitempty"`
	WeakPassword *weakPasswordBody `json:"weak_password,omitempty"`
}

// fromError maps any error to an auth *Error: errors raised before a route
// (identity, body size, decoding) keep their status with GoTrue's codes;
// anything unknown is a 500 whose cause stays in the log.
func fromError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	err = transient(err)
	if errors.As(err, &e) {
		return e
	}
	h := httperr.From(err)
	switch {
	case h.Code == httperr.CodeInvalidToken:
		return forbidden(CodeBadJWT, "invalid JWT: unable to parse or verify signature, %s", h.Message).withCause(err)
	case h.Status == http.StatusRequestEntityTooLarge:
		return newError(h.Status, CodeRequestTooLarge, "%s", h.Message).withCause(err)
	case h.Status == http.StatusGatewayTimeout:
		return newError(h.Status, CodeRequestTimeout, "Processing this request timed out, please retry after a moment.").withCause(err)
	case h.Status == http.StatusServiceUnavailable:
		return newError(h.Status, CodeUnexpectedFailure, "The request was cancelled, please retry.").withCause(err)
	case h.Status == http.StatusBadRequest:
		return badRequest(CodeBadJSON, "Could not parse request body as JSON: %s", h.Message).withCause(err)
	case h.Status == http.StatusNotFound:
		return newError(h.Status, CodeNotFound, "%s", h.Message)
	case h.Status < 500:
		return newError(h.Status, CodeValidationFailed, "%s", h.Message).withCause(err)
	}
	return newError(http.StatusInternalServerError, CodeUnexpectedFailure, "Unexpected failure, please check server logs for more information").withCause(err)
}

// WriteError renders err in GoTrue's format: {code, message} when the
// request sent X-Supabase-Api-Version 2024-01-01 or later (the header is
// echoed), the legacy {code: status, error_code, msg} otherwise. 5xx are
// logged with their cause and carry the request id.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := fromError(err)
	log := requestlog.Logger(r.Context())
	if e.Status >= 500 {
		log.LogAttrs(r.Context(), slog.LevelError, "auth request failed",
			slog.Int("status", e.Status), slog.String("code", e.Code), slog.Any("error", e.cause))
	} else {
		log.LogAttrs(r.Context(), slog.LevelDebug, "auth request rejected",
			slog.Int("status", e.Status), slog.String("code", e.Code), slog.String("message", e.Message))
	}
	var weak *weakPasswordBody
	if len(e.Reasons) > 0 {
		weak = &weakPasswordBody{Message: e.Message, Reasons: e.Reasons}
	}
	w.Header().Set("X-Sb-Error-Code", e.Code)
	errorID := ""
	if e.Status >= 500 {
		errorID = requestlog.ID(r.Context())
	}
	if newFormat(r) {
		w.Header().Set(APIVersionHeader, "2024-01-01")
		httperr.WriteJSON(w, e.Status, newErrorBody{Code: e.Code, Message: e.Message, ErrorID: errorID, WeakPassword: weak})
		return
	}
	httperr.WriteJSON(w, e.Status, legacyErrorBody{Code: e.Status, ErrorCode: e.Code, Msg: e.Message, ErrorID: errorID, WeakPassword: weak})
}

// WriteRequestError renders a request the generated code could not decode:
// a body past the size limit stays 413, anything else is bad_json.
func WriteRequestError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		if h := httperr.From(err); h.Status == http.StatusRequestEntityTooLarge {
			e = newError(h.Status, CodeRequestTooLarge, "%s", h.Message)
		} else {
			e = badRequest(CodeBadJSON, "Could not parse request body as JSON: %v", err)
		}
	}
	WriteError(w, r, e)
}

// WriteParamError renders a malformed query or path parameter.
func WriteParamError(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(w, r, badRequest(CodeValidationFailed, "%v", err))
}
